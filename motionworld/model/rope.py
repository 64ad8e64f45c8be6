"""3D rotary position embedding of Wan 2.1: the head dim is split into time / height / width parts
(t = d - 2*h, h = w = 2*(d//6): 44/42/42 for d = 128), each a 1-D RoPE over positions with base
10000; channel pairs are interleaved (x[2j], x[2j+1]). Positions are given explicitly so the KV cache
can place the same chunk at different frame slots."""
from __future__ import annotations

import torch


def axis_dims(head_dim: int) -> tuple[int, int, int]:
    h = w = 2 * (head_dim // 6)
    return head_dim - h - w, h, w


def _axis_table(dim: int, length: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    freqs = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    angles = torch.outer(torch.arange(length, dtype=torch.float64), freqs)
    # repeat_interleave: both members of a pair share an angle
    return angles.cos().repeat_interleave(2, dim=1), angles.sin().repeat_interleave(2, dim=1)


class Rope3D(torch.nn.Module):
    """Holds cos/sin tables (float64 math, stored float32) and builds per-token tables for a grid."""

    def __init__(self, head_dim: int, max_len: int = 1024, theta: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"attention head dim must be even for RoPE, got {head_dim}")
        self.dims = axis_dims(head_dim)
        self.max_len = max_len
        cos, sin = zip(*(_axis_table(d, max_len, theta) for d in self.dims))
        self.register_buffer("cos_t", cos[0].float(), persistent=False)
        self.register_buffer("sin_t", sin[0].float(), persistent=False)
        self.register_buffer("cos_hw", torch.cat(cos[1:], 1).float(), persistent=False)
        self.register_buffer("sin_hw", torch.cat(sin[1:], 1).float(), persistent=False)
        self._memo: dict = {}

    def tables(self, frame_positions, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin of shape [len(frame_positions)*height*width, head_dim] in (f, h, w) token order."""
        frames = tuple(int(f) for f in frame_positions)
        key = (frames, height, width, self.cos_t.device)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if max(frames) >= self.max_len or height > self.max_len or width > self.max_len:
            raise ValueError(f"RoPE position beyond its table of {self.max_len} (frames {max(frames)}, "
                             f"grid {height}x{width})")
        f_idx = torch.tensor(frames, device=self.cos_t.device)
        out = []
        for tab_t, tab_hw in ((self.cos_t, self.cos_hw), (self.sin_t, self.sin_hw)):
            dh = self.dims[1]
            t = tab_t[f_idx][:, None, None, :].expand(len(frames), height, width, -1)
            h = tab_hw[:height, :dh][None, :, None, :].expand(len(frames), height, width, -1)
            w = tab_hw[:width, dh:][None, None, :, :].expand(len(frames), height, width, -1)
            out.append(torch.cat([t, h, w], -1).reshape(len(frames) * height * width, -1).contiguous())
        if len(self._memo) > 256:
            self._memo.clear()
        self._memo[key] = (out[0], out[1])
        return out[0], out[1]

    def _apply(self, fn, recurse=True):
        self._memo = {}
        return super()._apply(fn, recurse)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate interleaved pairs of x [..., L, d] by per-token tables [L, d]; computed in float32."""
    xf = x.float()
    pairs = xf.unflatten(-1, (-1, 2))
    rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), -1).flatten(-2)
    return (xf * cos + rotated * sin).to(x.dtype)
