"""`motionworld data synth | bench | preview`: the synthetic-world commands."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from ..errors import MotionWorldError
from ..frames import FPS
from ..geometry.camera import scale_pixels
from ..geometry.trackfield import grid_pixels
from ..limits import MAX_CLIP_FRAMES, MAX_CLIPS, MAX_SEED
from ..raster.gl import renderer_name
from ..raster.overlay import draw_points, track_colors
from ..video import VideoWriter
from .shards import write_dataset
from .synth import SynthWorlds
from .synth.generator import split_seeds
from .synth.textures import TextureBank


def _check_sizes(args) -> None:
    if not 16 <= args.size <= 2048 or args.size % 8:
        raise MotionWorldError(f"--size must be a multiple of 8 in [16, 2048], got {args.size}")
    if not 2 <= args.frames <= MAX_CLIP_FRAMES:  # a clip is held in memory whole
        raise MotionWorldError(f"--frames must be in [2, {MAX_CLIP_FRAMES}], got {args.frames}")
    if args.msaa not in (1, 2, 4, 8):
        raise MotionWorldError(f"--msaa must be 1, 2, 4 or 8, got {args.msaa}")
    if not 1 <= getattr(args, "workers", 1) <= 64:
        raise MotionWorldError("--workers must be in [1, 64]")
    if not 1 <= getattr(args, "clips", 1) <= MAX_CLIPS:
        raise MotionWorldError(f"--clips must be in [1, {MAX_CLIPS}], got {args.clips}")


def _single_threaded_llvmpipe() -> None:
    # At these frame sizes Mesa's software rasteriser is fastest without its own thread pool;
    # parallelism comes from worker processes instead. Only affects llvmpipe; a user's setting wins.
    os.environ.setdefault("LP_NUM_THREADS", "0")


def synth(args) -> int:
    from tqdm import tqdm


    _check_sizes(args)
    if not 2 <= args.grid <= 512:
        raise MotionWorldError(f"--grid must be in [2, 512], got {args.grid}")
    if not 0 <= args.seed_start <= MAX_SEED - args.clips:
        raise MotionWorldError(f"--seed-start must be in [0, {MAX_SEED - args.clips}], got {args.seed_start}")
    try:
        split_seeds(args.split, args.seed_start, args.clips)
    except ValueError as e:  # training seeds that would reach the held-out range
        raise MotionWorldError(f"--seed-start {args.seed_start}: {e}") from None
    _single_threaded_llvmpipe()
    t0 = time.perf_counter()
    with tqdm(total=args.clips, desc="synth", unit="clip", disable=None) as bar:
        m = write_dataset(args.out, args.clips, size=args.size, frames=args.frames, grid=args.grid, split=args.split,
                          seed_start=args.seed_start, clips_per_shard=args.clips_per_shard, workers=args.workers,
                          samples=args.msaa, progress=bar.update)
    dt = time.perf_counter() - t0
    total = sum(s["bytes"] for s in m["shards"])
    print(f"wrote {args.out}: {args.clips} clips ({args.split}, seeds {m['shards'][0]['seeds'][0]}.."
          f"{m['shards'][-1]['seeds'][1]}) in {len(m['shards'])} shard(s), {total / 1e6:.1f} MB, {dt:.1f} s")
    return 0


def _bench_worker(args):
    config, seeds = args

    worlds = SynthWorlds(**config)
    worlds.clip(int(seeds[0]) + 10_000)  # warm-up: shader compilation, first uploads
    split = {"world": 0.0, "render": 0.0, "tracks": 0.0}
    t0 = time.perf_counter()
    for s in seeds:
        c = worlds.clip(int(s))
        for k, v in c.timing.items():
            split[k] += v
    return time.perf_counter() - t0, split, len(seeds) * worlds.frames


def bench(args) -> int:
    _check_sizes(args)
    if args.clips < 1:
        raise MotionWorldError("--clips must be >= 1")
    _single_threaded_llvmpipe()

    t0 = time.perf_counter()
    TextureBank()
    bank_s = time.perf_counter() - t0
    config = {"size": args.size, "frames": args.frames, "samples": args.msaa}
    seeds = np.arange(args.clips)
    if args.workers == 1:
        results = [_bench_worker((config, seeds))]
        wall = results[0][0]
    else:
        import multiprocessing as mp

        parts = [seeds[i::args.workers] for i in range(args.workers)]
        with mp.get_context("spawn").Pool(args.workers) as pool:
            # Each worker times its own steady state (after a warm-up clip); they run side by side.
            results = pool.map(_bench_worker, [(config, p) for p in parts if len(p)])
            wall = max(r[0] for r in results)
    frames = sum(r[2] for r in results)
    split = {k: sum(r[1][k] for r in results) / frames * 1000 for k in ("world", "render", "tracks")}
    fps = frames / wall
    report = {"frames_per_s": fps, "size": args.size, "frames_per_clip": args.frames, "clips": args.clips,
              "workers": args.workers, "msaa": args.msaa, "ms_per_frame": split, "texture_bank_s": bank_s,
              "gl_renderer": renderer_name()}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{fps:.0f} frames/s")
    print(f"  {args.clips} clips x {args.frames} frames at {args.size}x{args.size}, {args.workers} worker(s), "
          f"msaa {args.msaa}, {report['gl_renderer']}")
    print(f"  per frame (one worker): world {split['world']:.2f} ms, render {split['render']:.2f} ms, "
          f"tracks+caption {split['tracks']:.2f} ms; texture bank built once in {bank_s:.2f} s")
    return 0


PREVIEW_MAX_SIDE = 8192  # pixels a side of the preview video (H.264 levels stop there too)


def preview(args) -> int:
    from PIL import Image
    from tqdm import tqdm

    from .dataset import SynthClipDataset

    if not (1 <= args.clips <= 64 and 1 <= args.scale <= 16 and args.every >= 1):
        raise MotionWorldError("--clips must be in [1, 64], --scale in [1, 16] and --every >= 1")
    ds = SynthClipDataset(args.dataset)
    if not 0 <= args.start < len(ds):
        raise MotionWorldError(f"--start {args.start} is outside the dataset's {len(ds)} clips")
    items = [ds[i] for i in range(args.start, min(len(ds), args.start + args.clips))]
    cols = int(np.ceil(np.sqrt(len(items))))
    rows = int(np.ceil(len(items) / cols))
    T, H, W = items[0]["video"].shape[:3]
    if items[0]["tracks"].shape[1] != round(np.sqrt(items[0]["tracks"].shape[1])) ** 2:
        raise MotionWorldError("tracks are not a square grid; cannot colour them by position")
    s = args.scale
    if max(rows * H * s, cols * W * s) > PREVIEW_MAX_SIDE:  # before a frame of it is allocated
        raise MotionWorldError(f"the preview would be {cols * W * s}x{rows * H * s}, over {PREVIEW_MAX_SIDE} pixels a "
                               "side; lower --scale or --clips")
    grid = round(np.sqrt(items[0]["tracks"].shape[1]))
    pixels = grid_pixels(W, H, grid)
    colours = [track_colors(pixels, W, H, it["object_ids"].numpy()) for it in items]  # moving objects in flat colours
    lattice = np.arange(grid)
    shown = ((lattice[:, None] % args.every == 0) & (lattice[None, :] % args.every == 0)).ravel()
    output = args.output or Path(args.dataset) / "preview.mp4"
    for i, it in enumerate(items):
        print(f"clip {args.start + i} (seed {it['seed']}): {it['caption']}")
    with VideoWriter(output, fps=FPS) as writer:
        for t in tqdm(range(T), desc="preview", unit="frame", disable=None):
            canvas = np.zeros((rows * H * s, cols * W * s, 3), np.uint8)
            for i, it in enumerate(items):
                frame = np.array(Image.fromarray(it["video"][t].numpy()).resize((W * s, H * s),
                                                                                Image.Resampling.BICUBIC))
                xy = scale_pixels(it["tracks"][t].numpy(), s)
                vis = it["visibility"][t].numpy() & shown
                draw_points(frame, xy, colours[i], radius=max(1, s // 2 + 1), visible=vis)
                r, q = divmod(i, cols)
                canvas[r * H * s:(r + 1) * H * s, q * W * s:(q + 1) * W * s] = frame
            writer.write(canvas)
    print(f"wrote {output} ({len(items)} clips, {T} frames)")
    return 0

