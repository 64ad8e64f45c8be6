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
import torch.nn.functional as F
from torch import nn

from .config import WarpConfig


def _check(warp: torch.Tensor, valid: torch.Tensor) -> None:
    if warp.ndim != 5 or warp.shape[2] != 3 or valid.shape != (warp.shape[0], warp.shape[1], *warp.shape[3:]):
        raise ValueError(f"warp must be [B, T, 3, H, W] with valid [B, T, H, W]; got {tuple(warp.shape)}, "
                         f"{tuple(valid.shape)}")


def _latent_rate(x: torch.Tensor, k: int, from_start: bool) -> torch.Tensor:
    """Per-frame maps [B, T, C, h, w] -> [B, T_latent, k, C, h, w]: k frames per latent frame, the
    first frame alone (repeated) forming latent 0 when the clip starts here."""
    if from_start:
        x = torch.cat([x[:, :1].expand(-1, k - 1, *x.shape[2:]), x], 1)
    if x.shape[1] % k:
        raise ValueError(f"warp frames do not fill whole latent frames ({x.shape[1]} after padding, stride {k})")
    return x.reshape(x.shape[0], x.shape[1] // k, k, *x.shape[2:])


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

    def forward(self, warp: torch.Tensor, valid: torch.Tensor, from_start: bool,
                memory: dict | None = None) -> torch.Tensor:
        """warp [B, T, 3, H, W] in [0, 1], valid [B, T, H, W] in [0, 1] -> [B, out_channels, T_latent,
        H / stride, W / stride]; with from_start the first frame alone forms latent 0. Per frame, so
        `memory` (a stream's state, for the encoder that has one) is not needed."""
        _check(warp, valid)
        b, t, _, h, w = warp.shape
        dtype = self.proj.weight.dtype
        v = valid.to(dtype)[:, :, None]
        x = torch.cat([warp.to(dtype) * v, v], 2).reshape(b * t, 4, h, w)  # colour only where it is the picture
        x = self.frames(x)
        x = _latent_rate(x.reshape(b, t, *x.shape[1:]), self.config.temporal_stride, from_start)
        return self.proj(x.flatten(2, 3).transpose(1, 2))


class LatentWarpEncoder(nn.Module):
    """The warp read through the model's own (frozen) VAE encoder: the latents of the warp where it is
    valid (black elsewhere, and zeroed on cells nothing valid covers) and the validity averaged over
    each latent cell and its 4 frames -> [B, latent_channels + 1, T_latent, h, w], no parameters of
    its own. The DiT then finds the picture's content already in the space it predicts. Causal like
    the encoder: a stream passes `memory` (a dict it keeps) and gets exactly the whole-clip result."""

    def __init__(self, config: WarpConfig, vae):
        super().__init__()
        self.config = config
        object.__setattr__(self, "vae", vae)  # the model's VAE, held but not owned (its weights are saved there)

    @property
    def stride(self) -> int:
        return 8

    def forward(self, warp: torch.Tensor, valid: torch.Tensor, from_start: bool,
                memory: dict | None = None) -> torch.Tensor:
        _check(warp, valid)
        b, t, _, h, w = warp.shape
        v = valid.to(warp.dtype)
        with torch.no_grad():
            z = self.vae.encode_chunk(warp * v[:, :, None], from_start, memory)  # [B, T_latent, C, h/8, w/8]
        cover = F.avg_pool2d(v.reshape(b * t, 1, h, w), self.stride).reshape(b, t, 1, h // self.stride,
                                                                              w // self.stride)
        cover = _latent_rate(cover, self.config.temporal_stride, from_start).mean(2)  # [B, T_latent, 1, h', w']
        if cover.shape[1] != z.shape[1]:
            raise ValueError(f"the VAE made {z.shape[1]} latent frames of {t} warp frames, "
                             f"the validity {cover.shape[1]}")
        return torch.cat([z * (cover > 0), cover], 2).transpose(1, 2).to(z.dtype)
