"""`SynthWorlds`: seed in, one clip with exact ground truth out.

    worlds = SynthWorlds(size=128, frames=81)
    clip = worlds.clip(seed=7)
    clip.video       # uint8 [81, 128, 128, 3]
    clip.tracks      # float32 [81, 2500, 2] pixel (x, y); NaN where behind the camera
    clip.visibility  # bool [81, 2500]
    clip.caption     # "a teal striped crate in front of ... , the camera walks forward"

The same seed and texture bank give the same clip (bit-exact on one GL driver; different drivers
may differ in the last bit of a few colours, never in geometry or tracks beyond float rounding).
Seeds below HELDOUT_SEED_START are the training split, seeds from it on are held out for evaluation.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ...frames import FPS
from .caption import caption
from .ground_truth import surface_tracks
from .raster import NEAR, WorldRenderer
from .textures import TextureBank, texture_bank
from .world_spec import WorldSpec, generate_world

HELDOUT_SEED_START = 1_000_000_000
GENERATOR_VERSION = 1


def object_motion(matrices: np.ndarray) -> np.ndarray:
    """Per-slot world transforms [T, 1 + K, 4, 4] -> each moving object's motion since frame 0
    [T, K, 4, 4] (a point it carries moves from p to M p), what the warp renderer moves masks by."""
    moving = matrices[:, 1:]
    return (moving @ np.linalg.inv(moving[:1])).astype(np.float32)


def split_seeds(split: str, start: int, count: int) -> np.ndarray:
    """Seeds `start .. start+count-1` of a split ("train" from 0, "heldout" from HELDOUT_SEED_START)."""
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
    base = 0 if split == "train" else HELDOUT_SEED_START
    seeds = base + int(start) + np.arange(int(count))
    if split == "train" and len(seeds) and seeds[-1] >= HELDOUT_SEED_START:
        raise ValueError(f"training seeds must stay below {HELDOUT_SEED_START} (the held-out range)")
    return seeds


@dataclass
class Clip:
    seed: int
    video: np.ndarray  # uint8 [T, H, W, 3]
    depth: np.ndarray  # float32 [T, H, W] camera z (metric, world units)
    tracks: np.ndarray  # float32 [T, N, 2]
    visibility: np.ndarray  # bool [T, N]
    object_ids: np.ndarray  # int32 [N]: 0 static world, k moving object k
    K: np.ndarray  # float32 [3, 3]
    c2w: np.ndarray  # float32 [T, 4, 4] OpenCV axes
    caption: str
    fps: float = FPS
    timing: dict = field(default_factory=dict)
    object_slots: np.ndarray | None = None  # uint8 [H, W]: the moving object each frame-0 pixel shows (0 static)
    object_motion: np.ndarray | None = None  # float32 [T, MAX_MOVING, 4, 4]: each object's motion since frame 0

    def __len__(self) -> int:
        return len(self.video)


class SynthWorlds:
    def __init__(self, size: int | tuple[int, int] = 128, frames: int = 81, grid: int = 50, fps: float = FPS,
                 bank_seed: int = 0, samples: int = 1, bank: TextureBank | None = None):
        self.width, self.height = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        if min(self.width, self.height) < 16 or frames < 2 or grid < 2:
            raise ValueError("need size >= 16, frames >= 2 and grid >= 2")
        self.frames, self.grid, self.fps = int(frames), int(grid), float(fps)
        self.bank = bank or texture_bank(bank_seed)
        self.renderer = WorldRenderer(self.width, self.height, self.bank, samples=samples)

    def world(self, seed: int) -> WorldSpec:
        return generate_world(seed, self.bank, self.width, self.height, self.frames, self.fps)

    def clip(self, seed: int) -> Clip:
        t0 = time.perf_counter()
        spec = self.world(seed)
        t1 = time.perf_counter()
        video, depth, slot0, solid0 = self.renderer.render(spec)
        t2 = time.perf_counter()
        tracks, vis, _, ids = surface_tracks(depth, slot0, spec.K, spec.camera.c2w, spec.object_matrices(),
                                             grid=self.grid, near=NEAR)
        text = caption(spec, solid0)
        t3 = time.perf_counter()
        return Clip(int(seed), video, depth, tracks, vis, ids, spec.K.astype(np.float32),
                    spec.camera.c2w.astype(np.float32), text, self.fps,
                    timing={"world": t1 - t0, "render": t2 - t1, "tracks": t3 - t2},
                    object_slots=slot0.astype(np.uint8), object_motion=object_motion(spec.object_matrices()))

    def describe(self) -> dict:
        return {"generator_version": GENERATOR_VERSION, "width": self.width, "height": self.height,
                "frames": self.frames, "fps": self.fps, "grid": self.grid, "texture_bank": self.bank.fingerprint,
                "texture_layers": len(self.bank), "samples": self.renderer.samples}
