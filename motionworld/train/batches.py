"""Batches for the trainers: clips from the configured source, chosen by (seed, step, rank) so a
resumed run sees exactly the batches it would have seen."""
from __future__ import annotations

import numpy as np
import torch

from ..data.dataset import SynthClipDataset, collate
from ..data.synth import HELDOUT_SEED_START
from ..data.toy import MovingSquares
from ..data.warps import choose_kind, clip_warp
from ..errors import MotionWorldError
from .config import DataConfig


def make_dataset(cfg: DataConfig, heldout: bool = False):
    if cfg.warp and cfg.source == "squares":
        raise MotionWorldError("data.warp needs clips with depth and object masks: data.source synth or shards")
    width, height = cfg.frame_size
    if width != height and cfg.source != "synth":
        raise MotionWorldError(f"data.height: clips of another aspect ({width}x{height}) are made on the fly "
                               "(data.source synth); squares and shards are square")
    if cfg.source == "squares":
        return MovingSquares(cfg.heldout if heldout else cfg.count, cfg.size, cfg.frames,
                             seed_start=HELDOUT_SEED_START if heldout else 0)
    if cfg.source == "synth" or (heldout and cfg.heldout_path is None):
        return SynthClipDataset(count=cfg.heldout if heldout else cfg.count, split="heldout" if heldout else "train",
                                size=cfg.frame_size, frames=cfg.frames, load_depth=False, first_depth=cfg.warp)
    path = cfg.heldout_path if heldout else cfg.path
    if path is None:
        raise MotionWorldError("data.source 'shards' needs data.path (a folder from `motionworld data synth`)")
    ds = SynthClipDataset(path, load_depth=False, first_depth=cfg.warp)
    settings = ds.manifest["settings"]["config"]
    if settings["size"] != cfg.size or settings["frames"] < cfg.frames:
        raise MotionWorldError(f"{path}: clips are {settings['size']}px x {settings['frames']} frames; the config "
                               f"asks for {cfg.size}px x {cfg.frames} frames")
    return ds


def with_warps(batch: dict, items: list[dict], cfg: DataConfig, rng_key: list[int]) -> dict:
    """The batch with each clip's warp [B, T, 3, H, W] in [0, 1] and validity [B, T, H, W]
    (`motionworld.data.warps`), the depth kind drawn per clip from `cfg.warp_depth` by `rng_key`;
    its tracks and visibility are made from that depth too (the video, the target, stays true)."""
    mix = cfg.warp_depth.model_dump()
    warps, valids, tracks, vis = [], [], [], []
    for i, it in enumerate(items):
        if "object_slots" not in it:
            raise MotionWorldError("data.warp: these clips carry no object masks (shards written before "
                                   "2026-12-03); write them again with `motionworld data synth`")
        arrays = {k: (v.numpy() if torch.is_tensor(v) else v) for k, v in it.items()}
        for key in ("video", "c2w", "object_motion", "tracks", "visibility"):
            arrays[key] = arrays[key][:cfg.frames]
        rng = np.random.default_rng([*rng_key, i])
        frames, valid, tr, vi = clip_warp(arrays, choose_kind(rng, mix), rng, with_tracks=True,
                                          mesh_step=cfg.warp_mesh_step, depth_network=cfg.warp_depth_network)
        warps.append(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0)
        valids.append(torch.from_numpy(valid))
        tracks.append(torch.from_numpy(np.ascontiguousarray(tr, np.float32)))
        vis.append(torch.from_numpy(np.ascontiguousarray(vi, bool)))
    return {**batch, "warp": torch.stack(warps), "warp_valid": torch.stack(valids),
            "tracks": torch.stack(tracks).to(batch["tracks"].dtype), "visibility": torch.stack(vis)}


def to_device(batch: dict, device) -> dict:
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


def train_seeds(dataset, cfg: DataConfig) -> list[int]:
    """The first and last world seed a run's clips come from: the shards' own range when they are
    read from disk (their manifest says), else the generated range."""
    manifest = getattr(dataset, "manifest", None)
    if cfg.source == "shards" and manifest is not None:
        first = int(manifest["settings"]["seed_start"])
        return [first, first + len(dataset) - 1]
    return [0, cfg.count - 1]


class BatchSource:
    def __init__(self, cfg: DataConfig, batch_size: int, seed: int, rank: int = 0):
        self.cfg, self.batch_size, self.seed, self.rank = cfg, batch_size, seed, rank
        self.dataset = make_dataset(cfg)

    def batch(self, step: int) -> dict:
        rng = np.random.default_rng([self.seed, step, self.rank, 77])
        idx = rng.integers(0, len(self.dataset), self.batch_size)
        items = [self.dataset[int(i)] for i in idx]
        have = items[0]["video"].shape[0]
        if have < self.cfg.frames:
            raise MotionWorldError(f"clips have {have} frames, the config needs {self.cfg.frames}")
        batch = {**collate(items, self.cfg.frames), "index": torch.from_numpy(idx)}  # clip indices, for caches
        return with_warps(batch, items, self.cfg, [self.seed, step, self.rank, 78]) if self.cfg.warp else batch


def _as_is(item):  # a DataLoader's collate_fn that keeps what the worker made (module level: spawn pickles it)
    return item


class _Failed:
    """A one-line error met in a worker, carried back as a value (a DataLoader would re-raise it with
    the worker's whole traceback in the message)."""

    def __init__(self, message: str):
        self.message = message


class _Ahead(torch.utils.data.Dataset):
    def __init__(self, make, first: int, count: int):
        self.make, self.first, self.count = make, first, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, k: int):
        try:
            return self.make(self.first + k)
        except MotionWorldError as e:
            return _Failed(str(e))


def _relayed(items):
    for item in items:
        if isinstance(item, _Failed):
            raise MotionWorldError(item.message)
        yield item


def made_ahead(make, first: int, stop: int, workers: int = 0):
    """`make(i)` for i in [first, stop), in order: in this process, or by `workers` spawned processes
    a few ahead of the caller (each with its own GL context for the warps), so that a GPU is not kept
    waiting on clips and warps made one at a time. The values are the same either way, since `make`
    (e.g. `BatchSource.batch`) depends on its argument alone; it must pickle. What workers make
    arrives in shared memory (/dev/shm): keep it only as long as a step needs it, or copy it."""
    if workers <= 0 or stop <= first:
        return (make(i) for i in range(first, stop))
    loader = torch.utils.data.DataLoader(_Ahead(make, first, stop - first), batch_size=None, collate_fn=_as_is,
                                         num_workers=min(workers, stop - first), multiprocessing_context="spawn",
                                         prefetch_factor=2, generator=torch.Generator())  # not the global RNG
    return _relayed(iter(loader))
