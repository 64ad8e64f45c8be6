"""A classical point tracker (pyramidal Lucas-Kanade, no learned weights) for measuring how well a
generated video follows its input tracks.

Points are tracked frame to frame on grey images: at each pyramid level (coarse to fine) a few
Gauss-Newton iterations solve the 2x2 LK system over a window around each point, sampling with
bilinear interpolation (torch grid_sample), all points at once.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _grey(frames: torch.Tensor) -> torch.Tensor:
    """[T, H, W, 3] uint8 or [T, 3, H, W] float -> [T, 1, H, W] float in [0, 1]."""
    if frames.dtype == torch.uint8:
        frames = frames.float().div(255).permute(0, 3, 1, 2)
    w = torch.tensor([0.299, 0.587, 0.114], device=frames.device)[None, :, None, None]
    return (frames * w).sum(1, keepdim=True)


def _sample(img: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """img [1, 1, H, W]; xy [N, P, 2] pixel coordinates -> values [N, P]."""
    H, W = img.shape[-2:]
    g = torch.stack([(xy[..., 0] + 0.5) / W * 2 - 1, (xy[..., 1] + 0.5) / H * 2 - 1], -1)
    return F.grid_sample(img, g[None], mode="bilinear", padding_mode="border", align_corners=False)[0, 0]


def _pyramid(img: torch.Tensor, levels: int) -> list[torch.Tensor]:
    out = [img]
    for _ in range(levels - 1):
        out.append(F.avg_pool2d(out[-1], 2))
    return out


def lucas_kanade(video: torch.Tensor, start: torch.Tensor, window: int = 9, levels: int = 3,
                 iterations: int = 8, active: torch.Tensor | None = None) -> torch.Tensor:
    """Track points `start` [N, 2] (pixel x, y in frame 0) through `video` ([T, H, W, 3] uint8 or
    [T, 3, H, W] in [0, 1]). Returns positions [T, N, 2] (frame 0 = start). With `active` [T, N]
    bool, a point is followed only while it is active and is NaN from the frame it stops being so;
    the others' positions are unchanged, since every point is tracked on its own."""
    grey = _grey(video)
    T = grey.shape[0]
    r = torch.arange(window, dtype=torch.float32) - (window - 1) / 2
    offsets = torch.stack(torch.meshgrid(r, r, indexing="xy"), -1).reshape(1, -1, 2)  # [1, P, 2]
    full = start.float().clone()
    out = [full.clone()]
    keep = torch.arange(len(full))  # the points still followed
    pos = full
    pyrs = [_pyramid(grey[t:t + 1], levels) for t in range(T)]
    for t in range(1, T):
        if active is not None:
            still = torch.as_tensor(active[t]).bool()[keep]
            if not still.all():
                full[keep[~still]] = float("nan")
                keep, pos = keep[still], pos[still]
            if not len(keep):
                out.append(full.clone())
                continue
        guess = torch.zeros_like(pos)  # displacement at the finest scale
        for lvl in reversed(range(levels)):
            s = 2 ** lvl
            prev, cur = pyrs[t - 1][lvl], pyrs[t][lvl]
            p = (pos + 0.5) / s - 0.5  # level coordinates
            patch_xy = p[:, None] + offsets
            template = _sample(prev, patch_xy)
            gx = (_sample(prev, patch_xy + torch.tensor([0.5, 0.0])) - _sample(prev, patch_xy - torch.tensor([0.5, 0.0])))
            gy = (_sample(prev, patch_xy + torch.tensor([0.0, 0.5])) - _sample(prev, patch_xy - torch.tensor([0.0, 0.5])))
            a, b, c = (gx * gx).sum(1), (gx * gy).sum(1), (gy * gy).sum(1)
            det = a * c - b * b
            ok = det > 1e-6
            d = guess / s
            for _ in range(iterations):
                err = _sample(cur, patch_xy + d[:, None]) - template
                ex, ey = (err * gx).sum(1), (err * gy).sum(1)
                step = torch.stack([(c * ex - b * ey), (a * ey - b * ex)], -1) / det.clamp_min(1e-6)[:, None]
                d = d - torch.where(ok[:, None], step, torch.zeros_like(step)).clamp(-2, 2)
            guess = d * s
        pos = pos + guess
        full[keep] = pos
        out.append(full.clone())
    return torch.stack(out)


def track_epe(video, tracks, visibility, points=None, window: int = 9, levels: int = 3) -> float:
    """Mean end-point error (pixels) between the given tracks [T, N, 2] and the tracks a classical
    tracker finds in `video`, over frames 1.. and points visible in every frame so far; `points`
    ([N] bool) restricts the score to some tracks (e.g. those on moving objects)."""
    video = torch.as_tensor(video)
    tracks = torch.as_tensor(tracks).float()
    vis = torch.as_tensor(visibility).bool()
    if points is not None:
        keep = torch.as_tensor(points).bool()
        tracks, vis = tracks[:, keep], vis[:, keep]
    alive = torch.cumprod(vis.int(), 0).bool()  # once lost, a point is not scored again (nor followed)
    found = lucas_kanade(video, tracks[0], window=window, levels=levels, active=alive)
    err = (found - tracks).norm(dim=-1)
    sel = alive[1:] & torch.isfinite(err[1:])
    return float(err[1:][sel].mean()) if sel.any() else float("nan")
