"""The play window's pace: how fast frames are generated and shown, and how regularly input is
polled, on a real window (run it under Xvfb on a server). W is held for the whole run.

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python benchmarks/window.py [scene] [--backend warp]
        [--size 384] [--seconds 20] [--slow 1.0] [--json]

--slow S wraps the generator so every chunk takes at least S more seconds (the responsiveness
case: input must keep its pace while the model is slow). Figures are from one run; compare
settings within one run of this script, absolute times are noisy on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pygame

from controllers import keys as sc
from motionworld.play import commands
from motionworld.play.defaults import default_scene, session_spec
from motionworld.play.session import Session, make_generator
from motionworld.world import World


class Slowed:
    """Any generator, `extra` seconds slower per chunk."""

    def __init__(self, inner, extra: float):
        self.inner, self.extra = inner, extra
        self.name = f"{inner.name} +{extra:g}s"

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def step(self, chunk):
        time.sleep(self.extra)
        return self.inner.step(chunk)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scene", nargs="?", default=None)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--slow", type=float, default=0.0)
    ap.add_argument("--window-size", default="1024x640")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    world = World(a.scene or default_scene())
    spec, note = session_spec(world.scene, a.backend, a.weights, a.size)
    options = {k: v for k, v in spec["options"].items() if k != "grid"}
    generator = make_generator(spec["backend"], **options)
    if a.slow > 0:
        generator = Slowed(generator, a.slow)
    session = Session(world, generator, controller=commands.controls_for(world))
    session.spec = spec
    w, h = (int(v) for v in a.window_size.split("x"))
    window = commands.make_window(session, size=(w, h), out_dir="captures/bench")
    shown, busy = [], []

    def on_step(win):
        if len(win.polls) == 1:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, scancode=sc.W, mod=0, unicode="w"))
        busy.append(win.player.busy)

    original_show = window._show

    def show(frame):
        shown.append(time.perf_counter())
        original_show(frame)

    window._show = show
    window.run(max_seconds=a.seconds, on_step=on_step)

    polls = np.array(window.polls)
    gaps = np.diff(polls) * 1000
    timings = list(window.player.timings)
    frames = sum(t.frames for t in timings)
    result = {
        "backend": session.generator.name, "size": f"{session.generator.width}x{session.generator.height}",
        "seconds": a.seconds, "note": note,
        "generated_fps": frames / max(sum(t.latency_s for t in timings), 1e-9),
        "shown_fps": (len(shown) - 1) / (shown[-1] - shown[0]) if len(shown) > 1 else 0.0,
        "display_fps": len(polls) / (polls[-1] - polls[0]),
        "poll_gap_ms": {"median": float(np.median(gaps)), "p95": float(np.percentile(gaps, 95)),
                        "max": float(gaps.max())},
        "poll_gap_while_generating_ms": float(np.percentile(gaps[np.array(busy[1:len(gaps) + 1], bool)], 95))
        if any(busy) else None,
        "chunk_latency_ms": float(np.median([t.latency_s for t in timings]) * 1000),
        "latency_split_ms": {k: float(np.median([t.split[k] for t in timings]) * 1000) for k in timings[-1].split},
    }
    if a.json:
        print(json.dumps(result))
        return
    print(f"{result['backend']} at {result['size']}, {a.seconds:g} s, window {a.window_size}")
    print(f"  generated {result['generated_fps']:.1f} fps, shown {result['shown_fps']:.1f} fps (real time is 16)")
    print(f"  display loop {result['display_fps']:.1f} polls/s; gap median {result['poll_gap_ms']['median']:.1f} ms, "
          f"p95 {result['poll_gap_ms']['p95']:.1f} ms, max {result['poll_gap_ms']['max']:.1f} ms; "
          f"p95 while a chunk is being made {result['poll_gap_while_generating_ms'] or 0:.1f} ms")
    split = ", ".join(f"{k} {v:.0f} ms" for k, v in result["latency_split_ms"].items())
    print(f"  chunk latency median {result['chunk_latency_ms']:.0f} ms ({split})")


if __name__ == "__main__":
    main()
