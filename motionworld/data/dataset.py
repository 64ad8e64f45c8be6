"""A torch Dataset of synthetic-world clips, read from shards or generated on the fly.

    ds = SynthClipDataset("data/synth")                              # shards from `motionworld data synth`
    ds = SynthClipDataset(count=1000, split="train", size=128)       # generated on demand, seed = index
    item = ds[0]

Each item is a dict:
    video       uint8   [T, H, W, 3]
    depth       float32 [T, H, W]      camera z in world units
    tracks      float32 [T, N, 2]      pixel (x, y) of pixel centres; NaN behind the camera
    visibility  bool    [T, N]
    object_ids  int64   [N]            0 static world, k moving object k
    K           float32 [3, 3]
    c2w         float32 [T, 4, 4]      OpenCV axes
    caption     str
    seed        int
    object_slots   uint8   [H, W]            the moving object each frame-0 pixel shows (0 static world)
    object_motion  float32 [T, 3, 4, 4]      each object's motion since frame 0 (what the warp needs)
    depth0         float32 [H, W]            frame 0's depth alone (with first_depth=True)
(shards written before 2026-12-03 lack the last two.)
A seed gives the same clip from shards or on the fly (shards keep depth and tracks as float16).
The generator (and its GL context) is created lazily in each DataLoader worker process; workers
that generate must be spawned, not forked (a GL context does not survive fork): `ds.loader(...)`
returns a DataLoader set up that way.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import MotionWorldError
from .shards import read_manifest
from .synth import SynthWorlds, split_seeds


class SynthClipDataset(Dataset):
    def __init__(self, root: str | Path | None = None, *, count: int | None = None, split: str = "train",
                 seed_start: int = 0, size: int | tuple[int, int] = 128, frames: int = 81, grid: int = 50,
                 bank_seed: int = 0, load_depth: bool = True, first_depth: bool = False):
        self.load_depth, self.first_depth = load_depth, first_depth
        self.root = Path(root) if root is not None else None
        if self.root is not None:
            if count is not None:
                raise ValueError("give either a dataset folder or count (on-the-fly generation), not both")
            self.manifest = read_manifest(self.root)
            self.index = []  # (shard file, row)
            for s in self.manifest["shards"]:
                path = self.root / s["file"]
                if not path.is_file():
                    raise MotionWorldError(f"{path}: shard listed in the manifest is missing")
                if path.stat().st_size != s["bytes"]:
                    raise MotionWorldError(f"{path}: {path.stat().st_size} bytes, "
                                           f"the manifest says {s['bytes']} (truncated?)")
                self.index += [(path, r) for r in range(s["clips"])]
            self.seeds = None
        else:

            if count is None or count < 1:
                raise ValueError("on-the-fly generation needs count >= 1")
            self.seeds = split_seeds(split, seed_start, count)
            self.config = {"size": size, "frames": frames, "grid": grid, "bank_seed": bank_seed}
        self._pid = None
        self._handles: dict = {}
        self._worlds = None

    def __len__(self) -> int:
        return len(self.index) if self.root is not None else len(self.seeds)

    def _per_process(self):
        if self._pid != os.getpid():  # a fresh DataLoader worker: reopen files, rebuild GL
            self._pid, self._handles, self._worlds = os.getpid(), {}, None

    def _from_shard(self, i: int) -> dict:
        from safetensors import safe_open

        path, row = self.index[i]
        if path not in self._handles:
            f = safe_open(str(path), framework="np")
            self._handles[path] = (f, json.loads(f.metadata()["captions"]))
        f, captions = self._handles[path]

        def get(name):
            return f.get_slice(name)[row]  # reads this clip only
        item = {
            "video": get("video"), "tracks": get("tracks").astype(np.float32), "visibility": get("visibility"),
            "object_ids": get("object_ids").astype(np.int64), "K": get("K"), "c2w": get("c2w"),
            "seed": int(get("seed")),
        }
        if self.load_depth:
            item["depth"] = get("depth").astype(np.float32)
        if self.first_depth:  # what a warp of the first frame needs, without reading every frame's
            item["depth0"] = f.get_slice("depth")[row:row + 1, 0:1][0, 0].astype(np.float32)
        for name in ("object_slots", "object_motion"):  # absent from shards written before they were
            if name in f.keys():
                item[name] = get(name)
        item["caption"] = captions[row]
        return item

    def _generated(self, i: int) -> dict:

        if self._worlds is None:
            self._worlds = SynthWorlds(**self.config)
        c = self._worlds.clip(int(self.seeds[i]))
        item = {"video": c.video, "tracks": c.tracks, "visibility": c.visibility,
                "object_ids": c.object_ids.astype(np.int64), "K": c.K, "c2w": c.c2w, "seed": c.seed,
                "caption": c.caption, "object_slots": c.object_slots, "object_motion": c.object_motion}
        if self.load_depth:
            item["depth"] = c.depth
        if self.first_depth:
            item["depth0"] = c.depth[0]
        return item

    def __getitem__(self, i: int) -> dict:
        if not -len(self) <= i < len(self):
            raise IndexError(f"clip {i} out of range for {len(self)} clips")
        i %= len(self)
        self._per_process()
        item = self._from_shard(i) if self.root is not None else self._generated(i)
        return {k: (torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v)
                for k, v in item.items()}

    def loader(self, batch_size: int | None = 1, num_workers: int = 0, **kwargs) -> torch.utils.data.DataLoader:
        """A DataLoader whose workers are spawned (needed for on-the-fly generation, harmless for shards)."""
        if num_workers > 0:
            kwargs.setdefault("multiprocessing_context", "spawn")
            kwargs.setdefault("persistent_workers", True)  # keep each worker's GL context and texture bank
        return torch.utils.data.DataLoader(self, batch_size=batch_size, num_workers=num_workers, **kwargs)

    def __getstate__(self):  # DataLoader pickles the dataset into workers: no open files or GL
        state = self.__dict__.copy()
        state.update(_pid=None, _handles={}, _worlds=None)
        return state


def collate(items: list[dict], frames: int | None = None) -> dict:
    """Stack items (cut to their first `frames` frames); video becomes float [B, T, 3, H, W] in [0, 1]."""
    sl = slice(0, frames)
    return {
        "video": torch.stack([it["video"][sl] for it in items]).permute(0, 1, 4, 2, 3).float() / 255.0,
        "tracks": torch.stack([it["tracks"][sl] for it in items]),
        "visibility": torch.stack([it["visibility"][sl] for it in items]),
        "object_ids": torch.stack([it["object_ids"] for it in items]),
        "caption": [it["caption"] for it in items],
        "seed": [it["seed"] for it in items],
    }
