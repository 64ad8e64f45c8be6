"""A micro dataset for tests and smoke runs: one textured square sliding over a textured
background, staying in the picture. Items have the same keys, shapes and dtypes as `SynthClipDataset` items, and the
tracks are exact (square points move with it, background points stay and are hidden under it)."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..geometry.camera import intrinsics_from_fov
from ..geometry.trackfield import grid_pixels

COLOURS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 80, 230), "yellow": (230, 210, 40)}


def _smooth_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    coarse = rng.random((size // 8 + 2, size // 8 + 2))
    up = np.kron(coarse, np.ones((8, 8)))[:size, :size]
    k = np.ones(5) / 5  # a small blur so the texture is trackable but not harsh
    up = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 0, up)
    return np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, up)


class MovingSquares(Dataset):
    def __init__(self, count: int = 64, size: int = 64, frames: int = 9, grid: int = 16, seed_start: int = 0):
        self.count, self.size, self.frames, self.grid, self.seed_start = count, size, frames, grid, seed_start

    def __len__(self) -> int:
        return self.count

    def clip(self, seed: int) -> dict:
        rng = np.random.default_rng([seed, 4242])
        S, T = self.size, self.frames
        background = (60 + 120 * _smooth_noise(rng, S))[..., None] * np.array([0.9, 1.0, 0.8])
        side = int(rng.integers(S // 5, S // 3))
        name = str(rng.choice(list(COLOURS)))
        colour = np.array(COLOURS[name], float)
        yy, xx = np.mgrid[0:side, 0:side]
        texture = np.where(((yy // 4) + (xx // 4)) % 2 == 0, 1.0, 0.55)[..., None] * colour
        angle = rng.uniform(0, 2 * np.pi)
        margin = side / 2 + 1
        travel_room = S - 2 * margin  # the square stays in the picture for the whole clip
        speed = min(rng.uniform(0.8, 2.0), 0.9 * travel_room / max(T - 1, 1))
        velocity = speed * np.array([np.cos(angle), np.sin(angle)])
        span = velocity * (T - 1)
        start = rng.uniform(margin - np.minimum(span, 0), S - margin - np.maximum(span, 0))
        centres = start + velocity * np.arange(T)[:, None]
        centres = np.round(centres).astype(int)  # whole-pixel motion keeps the texture crisp
        video = np.empty((T, S, S, 3), np.uint8)
        pix = grid_pixels(S, S, self.grid)
        c0 = centres[0]
        on = (np.abs(pix[:, 0] - c0[0]) <= side / 2 - 0.5) & (np.abs(pix[:, 1] - c0[1]) <= side / 2 - 0.5)
        tracks = np.repeat(pix[None].astype(np.float32), T, axis=0)
        tracks[:, on] += (centres - c0)[:, None, :].astype(np.float32)
        vis = np.ones((T, len(pix)), bool)
        for t in range(T):
            frame = background.copy()
            x0, y0 = centres[t] - side // 2
            ys, xs = slice(max(y0, 0), min(y0 + side, S)), slice(max(x0, 0), min(x0 + side, S))
            frame[ys, xs] = texture[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
            video[t] = np.clip(frame, 0, 255).astype(np.uint8)
            covered = (tracks[t, :, 0] >= x0 - 0.5) & (tracks[t, :, 0] < x0 + side - 0.5) & \
                      (tracks[t, :, 1] >= y0 - 0.5) & (tracks[t, :, 1] < y0 + side - 0.5)
            inside = (tracks[t] >= -0.5).all(-1) & (tracks[t] <= S - 0.5).all(-1)
            vis[t] = inside & (on | ~covered)
        direction = ["right", "down-right", "down", "down-left", "left", "up-left", "up", "up-right"][
            int(np.round(angle / (np.pi / 4))) % 8]
        return {"video": video, "depth": np.full((T, S, S), 5.0, np.float32), "tracks": tracks, "visibility": vis,
                "object_ids": on.astype(np.int64), "K": intrinsics_from_fov(S, S, 60.0).astype(np.float32),
                "c2w": np.repeat(np.eye(4, dtype=np.float32)[None], T, axis=0),
                "caption": f"a {name} square moves {direction}", "seed": int(seed)}

    def __getitem__(self, i: int) -> dict:
        item = self.clip(self.seed_start + int(i))
        return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in item.items()}
