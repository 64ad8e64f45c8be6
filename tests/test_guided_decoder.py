"""The guided decoder: the VAE's frames finished with the warp of the picture at the output size."""
import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from motionworld.model.config import preset
from motionworld.model.guided_decoder import GuidedDecoder, hard_paste, pull_push_fill
from motionworld.model.tiny_vae import TinyVAE


def _guided_vae(seed=0):
    torch.manual_seed(seed)
    vae = TinyVAE(preset("tiny-guided").vae).eval()
    with torch.no_grad():  # an open, busy head: the guide visibly changes the frames
        vae.guide.head.weight.normal_(0, 0.3)
    return vae


def _inputs(T_lat=3, h=4, w=6, scale=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    latents = torch.randn(1, T_lat, 16, h, w, generator=g)
    T, H, W = 4 * T_lat - 3, 8 * h * scale, 8 * w * scale
    warp = torch.rand(1, T, 3, H, W, generator=g)
    valid = (torch.rand(1, T, H, W, generator=g) > 0.4).float()
    return latents, warp, valid


def test_streaming_guided_decode_equals_the_whole_clip_decode():
    vae = _guided_vae()
    latents, warp, valid = _inputs(T_lat=5)
    with torch.no_grad():
        whole = vae.decode(latents, warp=warp, valid=valid)
        dec = vae.streaming_decoder()
        parts, t = [], 0
        for z in (latents[:, :2], latents[:, 2:3], latents[:, 3:]):  # any grouping of latents
            n = 4 * z.shape[1] - (3 if t == 0 else 0)
            parts.append(dec(z, warp[:, t:t + n], valid[:, t:t + n]))
            t += n
    streamed = torch.cat(parts, 1)
    assert whole.shape == (1, 17, 3, 64, 96)  # 2x the decode's 32x48: the output size comes from the warp
    torch.testing.assert_close(streamed, whole, rtol=0, atol=1e-5)


def test_where_nothing_is_valid_the_guide_paints_and_an_untrained_one_is_the_upsampled_decode():
    torch.manual_seed(0)
    vae = TinyVAE(preset("tiny-guided").vae).eval()  # fresh: residual 0, gate mostly shut
    plain = TinyVAE(dataclasses.replace(preset("tiny-guided").vae, guide_widths=(), output_scale=1)).eval()
    plain.load_state_dict({k: v for k, v in vae.state_dict().items() if not k.startswith("guide.")})
    latents, warp, valid = _inputs()
    with torch.no_grad():
        base = plain.decode(latents, clamp=False)
        up = F.interpolate(base.flatten(0, 1), scale_factor=2, mode="bilinear", align_corners=False).unflatten(
            0, (1, 9))
        torch.testing.assert_close(vae.decode(latents, clamp=False, warp=warp, valid=torch.zeros_like(valid)), up)
        torch.testing.assert_close(vae.decode(latents, clamp=False), up)  # no warp = nothing valid
        out = vae.decode(latents, clamp=False, warp=warp, valid=valid)
    gate = torch.sigmoid(torch.tensor(-2.0))
    torch.testing.assert_close(out, up + gate * valid[:, :, None] * (warp - up))


def test_pull_push_fill_keeps_the_valid_pixels_and_fills_holes_from_their_surroundings():
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(2, 3, 24, 40, generator=g)
    valid = (torch.rand(2, 1, 24, 40, generator=g) > 0.5).float()
    valid[..., 5:15, 10:30] = 0  # a big hole
    out = pull_push_fill(frames, valid)
    assert torch.allclose(out * valid, frames * valid, atol=1e-6)
    assert out.min() >= 0 and out.max() <= 1  # every filled pixel is a mean of seen ones
    left = torch.zeros(1, 1, 24, 40)
    left[..., :20] = 1
    red = torch.zeros(1, 3, 24, 40)
    red[:, 0, :, :20] = 1  # red where seen, black (unseen, so never used) on the right
    filled = pull_push_fill(red, left)
    assert torch.allclose(filled[:, 0], torch.ones(1, 24, 40), atol=1e-5) and filled[:, 1:].abs().max() < 1e-6
    # nothing to fill from
    assert torch.equal(pull_push_fill(frames, torch.zeros_like(valid)), torch.zeros_like(frames))


def test_a_guide_with_the_fill_paints_holes_with_it_only_where_something_is_seen():
    torch.manual_seed(0)
    guide = GuidedDecoder((8,), scale=2, fill=True).eval()
    decoded = torch.rand(1, 2, 3, 8, 12)
    warp, valid = torch.rand(1, 2, 3, 16, 24), torch.zeros(1, 2, 16, 24)
    valid[0, 0, :, :12] = 1  # frame 0: the left half seen; frame 1: nothing
    with torch.no_grad():
        out = guide(decoded, warp, valid)
        up = F.interpolate(decoded[0], size=(16, 24), mode="bilinear", align_corners=False)[None]
        fill = pull_push_fill(warp[0], valid[0][:, None])[None]
    g = torch.sigmoid(torch.tensor(-2.0))  # both gates start at 12 %, the head's weights at zero
    paint = up + g * (fill - up)
    torch.testing.assert_close(out[:, 0], (paint + g * valid[:, :, None] * (warp - paint))[:, 0])
    torch.testing.assert_close(out[:, 1], up[:, 1])  # no fill from a frame with nothing valid


def test_a_guide_grown_by_the_fill_starts_from_the_old_one():
    from motionworld.train.guide_stage import grown_guide

    torch.manual_seed(0)
    old = GuidedDecoder((8, 8), scale=2)
    with torch.no_grad():
        for p in old.parameters():
            p.normal_(0, 0.3)
    new = GuidedDecoder((8, 8), scale=2, fill=True)
    assert grown_guide(new, old) == "the student's guide, grown by the fill inputs (at zero)"
    with torch.no_grad():
        new.head.bias[4] = -30.0  # the fill gate shut: the grown guide is the old one exactly
        decoded, warp = torch.rand(1, 2, 3, 8, 12), torch.rand(1, 2, 3, 16, 24)
        valid = (torch.rand(1, 2, 16, 24) > 0.3).float()
        torch.testing.assert_close(new(decoded, warp, valid), old(decoded, warp, valid))
    same = GuidedDecoder((8, 8), scale=2)
    assert grown_guide(same, old) == "the student's guide" and torch.equal(same.head.weight, old.head.weight)
    assert grown_guide(GuidedDecoder((16,), scale=2, fill=True), old).startswith("fresh")


def test_hard_paste_keeps_every_valid_warp_pixel_and_the_upsampled_decode_elsewhere():
    decoded = torch.rand(1, 2, 3, 8, 8)
    warp, valid = torch.rand(1, 2, 3, 16, 16), torch.zeros(1, 2, 16, 16)
    valid[..., :8] = 1
    out = hard_paste(decoded, warp, valid)
    up = F.interpolate(decoded[0], size=(16, 16), mode="bilinear", align_corners=False)[None]
    assert torch.equal(out[..., :8], warp[..., :8]) and torch.allclose(out[..., 8:], up[..., 8:])


def test_a_guided_student_streams_frames_at_the_output_size_with_the_warp():
    from motionworld.model.student import StreamingStudent

    s = StreamingStudent("tiny-guided", seed=0)
    image = (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)
    s.start(image)
    assert s.output_size == (96, 128)
    n = s.frames_for_next_chunk()
    tracks = np.tile(np.array([[[8.0, 8.0], [40.0, 20.0]]], np.float32), (n, 1, 1))
    warp = np.full((n, 96, 128, 3), 200, np.uint8)
    frames = s.step(tracks, np.ones((n, 2), bool), warp=warp, warp_valid=np.ones((n, 96, 128), np.float32))
    assert frames.shape == (n, 96, 128, 3)
    s.step(np.tile(tracks[:1], (12, 1, 1)), np.ones((12, 2), bool))  # no warp: nothing valid, same size
