"""Soak: a long stream through the loop `motionworld play` runs (Player worker thread, input log in
memory, frames taken as they come), printing the process's RSS and the chunk latency every 1,000
frames, so growth over hours shows up in minutes.

The camera walks a loop of held inputs (forward, turn, back, turn the other way: what a person at
the keyboard does, and it stays near the picture so the tracks stay on screen). The figures are
measured, not asserted: memory should level off after warm-up (allocator pools, the first chunks'
caches) and latency should stay flat; the cache of the student is constant by design. With
glibc's default malloc arenas (`--glibc-arenas`) RSS wanders 100-160 MB higher without a trend;
the command line caps them at 2 (`motionworld.limits.limit_malloc_arenas`), as this script does.

    python benchmarks/soak.py [--frames 10000] [--every 1000] [--backend neural] [--scene scenes/garden/scene.yaml]
"""
from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np

import motionworld as mw
from motionworld.limits import limit_malloc_arenas
from motionworld.play.defaults import default_scene, session_spec
from motionworld.play.input_log import InputLog
from motionworld.play.player import Player

PATTERN = [  # (move right/up/forward, turn yaw/pitch): held one chunk each
    ((0, 0, 1), (0, 0)), ((0, 0, 1), (0.5, 0)), ((0, 0, 0), (0.5, 0)), ((0, 0, -1), (0, 0)),
    ((0, 0, -1), (-0.5, 0)), ((0, 0, 0), (-0.5, 0)), ((1, 0, 0), (0, 0)), ((-1, 0, 0), (0, 0)),
]


class LoopedInputs:
    """Stands in for the window's input latch: one held command per chunk, round and round."""

    def __init__(self):
        self.cycle = itertools.cycle(PATTERN)

    def take(self):
        move, turn = next(self.cycle)
        return mw.ControlCommand(move=np.array(move, float), turn=np.array(turn, float)), None


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--every", type=int, default=1_000)
    ap.add_argument("--backend", default="neural", choices=mw.plugins.names(mw.plugins.BACKENDS))
    ap.add_argument("--scene", default=None)
    ap.add_argument("--size", type=int, default=384, help="longest side of warp frames")
    ap.add_argument("--glibc-arenas", action="store_true",
                    help="keep glibc's default malloc arenas (the command line caps them at 2)")
    args = ap.parse_args()
    if not args.glibc_arenas:
        limit_malloc_arenas()  # as `motionworld play` and `render` do

    world = mw.World(args.scene or default_scene())
    spec, note = session_spec(world.scene, args.backend, None, args.size, 0)
    if note:
        print(note)
    session = mw.Session.from_spec(spec, world=world)
    log = InputLog({"session": spec})  # kept in memory, as the window keeps it for F8
    player = Player(session, latch=LoopedInputs(), log=log).start()
    print(f"{args.backend} backend on {world.scene.name}, {args.frames} frames; RSS at start {rss_mb():.0f} MB")
    print(f"{'frames':>7} {'RSS MB':>7} {'chunk ms (median)':>18} {'max':>6} {'frames/s':>9}")
    taken, mark, seen = 0, time.perf_counter(), 0
    try:
        while taken < args.frames:
            if player.wait_frame(timeout=60) is None:
                raise RuntimeError("the player stopped before the soak ended")
            taken += 1
            if taken % args.every == 0:
                lat = np.array(list(player.latencies)[seen:]) * 1000
                seen = len(player.latencies)
                now = time.perf_counter()
                print(f"{taken:>7} {rss_mb():>7.0f} {np.median(lat):>18.0f} {lat.max():>6.0f} "
                      f"{args.every / (now - mark):>9.1f}", flush=True)
                mark = now
    finally:
        player.stop()
    print(f"log lines kept in memory: {len(log.lines)}; poses kept by the session: {len(session.poses)}")


if __name__ == "__main__":
    main()
