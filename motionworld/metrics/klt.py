"""A classical point tracker (pyramidal Lucas-Kanade, no learned weights) for measuring how well a
generated video follows its input tracks.

Points are tracked frame to frame on the colour images: at each pyramid level (coarse to fine) a few
Gauss-Newton iterations solve the 2x2 LK system over a window around each point (summed over the
three channels, so an edge between two colours of equal brightness still counts), sampling with
bilinear interpolation (torch grid_sample), all points at once.

Each frame's step is checked forward-backward (Kalal et al. 2010): the point is tracked back from
where it landed, and a round trip that misses its start by more than `fb_threshold` pixels means
the step locked onto the wrong patch. Such a point holds its position for that frame: the tracker
credits no motion it could not verify. Without the check a few points per clip lock onto the wrong
patch in one frame (jumps of 15 px where the true motion is under 3) and carry half the error.
On the true frames of 8 held-out clips (81 frames) the tracker's own error, the floor of the EPE
figure, is 5.2 px with the check, colour and 5 iterations, against 7.6 px for grey, unchecked, 8
iterations (the tracker before 2026-11-25).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _channels(frames: torch.Tensor, colour: bool) -> torch.Tensor:
    """[T, H, W, 3] uint8 or [T, 3, H, W] float -> [T, C, H, W] float in [0, 1] (C = 3, or 1 grey)."""
    if frames.dtype == torch.uint8:
        frames = frames.float().div(255).permute(0, 3, 1, 2)
    frames = frames.float()
    if colour:
        return frames
    w = torch.tensor([0.299, 0.587, 0.114], device=frames.device)[None, :, None, None]
    return (frames * w).sum(1, keepdim=True)


_HALF_X, _HALF_Y = torch.tensor([0.5, 0.0]), torch.tensor([0.0, 0.5])


def _sample(img: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """img [1, C, H, W]; xy [N, P, 2] pixel coordinates -> values [N, P, C]."""
    H, W = img.shape[-2:]
    g = torch.stack([(xy[..., 0] + 0.5) / W * 2 - 1, (xy[..., 1] + 0.5) / H * 2 - 1], -1)
    return F.grid_sample(img, g[None], mode="bilinear", padding_mode="border", align_corners=False)[0].permute(1, 2, 0)


def _levels(img: torch.Tensor, levels: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The pyramid of one frame [1, C, H, W]: per level the image and its forward differences along x
    and y. Sampled half a pixel back, a forward difference is exactly the derivative of the bilinear
    image the tracker samples; central differences (smoother) make it overshoot and lose points."""
    out = []
    for lvl in range(levels):
        if lvl:
            img = F.avg_pool2d(img, 2)
        dx = F.pad(img[..., :, 1:] - img[..., :, :-1], (0, 1, 0, 0))
        dy = F.pad(img[..., 1:, :] - img[..., :-1, :], (0, 0, 0, 1))
        out.append((img, dx, dy))
    return out


def _step(prev, cur, pos: torch.Tensor, guess: torch.Tensor, offsets: torch.Tensor, iterations: int) -> torch.Tensor:
    """The displacement [N, 2] (finest-level pixels) that carries the patches around `pos` in the
    frame `prev` (a pyramid from `_levels`) onto `cur`, starting from `guess`."""
    for lvl in reversed(range(len(prev))):
        s = 2 ** lvl
        p = (pos + 0.5) / s - 0.5  # level coordinates
        patch_xy = p[:, None] + offsets
        img, dx, dy = prev[lvl]
        template = _sample(img, patch_xy)
        gx, gy = _sample(dx, patch_xy - _HALF_X), _sample(dy, patch_xy - _HALF_Y)
        a, b, c = (gx * gx).sum((1, 2)), (gx * gy).sum((1, 2)), (gy * gy).sum((1, 2))
        det = a * c - b * b
        ok = (det > 1e-6)[:, None]
        d = guess / s
        for _ in range(iterations):
            err = _sample(cur[lvl][0], patch_xy + d[:, None]) - template
            ex, ey = (err * gx).sum((1, 2)), (err * gy).sum((1, 2))
            step = torch.stack([(c * ex - b * ey), (a * ey - b * ex)], -1) / det.clamp_min(1e-6)[:, None]
            d = d - torch.where(ok, step, torch.zeros_like(step)).clamp(-2, 2)
        guess = d * s
    return guess


def lucas_kanade(video: torch.Tensor, start: torch.Tensor, window: int = 9, levels: int = 3,
                 iterations: int = 5, active: torch.Tensor | None = None, fb_threshold: float | None = 1.0,
                 colour: bool = True) -> torch.Tensor:
    """Track points `start` [N, 2] (pixel x, y in frame 0) through `video` ([T, H, W, 3] uint8 or
    [T, 3, H, W] in [0, 1]). Returns positions [T, N, 2] (frame 0 = start). With `active` [T, N]
    bool, a point is followed only while it is active and is NaN from the frame it stops being so;
    the others' positions are unchanged, since every point is tracked on its own. `fb_threshold`
    None skips the forward-backward check; `colour` False tracks the grey image."""
    frames = _channels(video, colour)
    T = frames.shape[0]
    r = torch.arange(window, dtype=torch.float32) - (window - 1) / 2
    offsets = torch.stack(torch.meshgrid(r, r, indexing="xy"), -1).reshape(1, -1, 2)  # [1, P, 2]
    full = start.float().clone()
    out = [full.clone()]
    keep = torch.arange(len(full))  # the points still followed
    pos = full
    pyrs = [_levels(frames[t:t + 1], levels) for t in range(T)]
    for t in range(1, T):
        if active is not None:
            still = torch.as_tensor(active[t]).bool()[keep]
            if not still.all():
                full[keep[~still]] = float("nan")
                keep, pos = keep[still], pos[still]
            if not len(keep):
                out.append(full.clone())
                continue
        d = _step(pyrs[t - 1], pyrs[t], pos, torch.zeros_like(pos), offsets, iterations)
        if fb_threshold is not None:
            back = _step(pyrs[t], pyrs[t - 1], pos + d, -d, offsets, iterations)
            d = torch.where(((d + back).norm(dim=-1) > fb_threshold)[:, None], torch.zeros_like(d), d)
        pos = pos + d
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
