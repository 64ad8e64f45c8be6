"""Self-attention strategies for the DiT. A block computes raw (un-rotated) q, k, v in the layout
[B, heads, tokens, head_dim] and hands them to one of these, which places RoPE and attends:

- `FullAttention`: every token sees every token, absolute frame positions (the bidirectional teacher).
- `BlockCausalAttention`: chunk i sees [sink chunks | the last `window` chunks | itself], with the
  same relative positions the KV cache gives at inference, in one pass over a whole clip (training).
- `SinkRollingKVCache.attend` (kv_cache.py): one chunk at a time against the cache (inference).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..frames import CHUNK_LATENTS
from .rope import Rope3D, apply_rope


@dataclass(frozen=True)
class BlockCausal:
    """Chunked causal layout in latent frames: `chunk` frames per chunk, `sink` chunks kept from the
    start, `window` most recent chunks (None = every earlier chunk, the 'grow without bound' mode)."""
    chunk: int = CHUNK_LATENTS
    sink: int = 1
    window: int | None = 1

    def __post_init__(self):
        if self.chunk < 1 or self.sink < 0 or (self.window is not None and self.window < 0):
            raise ValueError(f"invalid cache layout {self}: chunk >= 1, sink >= 0, window >= 0 or None")

    def context(self, i: int) -> tuple[list[int], list[int], int]:
        """For query chunk i: (sink chunks, window chunks, RoPE offset of the sink in frames).

        The cache places window chunks and the current chunk right after the sink by slot, which in
        relative terms equals absolute positions, except that the sink appears `offset` frames closer."""
        if i < self.sink:
            return list(range(i)), [], 0
        m = i - self.sink if self.window is None else min(self.window, i - self.sink)
        return list(range(self.sink)), list(range(i - m, i)), (i - self.sink - m) * self.chunk


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class FullAttention:
    """Bidirectional attention with absolute frame positions `frame_offset + f`."""

    def __init__(self, rope: Rope3D, frames: int, height: int, width: int, frame_offset: int = 0):
        self.cos, self.sin = rope.tables(range(frame_offset, frame_offset + frames), height, width)

    def __call__(self, layer: int, q, k, v, need_output: bool = True):
        return attend(apply_rope(q, self.cos, self.sin), apply_rope(k, self.cos, self.sin), v)


class BlockCausalAttention:
    """One pass over a clip of whole chunks that equals chunk-by-chunk generation with the cache."""

    def __init__(self, rope: Rope3D, frames: int, height: int, width: int, layout: BlockCausal):
        c = layout.chunk
        if frames % c:
            raise ValueError(f"block-causal attention needs whole chunks: {frames} latent frames, chunk {c}")
        self.rope, self.layout, self.hw = rope, layout, (height, width)
        self.tokens_per_chunk = c * height * width
        self.cos, self.sin = rope.tables(range(frames), height, width)
        self.chunks = frames // c
        # group query chunks with the same number of key chunks so each group is one batched call
        groups: dict[int, list[int]] = {}
        for i in range(self.chunks):
            sink, win, _ = layout.context(i)
            groups.setdefault(len(sink) + len(win) + 1, []).append(i)
        self.groups = list(groups.values())

    def _chunk(self, x: torch.Tensor, i: int) -> torch.Tensor:
        n = self.tokens_per_chunk
        return x[:, :, i * n:(i + 1) * n]

    def __call__(self, layer: int, q, k, v, need_output: bool = True):
        qr, kr = apply_rope(q, self.cos, self.sin), apply_rope(k, self.cos, self.sin)
        out = torch.empty_like(q)
        c = self.layout.chunk
        for group in self.groups:
            qs, ks, vs = [], [], []
            for i in group:
                sink, win, offset = self.layout.context(i)
                keys, values = [], []
                for j in sink:
                    if offset:  # the cache shows the sink `offset` frames nearer than its absolute place
                        cos, sin = self.rope.tables(range(j * c + offset, j * c + offset + c), *self.hw)
                        keys.append(apply_rope(self._chunk(k, j), cos, sin))
                    else:
                        keys.append(self._chunk(kr, j))
                    values.append(self._chunk(v, j))
                for j in win + [i]:
                    keys.append(self._chunk(kr, j))
                    values.append(self._chunk(v, j))
                qs.append(self._chunk(qr, i))
                ks.append(torch.cat(keys, 2))
                vs.append(torch.cat(values, 2))
            b = q.shape[0]
            res = attend(torch.cat(qs, 0), torch.cat(ks, 0), torch.cat(vs, 0))
            for n, i in enumerate(group):
                n_tok = self.tokens_per_chunk
                out[:, :, i * n_tok:(i + 1) * n_tok] = res[n * b:(n + 1) * b]
        return out

    def dense_mask(self) -> torch.Tensor:
        """The equivalent boolean token mask (True = may attend), for inspection and tests."""
        n = self.tokens_per_chunk
        allowed = torch.zeros(self.chunks, self.chunks, dtype=torch.bool)
        for i in range(self.chunks):
            sink, win, _ = self.layout.context(i)
            allowed[i, sink + win + [i]] = True
        return allowed.repeat_interleave(n, 0).repeat_interleave(n, 1)
