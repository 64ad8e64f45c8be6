"""Track encoder, tiny VAE, text encoders and sampler."""
import numpy as np
import pytest
import torch

from motionworld.model.config import TAEW2_1, TextConfig, TrackConfig, VAEConfig
from motionworld.model.sampler import euler, few_step, joint_guidance, shift_sigma, shifted_levels, step_levels
from motionworld.model.text_encoder import WordTextEncoder
from motionworld.model.tiny_vae import TinyVAE
from motionworld.model.track_encoder import TrackEncoder, draw_ids, occluded_tracks, sample_appearance, sinusoidal_codes

# ---------------------------------------------------------------- track encoder


def test_a_moving_track_lights_the_right_cells_and_latent_frames():
    enc = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2))
    t = 9  # first chunk: latent 0 = frame 0, latents 1, 2 = frames 1-4, 5-8
    xs = np.linspace(4, 60, t)  # moves right by 7 px per frame across a 64 px wide image
    tracks = torch.tensor(np.stack([xs, np.full(t, 20.0)], -1)[:, None], dtype=torch.float32)
    vis = torch.ones(t, 1, dtype=torch.bool)
    codes = sinusoidal_codes(torch.tensor([7]), 8)
    maps = enc.rasterize(tracks[None], vis[None], codes[None], 32, 64)  # height 32, width 64 -> [1, T, d, h=4, w=8]
    for f in range(t):
        lit = torch.nonzero(maps[0, f].abs().sum(0))
        assert lit.tolist() == [[20 // 8, int(xs[f]) // 8]]
        torch.testing.assert_close(maps[0, f, :, 2, int(xs[f]) // 8], codes[0])
    packed = enc.pack(maps, from_start=True)  # [1, 4d, 3, h, w]
    assert packed.shape == (1, 32, 3, 4, 8)
    # latent 0 is frame 0 repeated; latent 2's last sub-frame is frame 8
    for j in range(4):
        torch.testing.assert_close(packed[0, j * 8:(j + 1) * 8, 0], maps[0, 0])
    torch.testing.assert_close(packed[0, 24:32, 2], maps[0, 8])
    torch.testing.assert_close(packed[0, 0:8, 1], maps[0, 1])
    assert enc(tracks, vis, codes, 32, 64, from_start=True).shape == (1, 2, 3, 4, 8)
    assert enc.pack(maps[:, 1:], from_start=False).shape == (1, 32, 2, 4, 8)


def test_invisible_nan_and_offscreen_tracks_write_nothing():
    enc = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2))
    tracks = torch.tensor([[[10.0, 10.0], [np.nan, 5.0], [-3.0, 5.0], [64.0, 5.0], [5.0, 1e9], [np.inf, 1.0],
                            [30.0, 30.0]]])
    vis = torch.tensor([[True, True, True, True, True, True, False]])
    codes = sinusoidal_codes(draw_ids(7, torch.Generator().manual_seed(0)), 8)
    maps = enc.rasterize(tracks[None], vis[None], codes[None], 32, 64)
    assert torch.nonzero(maps[0, 0].abs().sum(0)).tolist() == [[1, 1]]
    torch.testing.assert_close(maps[0, 0, :, 1, 1], codes[0])
    none = enc.rasterize(tracks[None], torch.zeros_like(vis)[None], codes[None], 32, 64)
    assert torch.count_nonzero(none) == 0


def test_the_three_track_states_reach_the_encoder_as_three_different_features():
    """Visible writes the track's code, occluded counts in the occlusion channel, unspecified writes
    nothing: three different inputs to the convs, and three different features out of them."""
    enc = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2, occlusion=True))
    torch.nn.init.normal_(enc.proj[0].weight, generator=torch.Generator().manual_seed(0))
    torch.nn.init.normal_(enc.proj[0].bias, generator=torch.Generator().manual_seed(1))
    codes = sinusoidal_codes(torch.tensor([5]), 8)
    at = torch.tensor([[[[12.0, 4.0]]]])  # one track in cell (0, 1)
    states = {"visible": (True, False), "occluded": (False, True), "unspecified": (False, False)}
    maps, feats = {}, {}
    for name, (visible, hidden) in states.items():
        vis, occ = torch.tensor([[[visible]]]), torch.tensor([[[hidden]]])
        maps[name] = enc.rasterize(at, vis, codes[None], 8, 16, occluded=occ)[0, 0, :, 0, 1]
        feats[name] = enc(at[0].expand(5, -1, -1), vis[0].expand(5, -1), codes, 8, 16, from_start=True,
                          occluded=occ[0].expand(5, -1))[0, :, 1, 0, 1]
    torch.testing.assert_close(maps["visible"], torch.cat([codes[0], torch.zeros(1)]))
    torch.testing.assert_close(maps["occluded"], torch.cat([torch.zeros(8), torch.ones(1)]))
    assert torch.count_nonzero(maps["unspecified"]) == 0
    names = list(states)
    for i in range(3):
        for j in range(i + 1, 3):
            assert not torch.allclose(feats[names[i]], feats[names[j]]), (names[i], names[j])
    # a model without the channel cannot tell occluded from unspecified: both write nothing
    plain = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2))
    hidden = plain.rasterize(at, torch.tensor([[[False]]]), codes[None], 8, 16, occluded=torch.tensor([[[True]]]))
    assert torch.count_nonzero(hidden) == 0


def test_occluded_tracks_are_the_finite_on_screen_invisible_ones():
    tracks = torch.tensor([[[4.0, 4.0], [4.0, 4.0], [np.nan, 4.0], [-1.0, 4.0], [4.0, 40.0]]])
    vis = torch.tensor([[True, False, False, False, False]])
    assert occluded_tracks(tracks, vis, 32, 32).tolist() == [[False, True, False, False, False]]


def _with_occlusion(config):
    import dataclasses

    return dataclasses.replace(config, tracks=dataclasses.replace(config.tracks, occlusion=True))


def test_dropped_tracks_are_unspecified_not_occluded(monkeypatch):
    """Condition dropout in training clears a track's occlusion too: 'no control' is not 'hidden'."""
    from motionworld.model.conditioning import Conditioner
    from motionworld.model.config import preset
    from motionworld.model.modules import TrackVideoModules

    c = _with_occlusion(preset("tiny"))
    cond = Conditioner(TrackVideoModules(c), c)
    batch = {"tracks": torch.full((1, 9, 4, 2), 20.0),  # on screen and invisible: occluded in the ground truth
             "visibility": torch.zeros(1, 9, 4, dtype=torch.bool)}
    latents = torch.zeros(1, c.dit.in_channels, 3, c.height // 8, c.width // 8)
    seen, original = [], TrackEncoder.rasterize

    def spy(self, tracks, visibility, codes, height, width, appearance=None, occluded=None):
        seen.append(occluded)
        return original(self, tracks, visibility, codes, height, width, appearance, occluded)

    monkeypatch.setattr(TrackEncoder, "rasterize", spy)
    for drop in (False, True):
        cond.condition(batch, latents, torch.Generator().manual_seed(0), torch.tensor([drop]))
    assert seen[0].all() and not seen[1].any()


def test_a_student_that_knows_occlusion_tells_hidden_points_from_no_control():
    from motionworld.model.config import preset
    from motionworld.model.student import StreamingStudent

    def first_chunk(config, occluded):
        student = StreamingStudent(config, seed=0)
        student.start(np.zeros((student.height, student.width, 3), np.uint8), "", seed=0)
        tracks = np.full((9, 4, 2), 20.0, np.float32)  # on screen, invisible
        return student.step(tracks, np.zeros((9, 4), bool), occluded=occluded)

    knows = _with_occlusion(preset("tiny"))
    default, hidden, unspecified = (first_chunk(knows, o)
                                    for o in (None, np.ones((9, 4), bool), np.zeros((9, 4), bool)))
    np.testing.assert_array_equal(default, hidden)  # by default a finite, on-screen, invisible track is hidden
    assert not np.array_equal(hidden, unspecified)
    plain = preset("tiny")
    np.testing.assert_array_equal(first_chunk(plain, np.ones((9, 4), bool)), first_chunk(plain, None))


def test_two_tracks_in_one_cell_add_up():
    enc = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2))
    codes = sinusoidal_codes(torch.tensor([1, 2]), 8)
    maps = enc.rasterize(torch.tensor([[[[1.0, 1.0], [6.0, 6.0]]]]), torch.ones(1, 1, 2, dtype=torch.bool),
                         codes[None], 8, 8)
    torch.testing.assert_close(maps[0, 0, :, 0, 0], codes.sum(0))


def test_appearance_is_sampled_where_each_track_starts():
    latent = torch.arange(2 * 4 * 8, dtype=torch.float32).reshape(1, 2, 4, 8)  # [B, C, h=4, w=8], stride 8
    # cell (1, 3)'s centre (pixel centres are whole numbers: cell j spans pixels 8j .. 8j + 7), NaN,
    # far off, and the picture's left edge
    starts = torch.tensor([[[8 * 3 + 3.5, 8 * 1 + 3.5], [np.nan, 3.0], [-40.0, 10.0], [-0.5, 8 * 2 + 3.5]]])
    got = sample_appearance(latent, starts, 8)
    assert got.shape == (1, 4, 2)
    torch.testing.assert_close(got[0, 0], latent[0, :, 1, 3])
    assert torch.count_nonzero(got[0, 1:3]) == 0
    torch.testing.assert_close(got[0, 3], latent[0, :, 2, 0])  # the edge cell, not dimmed towards zero
    between = sample_appearance(latent, torch.tensor([[[8 * 3 + 7.5, 8 * 1 + 3.5]]]), 8)  # halfway to the next cell
    torch.testing.assert_close(between[0, 0], (latent[0, :, 1, 3] + latent[0, :, 1, 4]) / 2)


def test_appearance_moves_with_the_tracks_averaged_per_cell_with_coverage():
    enc = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2, appearance_dim=3))
    codes = sinusoidal_codes(torch.tensor([1, 2, 3]), 8)
    look = torch.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0], [9.0, 9.0, 9.0]])
    # frame 0: tracks 0, 1 share cell (0, 0), track 2 in cell (0, 1); frame 1: all move down one cell,
    # track 2 hidden
    tracks = torch.tensor([[[1.0, 1.0], [6.0, 6.0], [12.0, 2.0]], [[1.0, 9.0], [6.0, 14.0], [12.0, 10.0]]])
    vis = torch.tensor([[True, True, True], [True, True, False]])
    maps = enc.rasterize(tracks[None], vis[None], codes[None], 16, 16, look[None])  # [1, 2, 8 + 3 + 1, 2, 2]
    assert maps.shape == (1, 2, 12, 2, 2)
    torch.testing.assert_close(maps[0, 0, :8, 0, 0], codes[:2].sum(0))      # IDs still add up
    torch.testing.assert_close(maps[0, 0, 8:11, 0, 0], look[:2].mean(0))    # appearance is averaged
    torch.testing.assert_close(maps[0, 0, 8:11, 0, 1], look[2])
    torch.testing.assert_close(maps[0, 1, 8:11, 1, 0], look[:2].mean(0))    # and moves with the tracks
    assert maps[0, 0, 11].tolist() == [[1.0, 1.0], [0.0, 0.0]]              # coverage marks where tracks landed
    assert maps[0, 1, 11].tolist() == [[0.0, 0.0], [1.0, 0.0]]              # a hidden track leaves a hole
    assert enc(tracks[:1], vis[:1], codes, 16, 16, from_start=True, appearance=look[None]).shape == (1, 2, 1, 2, 2)
    with pytest.raises(ValueError, match="needs appearance"):
        enc(tracks, vis, codes, 16, 16, from_start=True)
    plain = TrackEncoder(TrackConfig(code_dim=8, hidden=4, out_channels=2))
    with pytest.raises(ValueError, match="no appearance"):
        plain(tracks, vis, codes, 16, 16, from_start=True, appearance=look[None])


# ---------------------------------------------------------------- tiny VAE

# the published taew2_1 state dict (madebyollin/taehv), written out here, not fetched
def published_taew2_1():
    keys = {"encoder.0.weight": (64, 3, 3, 3), "encoder.0.bias": (64,), "encoder.17.weight": (16, 64, 3, 3),
            "encoder.17.bias": (16,), "decoder.1.weight": (256, 16, 3, 3), "decoder.1.bias": (256,),
            "decoder.7.conv.weight": (256, 256, 1, 1), "decoder.8.weight": (128, 256, 3, 3),
            "decoder.13.conv.weight": (256, 128, 1, 1), "decoder.14.weight": (64, 128, 3, 3),
            "decoder.19.conv.weight": (128, 64, 1, 1), "decoder.20.weight": (64, 64, 3, 3),
            "decoder.22.weight": (3, 64, 3, 3), "decoder.22.bias": (3,)}
    for i in (2, 7):
        keys[f"encoder.{i}.conv.weight"] = (64, 128, 1, 1)
    keys["encoder.12.conv.weight"] = (64, 64, 1, 1)
    for i in (3, 8, 13):
        keys[f"encoder.{i}.weight"] = (64, 64, 3, 3)

    def memblock(prefix, n):
        keys[f"{prefix}.conv.0.weight"] = (n, 2 * n, 3, 3)
        for j in (0, 2, 4):
            keys[f"{prefix}.conv.{j}.bias"] = (n,)
        for j in (2, 4):
            keys[f"{prefix}.conv.{j}.weight"] = (n, n, 3, 3)

    for i in (4, 5, 6, 9, 10, 11, 14, 15, 16):
        memblock(f"encoder.{i}", 64)
    for idx, n in (((3, 4, 5), 256), ((9, 10, 11), 128), ((15, 16, 17), 64)):
        for i in idx:
            memblock(f"decoder.{i}", n)
    return keys


def test_taew2_1_preset_matches_the_published_keys():
    sd = TinyVAE(TAEW2_1).state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == published_taew2_1()


SMALL = VAEConfig(encoder_width=8, encoder_blocks=1, decoder_widths=(16, 8, 8, 8), decoder_blocks=2)


def test_streaming_decode_equals_parallel_decode():
    torch.manual_seed(0)
    vae = TinyVAE(SMALL).eval()
    z = torch.randn(2, 7, 16, 4, 6)
    with torch.no_grad():
        whole = vae.decode(z)
        assert whole.shape == (2, 25, 3, 32, 48)
        dec = vae.streaming_decoder()
        one_by_one = torch.cat([dec(z[:, i:i + 1]) for i in range(7)], 1)
        dec.reset()
        chunks = [dec(z[:, :3]), dec(z[:, 3:6]), dec(z[:, 6:])]
    assert [c.shape[1] for c in chunks] == [9, 12, 4]
    torch.testing.assert_close(one_by_one, whole, rtol=0, atol=1e-6)
    torch.testing.assert_close(torch.cat(chunks, 1), whole, rtol=0, atol=1e-6)
    # frame-causal: later latents do not change earlier frames
    with torch.no_grad():
        z2 = z.clone()
        z2[:, 5:] = torch.randn_like(z2[:, 5:])
        torch.testing.assert_close(vae.decode(z2)[:, :17], whole[:, :17])


def test_encoder_frame_alignment():
    torch.manual_seed(0)
    vae = TinyVAE(SMALL).eval()
    video = torch.rand(1, 9, 3, 32, 32)
    with torch.no_grad():
        z = vae.encode(video)
        assert z.shape == (1, 3, 16, 4, 4)
        # latent 0 depends on frame 0 only; latent 1 on frames 1-4 (and memory of the past)
        changed = video.clone()
        changed[:, 5:] = 0
        z2 = vae.encode(changed)
    torch.testing.assert_close(z2[:, :2], z[:, :2])
    assert not torch.allclose(z2[:, 2], z[:, 2])
    assert vae.encode(video[:, :1]).shape == (1, 1, 16, 4, 4)


# ---------------------------------------------------------------- text encoders


def test_word_encoder_hashes_unknown_words_and_pads_with_zeros():
    torch.manual_seed(0)
    enc = WordTextEncoder(TextConfig(dim=16, layers=1, heads=2, max_tokens=6, hash_buckets=32,
                                     vocab=("red", "ball", "grass"))).eval()
    assert enc.token_ids("A red ball!") [:1] == [1]
    assert enc.token_ids("red ball") == [1, 2, 3]
    unknown = enc.token_ids("zebra")[1]
    assert unknown >= 5 and unknown == enc.token_ids("ZEBRA crossing")[1]  # stable, case-insensitive
    with torch.no_grad():
        out = enc(["red ball on grass", ""])
    assert out.shape == (2, 6, 16)
    assert torch.count_nonzero(out[0, 5:]) == 0 and torch.count_nonzero(out[0, :5].abs().sum(-1)) == 5
    null = out[1]
    assert torch.count_nonzero(null[1:]) == 0 and null[0].abs().sum() > 0  # "" is a learned output
    assert enc(["x " * 50]).shape == (1, 6, 16)  # long prompts are truncated


def test_umt5_adapter_reads_a_local_folder(tmp_path):
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    from motionworld.errors import MotionWorldError
    from motionworld.model.text_encoder import UMT5TextEncoder

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, "a": 3, "red": 4, "ball": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                                                unk_token="<unk>")
    fast.save_pretrained(tmp_path)
    cfg = transformers.UMT5Config(vocab_size=8, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2,
                                  relative_attention_num_buckets=4)
    transformers.UMT5EncoderModel(cfg).save_pretrained(tmp_path)
    enc = UMT5TextEncoder(tmp_path, max_tokens=8)
    out = enc(["a red ball", ""])
    assert out.shape == (2, 8, 16) and enc.dim == 16
    assert torch.count_nonzero(out[0, 3:]) == 0 and torch.count_nonzero(out[0, :3].abs().sum(-1)) == 3
    with pytest.raises(MotionWorldError, match="not found"):
        UMT5TextEncoder(tmp_path / "missing")


# ---------------------------------------------------------------- sampler


def test_joint_guidance_formula_and_cfg_limit():
    g = torch.Generator().manual_seed(0)
    v_cm, v_0m, v_c0 = (torch.randn(2, 3, 4, generator=g) for _ in range(3))
    w_t, w_m = 3.0, 1.5
    a = w_t / (w_t + w_m)
    expected = a * v_0m + (1 - a) * v_c0 + w_t * (v_cm - v_0m) + w_m * (v_cm - v_c0)
    torch.testing.assert_close(joint_guidance(v_cm, v_0m, v_c0, w_t, w_m), expected)
    torch.testing.assert_close(joint_guidance(v_cm, v_0m, v_c0, 4.0, 0.0), v_0m + 4.0 * (v_cm - v_0m))
    torch.testing.assert_close(joint_guidance(v_cm, v_0m, v_c0, 0.0, 0.0), v_cm)
    torch.testing.assert_close(joint_guidance(v_cm, v_0m, v_c0, 1.0, 0.0), v_cm)


class CountingDiT(torch.nn.Module):
    """A small real DiT that records the batch size of every call."""

    def __init__(self):
        super().__init__()
        from motionworld.model.config import DiTConfig
        from motionworld.model.transformer import CausalWanTransformer
        torch.manual_seed(0)
        self.dit = CausalWanTransformer(DiTConfig(num_attention_heads=2, attention_head_dim=8, text_dim=8, freq_dim=16,
                                                  ffn_dim=16, num_layers=1, track_channels=3)).eval()
        self.batches = []

    def forward(self, x, t, text, condition=None, attention="full"):
        self.batches.append(x.shape[0])
        return self.dit(x, t, text, condition=condition, attention=attention)


@pytest.mark.parametrize("w_t,w_m,nfe", [(3.0, 1.5, 3), (0.0, 1.5, 2), (3.0, 0.0, 2), (0.0, 0.0, 1)])
def test_guided_v_skips_predictions_whose_weight_is_zero_and_matches_the_full_formula(w_t, w_m, nfe):
    from motionworld.model.conditioning import frame_timesteps
    from motionworld.model.teacher_sampling import guidance_nfe, guided_v
    g = torch.Generator().manual_seed(1)
    B, F = 2, 3
    x = torch.randn(B, 16, F, 4, 4, generator=g)
    cond_full, cond_none = torch.randn(B, 3, F, 4, 4, generator=g), torch.zeros(B, 3, F, 4, 4)
    text_full, text_none = torch.randn(B, 5, 8, generator=g), torch.zeros(B, 5, 8)
    sigma = torch.tensor([0.7, 0.3])
    dit = CountingDiT()
    with torch.no_grad():
        got = guided_v(dit, x, sigma, cond_full, cond_none, text_full, text_none, w_t, w_m)
        assert dit.batches == [B * nfe] and guidance_nfe(w_t, w_m) == nfe
        t = frame_timesteps(sigma, F)
        v_cm, v_0m, v_c0 = (dit.dit(x, t, tx, condition=c).float()
                            for c, tx in [(cond_full, text_full), (cond_full, text_none), (cond_none, text_full)])
    torch.testing.assert_close(got, joint_guidance(v_cm, v_0m, v_c0, w_t, w_m), atol=1e-5, rtol=1e-4)


def test_levels_and_samplers_recover_the_target():
    assert step_levels(3) == (1.0, 2 / 3, 1 / 3)
    assert shift_sigma(1.0, 5.0) == 1.0 and shift_sigma(0.0, 5.0) == 0.0
    assert abs(shift_sigma(0.5, 5.0) - 5 / 6) < 1e-12
    sig = shifted_levels(step_levels(4), 5.0)
    assert sig[0] == 1.0 and all(a > b for a, b in zip(sig, sig[1:]))
    target = torch.randn(1, 4, 2, 3)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(target.shape, generator=g)

    def oracle(x, s):  # the exact v for a single-point data distribution
        return (x - target) / s if s > 0 else torch.zeros_like(x)

    out = few_step(oracle, noise, sig, lambda: torch.randn(target.shape, generator=g))
    torch.testing.assert_close(out, target)
    torch.testing.assert_close(euler(oracle, noise, sig), target, rtol=1e-5, atol=1e-5)


def test_training_conditions_carry_the_warp_and_its_dropout():
    """Conditioner: a batch's warp and validity become the DiT's warp channels; a batch without a
    warp, and a dropped one, say the geometry gives nothing (validity 0)."""
    import dataclasses

    from motionworld.model.conditioning import Conditioner
    from motionworld.model.config import WarpConfig, preset
    from motionworld.model.modules import TrackVideoModules

    c = preset("tiny")
    c = dataclasses.replace(c, dit=dataclasses.replace(c.dit, warp_channels=4),
                            warp=WarpConfig(widths=(8, 8, 8), out_channels=4))
    cond = Conditioner(TrackVideoModules(c), c)
    g = torch.Generator().manual_seed(0)
    T = 9
    batch = {"tracks": torch.full((1, T, 3, 2), 10.0), "visibility": torch.ones(1, T, 3, dtype=torch.bool),
             "warp": torch.rand(1, T, 3, 64, 64, generator=g), "warp_valid": torch.ones(1, T, 64, 64)}
    latents = torch.zeros(1, c.dit.in_channels, 3, 8, 8)
    keep = torch.tensor([False])
    full = cond.condition(batch, latents, torch.Generator().manual_seed(1), keep)
    assert full.shape[1] == c.dit.track_channels + 4
    none = cond.condition({k: batch[k] for k in ("tracks", "visibility")}, latents, torch.Generator().manual_seed(1),
                          keep)
    dropped = cond.condition(batch, latents, torch.Generator().manual_seed(1), keep, drop_warp=torch.tensor([True]))
    torch.testing.assert_close(none, dropped)
    torch.testing.assert_close(full[:, :4], none[:, :4])  # the track channels are the same
    assert not torch.allclose(full[:, 4:], none[:, 4:])
