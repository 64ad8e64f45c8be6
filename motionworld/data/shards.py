"""Synthetic-world datasets on disk: safetensors shards plus a manifest.

    DIR/manifest.json            what generated the data, the split and seeds, each shard's sha256
    DIR/shard-00000.safetensors  `clips_per_shard` clips stacked on a leading axis

Per clip: video uint8 [T,H,W,3]; depth float16 [T,H,W] (camera z); tracks float16 [T,N,2] (pixel
x, y; NaN behind the camera; clipped to the float16 range); visibility bool [T,N]; object_ids int32
[N]; K float32 [3,3]; c2w float32 [T,4,4]; seed int64. Captions are in the shard's metadata (JSON).
The manifest is rewritten after every shard, so an interrupted run keeps what it finished and the
same command resumes it.
"""
from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..checksums import sha256_file
from ..errors import MotionWorldError
from .synth import SynthWorlds, split_seeds

FORMAT = "motionworld-synth"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
F16_MAX = float(np.finfo(np.float16).max)


def clips_to_tensors(clips) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    tensors = {
        "video": np.stack([c.video for c in clips]),
        "depth": np.stack([np.minimum(c.depth, F16_MAX) for c in clips]).astype(np.float16),
        "tracks": np.stack([np.clip(c.tracks, -F16_MAX, F16_MAX) for c in clips]).astype(np.float16),
        "visibility": np.stack([c.visibility for c in clips]),
        "object_ids": np.stack([c.object_ids for c in clips]).astype(np.int32),
        "K": np.stack([c.K for c in clips]).astype(np.float32),
        "c2w": np.stack([c.c2w for c in clips]).astype(np.float32),
        "seed": np.array([c.seed for c in clips], dtype=np.int64),
        "object_slots": np.stack([c.object_slots for c in clips]).astype(np.uint8),
        "object_motion": np.stack([c.object_motion for c in clips]).astype(np.float32),
    }
    return tensors, {"captions": json.dumps([c.caption for c in clips])}


def write_shard(path: Path, clips) -> dict:
    from safetensors.numpy import save_file

    tensors, meta = clips_to_tensors(clips)
    tmp = path.with_name(path.name + ".partial")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp), metadata=meta)
    os.replace(tmp, path)
    return {"file": path.name, "clips": len(clips), "seeds": [int(clips[0].seed), int(clips[-1].seed)],
            "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def read_manifest(root: str | Path) -> dict:
    root = Path(root)
    path = root / MANIFEST
    if not root.is_dir():
        raise MotionWorldError(f"dataset folder not found: {root}")
    if not path.is_file():
        raise MotionWorldError(f"{path}: no manifest (not a dataset written by 'motionworld data synth')")
    try:
        m = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise MotionWorldError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    if m.get("format") != FORMAT or m.get("format_version") != FORMAT_VERSION:
        raise MotionWorldError(f"{path}: format {m.get('format')!r} v{m.get('format_version')!r}, "
                               f"expected {FORMAT!r} v{FORMAT_VERSION}")
    return m


def _write_manifest(root: Path, manifest: dict) -> None:
    tmp = root / (MANIFEST + ".partial")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, root / MANIFEST)


def verify(root: str | Path) -> list[str]:
    """Problems with a dataset's shards (missing, wrong size or wrong sha256); empty when sound."""
    root = Path(root)
    m = read_manifest(root)
    problems = []
    for s in m["shards"]:
        p = root / s["file"]
        if not p.is_file():
            problems.append(f"{p}: missing")
        elif p.stat().st_size != s["bytes"]:
            problems.append(f"{p}: {p.stat().st_size} bytes, manifest says {s['bytes']}")
        elif sha256_file(p) != s["sha256"]:
            problems.append(f"{p}: sha256 does not match the manifest")
    return problems


_WORKER: dict = {}


def _generate_in_worker(args):
    seeds, config = args

    if _WORKER.get("config") != config:  # one SynthWorlds (and GL context) per worker process
        _WORKER.update(config=config, worlds=SynthWorlds(**config))
    return [_WORKER["worlds"].clip(int(s)) for s in seeds]


def write_dataset(out: str | Path, clips: int, *, size: int = 128, frames: int = 81, grid: int = 50,
                  split: str = "train", seed_start: int = 0, clips_per_shard: int = 16, workers: int = 1,
                  samples: int = 1, bank_seed: int = 0, progress: Callable[[int], None] | None = None) -> dict:
    """Generate `clips` clips of `split` into shards under `out`; returns the manifest.

    `progress(n)` is called as clips finish. Resumes: shards already listed in a manifest written
    with the same settings are kept."""

    if clips < 1 or clips_per_shard < 1 or workers < 1:
        raise MotionWorldError("--clips, --clips-per-shard and --workers must be >= 1")
    try:
        seeds = split_seeds(split, seed_start, clips)
    except ValueError as e:
        raise MotionWorldError(str(e)) from None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = {"size": size, "frames": frames, "grid": grid, "samples": samples, "bank_seed": bank_seed}
    settings = {"split": split, "seed_start": int(seed_start), "clips": int(clips),
                "clips_per_shard": int(clips_per_shard), "config": config}
    progress = progress or (lambda n: None)
    if (out / MANIFEST).is_file():
        manifest = read_manifest(out)
        if manifest.get("settings") != settings:
            raise MotionWorldError(f"{out} already holds a dataset written with other settings "
                                   f"({manifest.get('settings')}); choose another --out")
        manifest["shards"] = [s for s in manifest["shards"]
                              if (out / s["file"]).is_file() and (out / s["file"]).stat().st_size == s["bytes"]]
    elif any(out.iterdir()):
        raise MotionWorldError(f"{out} is not empty and holds no dataset manifest; choose an empty folder")
    else:
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "settings": settings,
                    "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "generator": None, "shards": [], "captions": {}}
    finished = {s["file"] for s in manifest["shards"]}
    groups = [seeds[i:i + clips_per_shard] for i in range(0, len(seeds), clips_per_shard)]
    todo = [(f"shard-{i:05d}.safetensors", g) for i, g in enumerate(groups)]
    todo = [(name, g) for name, g in todo if name not in finished]
    progress(sum(s["clips"] for s in manifest["shards"]))

    def finish(name, shard_clips):
        manifest["shards"].append(write_shard(out / name, shard_clips))
        manifest["shards"].sort(key=lambda s: s["file"])
        manifest["captions"].update({str(c.seed): c.caption for c in shard_clips})
        _write_manifest(out, manifest)

    if workers == 1:
        worlds = SynthWorlds(**config)
        manifest["generator"] = worlds.describe()
        for name, g in todo:
            batch = []
            for seed in g:
                batch.append(worlds.clip(int(seed)))
                progress(1)
            finish(name, batch)
    else:
        import multiprocessing as mp

        # Each worker owns its GL context (spawned processes, never forked) and renders whole shards.
        with mp.get_context("spawn").Pool(workers) as pool:
            for (name, _), batch in zip(todo, pool.imap(_generate_in_worker, [(g, config) for _, g in todo])):
                manifest["generator"] = manifest["generator"] or pool.apply(_describe_in_worker, (config,))
                finish(name, batch)
                progress(len(batch))
    _write_manifest(out, manifest)
    return manifest


def _describe_in_worker(config):
    _generate_in_worker(([], config))
    return _WORKER["worlds"].describe()
