"""Warp encoder: what the geometry already gives, as condition channels for the DiT.

For every video frame the engine renders the warp of the picture (the picture on its depth mesh,
objects moved; `raster.mesh_warp`) and its validity map (1 where the picture itself is seen). The
encoder reads the warp's colour where it is valid and the validity itself (4 channels), brings them
to the latent grid with stride-2 convs, stacks 4 video frames per latent frame (latent 0 is the first
frame alone, repeated, as the VAE and the track encoder pack it) and maps them with a 1x1x1 conv to
the DiT's warp channels. Per frame, so a chunk costs the same wherever it is in the stream; far
cheaper than the VAE's encoder, which the warp does not need (it is the picture, moved)."""
from __future__ import annotations

import torch
from torch import nn

from .config import WarpConfig


class WarpEncoder(nn.Module):
    def __init__(self, config: WarpConfig):
        super().__init__()
        self.config = config
        layers, width = [], 4
        for out in config.widths:
            layers += [nn.Conv2d(width, out, 3, stride=2, padding=1), nn.SiLU()]
            width = out
        self.frames = nn.Sequential(*layers)
        self.proj = nn.Conv3d(width * config.temporal_stride, config.out_channels, 1)

    @property
    def stride(self) -> int:
        return 2 ** len(self.config.widths)

    def forward(self, warp: torch.Tensor, valid: torch.Tensor, from_start: bool) -> torch.Tensor:
        """warp [B, T, 3, H, W] in [0, 1], valid [B, T, H, W] in [0, 1] -> [B, out_channels, T_latent,
        H / stride, W / stride]; with from_start the first frame alone forms latent 0."""
        if warp.ndim != 5 or warp.shape[2] != 3 or valid.shape != (warp.shape[0], warp.shape[1], *warp.shape[3:]):
            raise ValueError(f"warp must be [B, T, 3, H, W] with valid [B, T, H, W]; got {tuple(warp.shape)}, "
                             f"{tuple(valid.shape)}")
        b, t, _, h, w = warp.shape
        dtype = self.proj.weight.dtype
        v = valid.to(dtype)[:, :, None]
        x = torch.cat([warp.to(dtype) * v, v], 2).reshape(b * t, 4, h, w)  # colour only where it is the picture
        x = self.frames(x)
        x = x.reshape(b, t, *x.shape[1:])
        k = self.config.temporal_stride
        if from_start:
            x = torch.cat([x[:, :1].expand(-1, k - 1, -1, -1, -1), x], 1)
        if x.shape[1] % k:
            raise ValueError(f"warp frames do not fill whole latent frames ({x.shape[1]} after padding, stride {k})")
        x = x.reshape(b, x.shape[1] // k, k * x.shape[2], *x.shape[3:]).transpose(1, 2)
        return self.proj(x)
