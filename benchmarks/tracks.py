"""Track projection speed: frames of tracks per second for a scene and path, with and without the
occlusion test, measured in one run (ratios are what to compare; absolute times are noisy).

    python benchmarks/tracks.py [scenes/garden/scene.yaml] [--path walk] [--grid 50] [--repeat 3]
"""
from __future__ import annotations

import argparse
import time

import motionworld as mw


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scene", nargs="?", default="scenes/garden/scene.yaml")
    ap.add_argument("--path", default=None)
    ap.add_argument("--grid", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    t0 = time.perf_counter()
    world = mw.World(a.scene, grid=a.grid)
    setup = time.perf_counter() - t0
    path = a.path or world.default_path()
    best = {}
    for occlusion in (True, False):
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            r = world.tracks(path, occlusion=occlusion)
            times.append(time.perf_counter() - t)
        best[occlusion] = len(r) / min(times)
    s = world.scene
    print(f"scene {a.scene} ({s.width}x{s.height}), path {path!r}, {len(r)} frames, "
          f"{world.field.num_tracks} tracks, z-buffer {world.field.zb_shape[1]}x{world.field.zb_shape[0]}")
    print(f"load + lift: {setup:.2f} s")
    print(f"tracks with occlusion: {best[True]:.0f} frames/s; without: {best[False]:.0f} frames/s; "
          f"occlusion costs {best[False] / best[True]:.1f}x")


if __name__ == "__main__":
    main()
