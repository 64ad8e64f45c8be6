"""Attention sink + rolling KV cache (the c3s1w1 design), one set of preallocated buffers per block.

Slots are whole chunks: [sink 0..S-1 | window S..S+W-1 | current]. Frame positions follow the slot,
not absolute time, so RoPE positions never exceed (S+W+1)*C frames however long the stream runs.
- Sink keys are stored rotated at their fixed positions (they never move).
- Window keys are kept un-rotated too (`raw`) and re-rotated by slot when the window rolls; the
  assembled buffer `k` holds what attention reads, so a pass reads without copying.
- Every pass over the current chunk overwrites the current slot; the last (clean, t = 0) pass leaves
  the K/V later chunks read; `roll()` then moves the chunk into the window.
"""
from __future__ import annotations

import torch

from .attention import BlockCausal, attend
from .rope import Rope3D, apply_rope


class SinkRollingKVCache:
    def __init__(self, layout: BlockCausal, num_layers: int, batch: int, heads: int, head_dim: int,
                 height: int, width: int, rope: Rope3D, dtype=torch.float32, device="cpu",
                 grow_capacity: int = 8):
        self.layout, self.rope, self.hw = layout, rope, (height, width)
        self.tokens_per_chunk = layout.chunk * height * width
        self.num_layers = num_layers
        s, w = layout.sink, layout.window
        slots = s + (w if w is not None else grow_capacity) + 1
        shape = (batch, heads, slots * self.tokens_per_chunk, head_dim)
        self.k = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.v = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        raw_slots = (w + 1) if w is not None else 0
        raw_shape = (batch, heads, raw_slots * self.tokens_per_chunk, head_dim)
        self.raw = [torch.zeros(raw_shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.reset()

    # ----- state
    def reset(self) -> None:
        self.chunk_index = 0    # absolute index of the chunk being generated
        self.window_fill = 0    # chunks currently in the window

    @property
    def current_slot(self) -> int:
        if self.chunk_index < self.layout.sink:
            return self.chunk_index
        return self.layout.sink + self.window_fill

    def frame_positions(self, slot: int) -> range:
        c = self.layout.chunk
        return range(slot * c, (slot + 1) * c)

    def key_length(self) -> int:
        """Tokens the current chunk attends to (sink + window + itself)."""
        return (self.current_slot + 1) * self.tokens_per_chunk

    def max_position(self) -> int:
        return self.frame_positions(self.current_slot)[-1]

    def storage(self) -> list[torch.Tensor]:
        return self.k + self.v + self.raw

    # ----- attention
    def _span(self, slot: int, count: int = 1) -> slice:
        n = self.tokens_per_chunk
        return slice(slot * n, (slot + count) * n)

    def attend(self, layer: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, need_output: bool = True):
        """q, k, v: raw [B, heads, tokens of one chunk, d]. Writes the current slot, attends to the cache."""
        if q.shape[2] != self.tokens_per_chunk:
            raise ValueError(f"the cache expects one chunk of {self.tokens_per_chunk} tokens, got {q.shape[2]}")
        slot = self.current_slot
        self._ensure_capacity(slot)
        cos, sin = self.rope.tables(self.frame_positions(slot), *self.hw)
        span = self._span(slot)
        rk = apply_rope(k, cos, sin)
        # The buffers only ever hold values (never autograd history): a training rollout backpropagates
        # through the current chunk's own K/V while earlier chunks' K/V are constants.
        self.k[layer][:, :, span] = rk.detach()
        self.v[layer][:, :, span] = v.detach()
        if self.layout.window is not None and self.chunk_index >= self.layout.sink:
            self.raw[layer][:, :, self._span(self.window_fill)] = k.detach()
        if not need_output:
            return None
        q = apply_rope(q, cos, sin)
        if torch.is_grad_enabled() and (q.requires_grad or rk.requires_grad or v.requires_grad):
            keys = torch.cat([self.k[layer][:, :, :span.start], rk], 2)
            values = torch.cat([self.v[layer][:, :, :span.start], v], 2)
            return attend(q, keys, values)
        end = span.stop
        return attend(q, self.k[layer][:, :, :end], self.v[layer][:, :, :end])

    def roll(self) -> None:
        """Call once after the clean pass of a chunk: its K/V join the sink or the window."""
        s, w = self.layout.sink, self.layout.window
        if self.chunk_index >= s:
            if w is None or self.window_fill < w:
                # the chunk already sits in the slot it keeps as a window member
                self.window_fill += 1
            elif w > 0:
                self._drop_oldest()
        self.chunk_index += 1

    def _drop_oldest(self) -> None:
        s, w = self.layout.sink, self.layout.window
        for layer in range(self.num_layers):
            raw = self.raw[layer]
            raw[:, :, self._span(0, w)] = raw[:, :, self._span(1, w)].clone()
            cos, sin = self.rope.tables(range(s * self.layout.chunk, (s + w) * self.layout.chunk), *self.hw)
            self.k[layer][:, :, self._span(s, w)] = apply_rope(raw[:, :, self._span(0, w)], cos, sin)
            vv = self.v[layer]
            vv[:, :, self._span(s, w)] = vv[:, :, self._span(s + 1, w)].clone()

    def _ensure_capacity(self, slot: int) -> None:
        """Only the grow-without-bound comparison mode ever reallocates (doubling)."""
        need = self._span(slot).stop
        if need <= self.k[0].shape[2]:
            return
        for bufs in (self.k, self.v):
            for i, t in enumerate(bufs):
                bigger = torch.zeros(t.shape[0], t.shape[1], 2 * t.shape[2], t.shape[3], dtype=t.dtype, device=t.device)
                bigger[:, :, :t.shape[2]] = t
                bufs[i] = bigger
