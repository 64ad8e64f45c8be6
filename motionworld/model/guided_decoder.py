"""Guided decoder: the VAE decode of a frame, finished with the warp of the picture.

The VAE decoder paints every pixel through the latents, so what the picture itself shows comes
out blurred; the warp (the picture on its depth mesh, seen from the frame's camera) has that
detail wherever its validity map is 1, and nothing elsewhere. This net decides per pixel:

    paint = up(decoded) + up(residual)                the VAE's frame, corrected
    out   = paint + up(gate) * valid * (warp - paint) the picture's own pixels where they are seen

`residual` and `gate` come from a small per-frame conv net at the decode's own resolution (8x the
latent grid) reading the decoded frame, the warp (area-downsampled, only where valid), its validity
and their difference, which shows where the geometry is wrong (a depth error, a moved object the
warp left still). They are upsampled bilinearly to the output, `scale` times the decode's size,
where the warp's full detail is blended in: resolution comes from the picture, cost from the
latents. A smooth gate keeps seams soft; where the validity map is 0 the output is painted only.

With `fill` it also reads the warp filled across its holes (`pull_push_fill`, the cheap classical
inpainting of what the picture does not show, about as good as OpenCV's Telea there at a third of
its cost) and a second gate paints with it where the decode is the worse guess:

    paint = up(decoded + residual) + up(fill_gate) * (fill - up(decoded + residual))

so near a hole's edge, where the picture's own colours carry on, the output can take them, and deep
in a hole, or where the model knows better (a wall behind an object, the sky), the model's paint.
A frame with nothing valid has no fill.

The gates start mostly shut (bias -2, 12 %) and the residual at zero, so an untrained guide
barely changes the decode. Per frame: streaming and whole-clip decodes agree exactly."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GATE_BIAS = -2.0


def downscaled(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """Per-frame maps [B, T, C, H, W] averaged over scale x scale cells: what the model's size sees
    of a frame `scale` times bigger."""
    if scale == 1:
        return frames
    return F.avg_pool2d(frames.flatten(0, 1), scale).unflatten(0, frames.shape[:2])


def upsampled(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Per-frame maps [B, T, C, h, w] resized bilinearly to size (H, W)."""
    if frames.shape[-2:] == tuple(size):
        return frames
    return F.interpolate(frames.flatten(0, 1), size=size, mode="bilinear", align_corners=False).unflatten(
        0, frames.shape[:2])


def pull_push_fill(frames: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """frames [N, C, H, W] filled where valid [N, 1, H, W] is 0 from a pyramid of coverage-weighted
    means (pull: halve while averaging colour * coverage and coverage; push: each level keeps its
    own mean where covered and takes the coarser level's, upsampled, for the rest). Kept where
    valid is 1; a frame with nothing valid comes out 0."""
    levels = []
    c, a = frames * valid, valid
    while max(c.shape[-2:]) > 1:  # down to one cell, which sees something if any pixel is valid
        levels.append((c, a))
        k = (min(2, c.shape[-2]), min(2, c.shape[-1]))
        c, a = F.avg_pool2d(c, k, ceil_mode=True), F.avg_pool2d(a, k, ceil_mode=True)
    out = c / a.clamp_min(1e-6)
    for c, a in reversed(levels):  # c is mean colour x coverage a: blend in the coarser guess for 1 - a
        out = c + (1 - a) * F.interpolate(out, size=c.shape[-2:], mode="bilinear", align_corners=False)
    return out


class GuidedDecoder(nn.Module):
    def __init__(self, widths: tuple, scale: int = 1, fill: bool = False):
        super().__init__()
        self.scale, self.fill = int(scale), bool(fill)
        # decoded RGB, warp RGB * valid, valid, (warp - decoded) * valid; with fill: fill RGB, fill - decoded
        layers, width = [], 16 if self.fill else 10
        for out in widths:
            layers += [nn.Conv2d(width, out, 3, padding=1), nn.ReLU()]
            width = out
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(width, 5 if self.fill else 4, 3, padding=1)  # residual RGB, gate logit(s)
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, GATE_BIAS] + [GATE_BIAS] * self.fill))

    def forward(self, decoded: torch.Tensor, warp: torch.Tensor | None, valid: torch.Tensor | None) -> torch.Tensor:
        """decoded [B, T, 3, h, w] RGB (unclamped), warp [B, T, 3, H, W] in [0, 1] and valid [B, T, H, W]
        at the output size (H, W) = scale * (h, w); no warp = nothing valid. -> [B, T, 3, H, W], unclamped."""
        b, t, _, h, w = decoded.shape
        H, W = h * self.scale, w * self.scale
        dtype = self.head.weight.dtype
        dec = decoded.to(dtype).flatten(0, 1)
        if warp is None:
            warp_hi, valid_hi = dec.new_zeros(b * t, 3, H, W), dec.new_zeros(b * t, 1, H, W)
        else:
            if warp.shape != (b, t, 3, H, W) or valid is None or valid.shape != (b, t, H, W):
                raise ValueError(f"guided decode of {t} frames at {W}x{H} needs warp [{b}, {t}, 3, {H}, {W}] and valid "
                                 f"[{b}, {t}, {H}, {W}]; got {tuple(warp.shape)}, "
                                 f"{None if valid is None else tuple(valid.shape)}")
            warp_hi, valid_hi = warp.to(dtype).flatten(0, 1), valid.to(dtype).flatten(0, 1)[:, None]
        valid_lo = downscaled(valid_hi[None], self.scale)[0]
        warp_lo = downscaled((warp_hi * valid_hi)[None], self.scale)[0]  # colour * coverage, averaged over the cell
        shown = warp_lo / valid_lo.clamp_min(1e-3) * (valid_lo > 0)  # mean colour of the valid part of a cell
        parts = [dec, warp_lo, valid_lo, (shown - dec) * valid_lo]
        if self.fill:
            fill_hi = pull_push_fill(warp_hi, valid_hi)
            fill_lo = downscaled(fill_hi[None], self.scale)[0]
            parts += [fill_lo, fill_lo - dec]
        res_gate = self.head(self.body(torch.cat(parts, 1)))
        if self.scale != 1:
            res_gate = F.interpolate(res_gate, size=(H, W), mode="bilinear", align_corners=False)
            dec = F.interpolate(dec, size=(H, W), mode="bilinear", align_corners=False)
        paint = dec + res_gate[:, :3]
        if self.fill:  # no fill in a frame where nothing is valid
            seen_any = valid_hi.flatten(1).amax(1).view(-1, 1, 1, 1)
            paint = paint + torch.sigmoid(res_gate[:, 4:5]) * seen_any * (fill_hi - paint)
        gate = torch.sigmoid(res_gate[:, 3:4]) * valid_hi
        out = paint + gate * (warp_hi - paint)
        return out.unflatten(0, (b, t))


def hard_paste(decoded: torch.Tensor, warp: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The baseline the guided decoder has to beat: the decoded frames [B, T, 3, h, w] upsampled
    (bilinear) to the warp's size, with every valid warp pixel pasted over them."""
    up = upsampled(decoded, warp.shape[-2:])
    v = (valid > 0.5).to(up.dtype)[:, :, None]
    return up * (1 - v) + warp.to(up.dtype) * v
