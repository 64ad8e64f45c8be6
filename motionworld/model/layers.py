"""Building blocks of the Wan 2.1 DiT with diffusers' parameter names (attn1/attn2/ffn, to_q/to_k/
to_v/to_out.0, norm_q/norm_k, scale_shift_table) so checkpoints load by name. Norms and adaLN
modulation run in float32 like diffusers, so bfloat16 weights behave the same way."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class FP32LayerNorm(nn.LayerNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.float() if self.weight is not None else None
        b = self.bias.float() if self.bias is not None else None
        return F.layer_norm(x.float(), self.normalized_shape, w, b, self.eps)


def timestep_sinusoid(t: torch.Tensor, dim: int) -> torch.Tensor:
    """[cos | sin] of t * 10000^(-i/half), float32 (diffusers Timesteps(flip_sin_to_cos=True, shift=0))."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[..., None] * freqs
    return torch.cat([angles.cos(), angles.sin()], -1)


class MLP2(nn.Module):
    """linear_1 -> activation -> linear_2 (diffusers TimestepEmbedding / PixArtAlphaTextProjection)."""

    def __init__(self, d_in: int, d_out: int, act: nn.Module):
        super().__init__()
        self.linear_1 = nn.Linear(d_in, d_out)
        self.act = act
        self.linear_2 = nn.Linear(d_out, d_out)

    def forward(self, x):
        return self.linear_2(self.act(self.linear_1(x)))


class ConditionEmbedder(nn.Module):
    def __init__(self, dim: int, freq_dim: int, text_dim: int):
        super().__init__()
        self.freq_dim = freq_dim
        self.time_embedder = MLP2(freq_dim, dim, nn.SiLU())
        self.act_fn = nn.SiLU()
        self.time_proj = nn.Linear(dim, dim * 6)
        self.text_embedder = MLP2(text_dim, dim, nn.GELU(approximate="tanh"))

    def time(self, timestep: torch.Tensor, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """timestep [B, F] -> temb [B, F, D], modulation [B, F, 6, D]."""
        sinus = timestep_sinusoid(timestep, self.freq_dim).to(self.time_embedder.linear_1.weight.dtype)
        temb = self.time_embedder(sinus).to(dtype)
        mod = self.time_proj(self.act_fn(temb))
        return temb, mod.unflatten(-1, (6, -1))


class GELUProj(nn.Module):
    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.proj = nn.Linear(d_in, d_out)

    def forward(self, x):
        return F.gelu(self.proj(x), approximate="tanh")


class FeedForward(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.net = nn.ModuleList([GELUProj(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class WanAttention(nn.Module):
    """q/k/v projections with RMSNorm over all heads at once (Wan's 'rms_norm_across_heads')."""

    def __init__(self, dim: int, heads: int, eps: float):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])
        self.norm_q = nn.RMSNorm(dim, eps=eps)
        self.norm_k = nn.RMSNorm(dim, eps=eps)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)  # [B, H, L, d]

    def key_value(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._heads(self.norm_k(self.to_k(context))), self._heads(self.to_v(context))

    def query(self, x: torch.Tensor) -> torch.Tensor:
        return self._heads(self.norm_q(self.to_q(x)))

    def output(self, heads_out: torch.Tensor, dtype) -> torch.Tensor:
        return self.to_out[0](heads_out.transpose(1, 2).flatten(2).to(dtype))


class WanBlock(nn.Module):
    def __init__(self, dim: int, ffn_dim: int, heads: int, cross_attn_norm: bool, eps: float):
        super().__init__()
        self.norm1 = FP32LayerNorm(dim, eps, elementwise_affine=False)
        self.attn1 = WanAttention(dim, heads, eps)
        self.attn2 = WanAttention(dim, heads, eps)
        self.norm2 = FP32LayerNorm(dim, eps, elementwise_affine=True) if cross_attn_norm else nn.Identity()
        self.ffn = FeedForward(dim, ffn_dim)
        self.norm3 = FP32LayerNorm(dim, eps, elementwise_affine=False)
        self.scale_shift_table = nn.Parameter(torch.randn(1, 6, dim) / dim ** 0.5)

    def forward(self, x: torch.Tensor, mod: torch.Tensor, text_kv, self_attend, layer: int,
                frames: int, write_only: bool = False) -> torch.Tensor | None:
        """x [B, F*L, D]; mod [B, F, 6, D] (per latent frame); text_kv: this block's cross-attn K/V;
        self_attend(layer, q, k, v, need_output) places RoPE and attends. With write_only the block
        only feeds the KV cache (a clean pass's last block) and returns None."""
        b, n, d = x.shape
        e = (self.scale_shift_table.float()[:, None] + mod.float()).unbind(2)  # 6 x [B, F, D]
        shift_msa, scale_msa, gate_msa, c_shift, c_scale, c_gate = (t[:, :, None] for t in e)

        def per_frame(t):
            return t.view(b, frames, n // frames, d)

        h = (per_frame(self.norm1(x)) * (1 + scale_msa) + shift_msa).view(b, n, d).to(x.dtype)
        a1 = self.attn1
        k, v = a1.key_value(h)
        out = self_attend(layer, a1.query(h), k, v, not write_only)
        if write_only:
            return None
        attn = per_frame(a1.output(out, x.dtype))
        x = (per_frame(x.float()) + attn * gate_msa).view(b, n, d).to(x.dtype)

        h = self.norm2(x.float()).to(x.dtype) if isinstance(self.norm2, FP32LayerNorm) else x
        ck, cv = text_kv
        q = self.attn2.query(h)
        x = x + self.attn2.output(F.scaled_dot_product_attention(q, ck.to(q.dtype), cv.to(q.dtype)), x.dtype)

        h = (per_frame(self.norm3(x)) * (1 + c_scale) + c_shift).view(b, n, d).to(x.dtype)
        ff = per_frame(self.ffn(h).float())
        return (per_frame(x.float()) + ff * c_gate).view(b, n, d).to(x.dtype)
