"""The guided decoder: the VAE's frames finished with the warp of the picture at the output size."""
import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from motionworld.model.config import preset
from motionworld.model.guided_decoder import hard_paste
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
        up = F.interpolate(base.flatten(0, 1), scale_factor=2, mode="bilinear", align_corners=False).unflatten(0, (1, 9))
        torch.testing.assert_close(vae.decode(latents, clamp=False, warp=warp, valid=torch.zeros_like(valid)), up)
        torch.testing.assert_close(vae.decode(latents, clamp=False), up)  # no warp = nothing valid
        out = vae.decode(latents, clamp=False, warp=warp, valid=valid)
    gate = torch.sigmoid(torch.tensor(-2.0))
    torch.testing.assert_close(out, up + gate * valid[:, :, None] * (warp - up))


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
