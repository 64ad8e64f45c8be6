"""`CausalWanTransformer`: Wan 2.1's DiT (diffusers parameter names and semantics) with per-latent-
frame timesteps, extra condition channels, and three attention modes: full (bidirectional teacher),
block-causal over a whole clip (training), and chunk-by-chunk against a `SinkRollingKVCache`."""
from __future__ import annotations

import math

import torch
from torch import nn

from .attention import BlockCausal, BlockCausalAttention, FullAttention
from .config import DiTConfig
from .kv_cache import SinkRollingKVCache
from .layers import ConditionEmbedder, FP32LayerNorm, WanBlock
from .rope import Rope3D


class CausalWanTransformer(nn.Module):
    def __init__(self, config: DiTConfig):
        super().__init__()
        self.config = config
        c, dim = config, config.dim
        self.rope = Rope3D(c.attention_head_dim, c.rope_max_seq_len)
        self.patch_embedding = nn.Conv3d(c.patch_in_channels, dim, kernel_size=c.patch_size, stride=c.patch_size)
        self.condition_embedder = ConditionEmbedder(dim, c.freq_dim, c.text_dim)
        self.blocks = nn.ModuleList(WanBlock(dim, c.ffn_dim, c.num_attention_heads, c.cross_attn_norm, c.eps)
                                    for _ in range(c.num_layers))
        self.norm_out = FP32LayerNorm(dim, c.eps, elementwise_affine=False)
        self.proj_out = nn.Linear(dim, c.out_channels * math.prod(c.patch_size))
        self.scale_shift_table = nn.Parameter(torch.randn(1, 2, dim) / dim ** 0.5)

    # ----- conditions
    def text_kv(self, text: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Cross-attention keys/values of every block for text [B, L, text_dim]; constant over a stream."""
        ctx = self.condition_embedder.text_embedder(text.to(self.patch_embedding.weight.dtype))
        return [blk.attn2.key_value(ctx) for blk in self.blocks]

    def _inputs(self, latents: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        extra = c.image_channels + c.track_channels + c.warp_channels
        if latents.shape[1] != c.in_channels:
            raise ValueError(f"expected {c.in_channels} latent channels, got {latents.shape[1]}")
        if extra:
            if condition is None:
                condition = latents.new_zeros(latents.shape[0], extra, *latents.shape[2:])
            if condition.shape[1] != extra or condition.shape[2:] != latents.shape[2:]:
                raise ValueError(f"condition must be [B, {extra}, {tuple(latents.shape[2:])}], got "
                                 f"{tuple(condition.shape)}")
            latents = torch.cat([latents, condition.to(latents.dtype)], 1)
        elif condition is not None:
            raise ValueError("this model has no condition channels")
        return latents

    def _timesteps(self, timestep: torch.Tensor, batch: int, frames: int) -> torch.Tensor:
        t = torch.as_tensor(timestep, device=self.patch_embedding.weight.device, dtype=torch.float32)
        if t.ndim == 0:
            t = t.expand(batch)
        if t.ndim == 1:
            t = t[:, None].expand(batch, frames)
        if t.shape != (batch, frames):
            raise ValueError(f"timestep must be [B], [B, F] or a scalar; got {tuple(t.shape)} "
                             f"for B={batch}, F={frames}")
        return t

    # ----- the network
    def _run(self, x: torch.Tensor, timestep, text_kv, self_attend, write_only: bool = False):
        b, _, f, h, w = x.shape
        pt, ph, pw = self.config.patch_size
        if f % pt or h % ph or w % pw:
            raise ValueError(f"latent size {f}x{h}x{w} is not divisible by the patch size {self.config.patch_size}")
        frames, gh, gw = f // pt, h // ph, w // pw
        tokens = self.patch_embedding(x.to(self.patch_embedding.weight.dtype)).flatten(2).transpose(1, 2).contiguous()
        t = self._timesteps(timestep, b, f)[:, ::pt]
        temb, mod = self.condition_embedder.time(t, tokens.dtype)
        for i, block in enumerate(self.blocks):
            last = i == len(self.blocks) - 1
            tokens = block(tokens, mod, text_kv[i], self_attend, i, frames, write_only=write_only and last)
        if write_only:
            return None
        shift, scale = (self.scale_shift_table.float()[:, None] + temb.float()[:, :, None]).unbind(2)
        d = tokens.shape[-1]
        out = self.norm_out(tokens).view(b, frames, gh * gw, d) * (1 + scale[:, :, None]) + shift[:, :, None]
        out = self.proj_out(out.view(b, -1, d).to(tokens.dtype))
        out = out.reshape(b, frames, gh, gw, pt, ph, pw, -1).permute(0, 7, 1, 4, 2, 5, 3, 6)
        return out.flatten(6, 7).flatten(4, 5).flatten(2, 3)

    def forward(self, hidden_states: torch.Tensor, timestep, encoder_hidden_states: torch.Tensor | None = None,
                condition: torch.Tensor | None = None, attention: str | BlockCausal = "full",
                text_kv=None) -> torch.Tensor:
        """hidden_states [B, C, F, H, W] latents; timestep scalar, [B] or [B, F] (per latent frame, Wan's
        0..1000 scale); encoder_hidden_states [B, L, text_dim] (or precomputed `text_kv`); condition
        [B, image+track channels, F, H, W]. attention: 'full' or a BlockCausal layout."""
        x = self._inputs(hidden_states, condition)
        _, _, f, h, w = x.shape
        pt, ph, pw = self.config.patch_size
        if text_kv is None:
            text_kv = self.text_kv(encoder_hidden_states)
        if attention == "full":
            strategy = FullAttention(self.rope, f // pt, h // ph, w // pw)
        elif isinstance(attention, BlockCausal):
            strategy = BlockCausalAttention(self.rope, f // pt, h // ph, w // pw, attention)
        else:
            raise ValueError(f"attention must be 'full' or a BlockCausal layout, got {attention!r}")
        return self._run(x, timestep, text_kv, strategy)

    def new_cache(self, layout: BlockCausal, batch: int, latent_height: int, latent_width: int,
                  device=None, dtype=None) -> SinkRollingKVCache:
        c = self.config
        p = self.patch_embedding.weight
        if layout.chunk % c.patch_size[0]:
            raise ValueError(f"chunk {layout.chunk} is not a multiple of the temporal patch {c.patch_size[0]}")
        tokens_layout = BlockCausal(layout.chunk // c.patch_size[0], layout.sink, layout.window)
        return SinkRollingKVCache(tokens_layout, c.num_layers, batch, c.num_attention_heads, c.attention_head_dim,
                                  latent_height // c.patch_size[1], latent_width // c.patch_size[2], self.rope,
                                  dtype=dtype or p.dtype, device=device or p.device)

    def forward_chunk(self, latents: torch.Tensor, timestep, text_kv, cache: SinkRollingKVCache,
                      condition: torch.Tensor | None = None, write_only: bool = False) -> torch.Tensor | None:
        """One chunk [B, C, chunk, H, W] against the cache. A pass writes the chunk's slot; after the
        final (clean) pass call `cache.roll()`. write_only skips everything the cache does not need."""
        x = self._inputs(latents, condition)
        return self._run(x, timestep, text_kv, cache.attend, write_only=write_only)
