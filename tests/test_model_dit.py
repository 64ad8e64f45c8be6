"""The DiT equals diffusers' WanTransformer3DModel with the same weights, in both key layouts."""
import pytest
import torch
from diffusers import WanTransformer3DModel

from motionworld.errors import MotionWorldError
from motionworld.model.config import WAN_1_3B, DiTConfig
from motionworld.model.transformer import CausalWanTransformer
from motionworld.model.wan_weights import load_wan_weights, original_to_diffusers_key

CONFIGS = [
    dict(num_attention_heads=2, attention_head_dim=24, text_dim=20, freq_dim=16, ffn_dim=40, num_layers=2),
    dict(num_attention_heads=3, attention_head_dim=32, text_dim=12, freq_dim=32, ffn_dim=64, num_layers=3),
]
SHAPES = [(1, 2, 4, 4), (2, 5, 6, 10)]  # batch, latent frames, height, width (second: non-square, several frames)


def pair(cfg, seed=0):
    torch.manual_seed(seed)
    ref = WanTransformer3DModel(patch_size=(1, 2, 2), in_channels=16, out_channels=16, cross_attn_norm=True,
                                qk_norm="rms_norm_across_heads", eps=1e-6, **cfg).eval()
    ours = CausalWanTransformer(DiTConfig(**cfg)).eval()
    return ref, ours


@pytest.mark.parametrize("cfg,shape", list(zip(CONFIGS, SHAPES)))
def test_full_attention_equals_diffusers(cfg, shape):
    ref, ours = pair(cfg)
    report = load_wan_weights(ours, ref.state_dict())
    assert report["layout"] == "diffusers"
    b, f, h, w = shape
    g = torch.Generator().manual_seed(1)
    x = torch.randn(b, 16, f, h, w, generator=g)
    ctx = torch.randn(b, 7, cfg["text_dim"], generator=g)
    t = torch.tensor([999.0, 250.0][:b])
    with torch.no_grad():
        expected = ref(x, t, ctx).sample
        got = ours(x, t, ctx)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)

    # per-latent-frame timesteps equal diffusers' per-token timesteps (Wan 2.2 TI2V path)
    tf = torch.rand(b, f, generator=g) * 1000
    per_token = tf.repeat_interleave((h // 2) * (w // 2), dim=1)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, tf, ctx), ref(x, per_token, ctx).sample, rtol=1e-5, atol=1e-5)


# the original Wan names, written from the published mapping table (not from our converter)
def to_original(key: str) -> str:
    top = {"condition_embedder.text_embedder.linear_1": "text_embedding.0",
           "condition_embedder.text_embedder.linear_2": "text_embedding.2",
           "condition_embedder.time_embedder.linear_1": "time_embedding.0",
           "condition_embedder.time_embedder.linear_2": "time_embedding.2",
           "condition_embedder.time_proj": "time_projection.1", "proj_out": "head.head"}
    if key == "scale_shift_table":
        return "head.modulation"
    for new, old in top.items():
        if key.startswith(new + "."):
            return old + key[len(new):]
    key = key.replace("scale_shift_table", "modulation")
    key = key.replace("ffn.net.0.proj", "ffn.0").replace("ffn.net.2", "ffn.2")
    key = key.replace(".norm2.", ".norm3.")  # the cross-attention norm is norm3 in the original
    for a, b in (("attn1", "self_attn"), ("attn2", "cross_attn")):
        key = key.replace(f"{a}.to_out.0", f"{b}.o")
        for p in "qkv":
            key = key.replace(f"{a}.to_{p}", f"{b}.{p}")
        key = key.replace(f"{a}.norm_", f"{b}.norm_")
    return key


def test_original_layout_converts_and_matches():
    cfg = CONFIGS[1]
    ref, ours = pair(cfg, seed=3)
    original = {to_original(k): v for k, v in ref.state_dict().items()}
    assert "blocks.0.norm3.weight" in original and "head.modulation" in original
    assert "blocks.1.self_attn.o.weight" in original and "blocks.2.modulation" in original
    for k in original:
        assert original_to_diffusers_key(k) in ref.state_dict()
    assert load_wan_weights(ours, original)["layout"] == "original"
    x, ctx = torch.randn(1, 16, 3, 4, 6), torch.randn(1, 5, cfg["text_dim"])
    with torch.no_grad():
        torch.testing.assert_close(ours(x, torch.tensor([500.0]), ctx), ref(x, torch.tensor([500.0]), ctx).sample,
                                   rtol=1e-5, atol=1e-5)


def test_extend_channels_starts_as_wan(tmp_path):
    from safetensors.torch import save_file

    cfg = CONFIGS[0]
    ref, _ = pair(cfg, seed=5)
    path = tmp_path / "wan.safetensors"
    save_file(ref.state_dict(), str(path))
    big = CausalWanTransformer(DiTConfig(**cfg, track_channels=8, image_channels=20)).eval()
    with pytest.raises(MotionWorldError, match="extend_channels"):
        load_wan_weights(big, path)
    report = load_wan_weights(big, path, extend_channels=True)
    assert report["extended_channels"] == 28
    w = big.patch_embedding.weight
    assert w.shape[1] == 44 and torch.count_nonzero(w[:, 16:]) == 0
    x, ctx = torch.randn(1, 16, 2, 4, 4), torch.randn(1, 3, cfg["text_dim"])
    cond = torch.randn(1, 28, 2, 4, 4)
    with torch.no_grad():
        torch.testing.assert_close(big(x, 300.0, ctx, condition=cond), ref(x, torch.tensor([300.0]), ctx).sample,
                                   rtol=1e-5, atol=1e-5)


def test_mismatched_checkpoint_is_refused():
    ref, _ = pair(CONFIGS[0])
    other = CausalWanTransformer(DiTConfig(**{**CONFIGS[0], "num_layers": 3}))
    with pytest.raises(MotionWorldError, match=r"missing \d+ key.*blocks\.2\."):
        load_wan_weights(other, ref.state_dict())
    with pytest.raises(MotionWorldError, match="unknown key"):
        load_wan_weights(other, {"head.head.weight": torch.zeros(1), "blocks.0.self_attn.zz.weight": torch.zeros(1)})


def test_wan_1_3b_config_builds_with_the_published_keys():
    with torch.device("meta"):
        ours = CausalWanTransformer(WAN_1_3B)
        ref = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128,
                                    in_channels=16, out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960,
                                    num_layers=30, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6)
    a, b = ours.state_dict(), ref.state_dict()
    assert {k: tuple(v.shape) for k, v in a.items()} == {k: tuple(v.shape) for k, v in b.items()}
    assert tuple(a["blocks.29.ffn.net.0.proj.weight"].shape) == (8960, 1536)
    assert tuple(a["condition_embedder.time_proj.weight"].shape) == (9216, 1536)
    assert ours.rope.dims == (44, 42, 42)
    n = sum(v.numel() for v in a.values())
    assert n == 1_418_996_800  # the parameter count of the Wan2.1-T2V-1.3B transformer


@pytest.mark.slow
def test_wan_1_3b_runs_a_forward_pass():
    torch.manual_seed(0)
    model = CausalWanTransformer(WAN_1_3B).eval()
    x = torch.randn(1, 16, 1, 2, 2)
    with torch.no_grad():
        out = model(x, 500.0, torch.randn(1, 4, 4096))
    assert out.shape == x.shape and torch.isfinite(out).all()


def test_bfloat16_runs_close_to_float32():
    _, ours = pair(CONFIGS[0])
    x, ctx = torch.randn(1, 16, 3, 4, 4), torch.randn(1, 5, CONFIGS[0]["text_dim"])
    with torch.no_grad():
        ref = ours(x, 400.0, ctx)
        low = ours.to(torch.bfloat16)(x, 400.0, ctx)
    assert low.dtype == torch.bfloat16
    assert (low.float() - ref).abs().mean() < 0.05 * ref.abs().mean()
