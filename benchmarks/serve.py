"""Input feel and the web front-end against the window, in one run (run it under Xvfb on a server).

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python benchmarks/serve.py [--backend warp] [--size 256]
        [--cycles 200] [--json]

1. Input to motion: the same scripted key presses (W for 0.1, 0.3 and 1 s, J for 1 s) go to the
   window (real pygame key events) and to the page's protocol (input messages over a loopback
   WebSocket). For each press: how far the camera went against speed x held time (the error), and
   the latency from the press to the first shown frame whose camera moved.
2. Shown fps: the window's, and the page's with 1 and 4 players at once.
3. RSS of the server over `--cycles` connect / first frame / disconnect cycles.

Targets (issue 38, this CPU): the page's shown fps within 10 % of the window's, its median latency
at most 50 ms above the window's, RSS flat after warm-up. The window part also runs on the code
before issue 38 (`--window-only`), for the before/after figure of input to motion.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controllers import keys as sc  # noqa: E402
from motionworld.geometry.camera import ypr_from_rotation  # noqa: E402
from motionworld.play import commands  # noqa: E402
from motionworld.play.defaults import scene_path, session_spec  # noqa: E402
from motionworld.play.session import Session  # noqa: E402
from motionworld.world import World  # noqa: E402

PRESSES = [("W", 0.1), ("W", 0.3), ("J", 1.0), ("W", 1.0)]  # key, seconds held
GAP_S = 3.5  # from one press to the next: the last one's motion has landed and settled
FIRST_S = 3.0  # after the first frame, before the first press


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def pose(c2w) -> tuple[np.ndarray, float]:
    """(position, heading in degrees): what W and J change."""
    return np.array(c2w[:3, 3], dtype=float), float(ypr_from_rotation(c2w[:3, :3])[0])


def change(a, b, turned: bool) -> float:
    """How far the camera went between two poses (units), or turned (degrees)."""
    return abs(b[2] - a[2]) if turned else float(np.linalg.norm(b[1] - a[1]))


def press_schedule(start: float) -> list[tuple[str, float, float]]:
    return [(key, start + FIRST_S + i * GAP_S, held) for i, (key, held) in enumerate(PRESSES)]


def score(shown: list[tuple], schedule, rig) -> list[dict]:
    """Per press: the motion it made (poses shown just before it and just before the next) against
    speed x held time, and the latency to the first shown frame that moved."""
    times = np.array([t for t, _, _ in shown])
    out = []
    for i, (key, at, held) in enumerate(schedule):
        end = schedule[i + 1][1] if i + 1 < len(schedule) else times[-1] + 1e-6
        before = max(int(np.searchsorted(times, at)) - 1, 0)
        after = max(int(np.searchsorted(times, end)) - 1, before)
        turned = key == "J"
        expected = held * (rig.turn_speed_deg if turned else rig.move_speed)
        got = change(shown[before], shown[after], turned)
        moved = [p[0] for p in shown[before:after + 1] if change(shown[before], p, turned) > 1e-6]
        out.append({"key": key, "held_s": round(held, 3), "expected": expected, "got": round(got, 4),
                    "error": round(got / expected - 1, 3),
                    "latency_ms": round((moved[0] - at) * 1000) if moved else None})
    return out


def make_session(world, a) -> Session:
    spec, _ = session_spec(world.scene, a.backend, None, a.size)
    controls = getattr(commands, "controls_for", None) or commands._controls  # the code before issue 38
    session = Session.from_spec(spec, controller=controls(world), world=world)
    return session


# --- the window ---------------------------------------------------------------------------------
def bench_window(a) -> dict:
    import pygame

    world = World(scene_path(a.scene))
    session = make_session(world, a)
    window = commands.make_window(session, size=(640, 480), out_dir="captures/bench")
    window.show_hud = False
    shown, state = [], {"schedule": None, "down": None}
    codes = {"W": (pygame.K_w, sc.W), "J": (pygame.K_j, sc.J)}
    original = window._show

    def show(frame):
        original(frame)
        shown.append((time.perf_counter(), *pose(frame.c2w)))

    def post(kind, key):
        code, scancode = codes[key]
        pygame.event.post(pygame.event.Event(kind, key=code, scancode=scancode, mod=0, unicode=key.lower()))

    def on_step(w):
        now = time.perf_counter()
        if state["schedule"] is None:
            if shown:
                state["schedule"], state["pending"] = [], press_schedule(now)
            return
        if state["down"] is not None and now >= state["down"][1]:
            post(pygame.KEYUP, state["down"][0])
            key, at, _ = state["schedule"][-1]
            state["schedule"][-1] = (key, at, now - at)  # held for as long as it really was
            state["down"] = None
        if state["pending"] and now >= state["pending"][0][1]:
            key, _, held = state["pending"].pop(0)
            post(pygame.KEYDOWN, key)
            state["schedule"].append((key, now, held))
            state["down"] = (key, now + held)

    window._show = show
    window.run(max_seconds=120, on_step=on_step,
               until=lambda w: state["schedule"] is not None and len(state["schedule"]) == len(PRESSES)
               and time.perf_counter() - state["schedule"][-1][1] > GAP_S)
    presses = score(shown, state["schedule"], session.rig)
    span = shown[-1][0] - shown[0][0]
    return {"presses": presses, "shown_fps": round((len(shown) - 1) / span, 2)}


# --- the page -----------------------------------------------------------------------------------
class Page:
    def __init__(self, ws, poses):
        self.ws, self.poses, self.seq, self.shown, self.frames = ws, poses, 0, [], 0

    async def send(self, kind, **fields):
        self.seq += 1
        await self.ws.send_json({"type": kind, "seq": self.seq, "t": time.perf_counter() * 1000, **fields})

    async def read(self, until: float | None = None, frames: int | None = None) -> None:
        import aiohttp

        from motionworld.play.web.protocol import read_frame_header

        while (until is None or time.perf_counter() < until) and (frames is None or self.frames < frames):
            try:
                msg = await self.ws.receive(timeout=0.05 if until is not None else 30)
            except asyncio.TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.BINARY:
                index, _, restart, _ = read_frame_header(msg.data)
                self.frames += 1
                if self.poses is not None:
                    self.shown.append((time.perf_counter(), *self.poses[index]))
                await self.send("ack", frame=index)
            elif msg.type not in (aiohttp.WSMsgType.TEXT,):
                return


def web_server(a, sessions: int):
    from motionworld.play.web.server import ServeOptions, Server

    return Server(ServeOptions(scene_path(a.scene), a.backend, None, a.size, max_sessions=sessions),
                  say=lambda *_: None)


def watch_poses(server) -> dict:
    """index -> pose of every frame the engines hand out (the page reads them by its frame header)."""
    poses = {}
    from motionworld.play.engine import Engine

    original = Engine._hand_out

    def hand_out(self, frame, now):
        poses[frame.index] = pose(frame.c2w)
        original(self, frame, now)

    Engine._hand_out = hand_out
    return poses


async def bench_page(a) -> dict:
    from aiohttp.test_utils import TestClient, TestServer

    server = web_server(a, 4)
    poses = watch_poses(server)
    async with TestClient(TestServer(server.app())) as client:
        page = Page(await client.ws_connect("/ws"), poses)
        await page.read(frames=1)
        start = time.perf_counter()
        schedule = []
        for key, at, held in press_schedule(start):
            await page.read(until=at)
            pressed = time.perf_counter()
            await page.send("input", keys=[getattr(sc, key)])
            await page.read(until=pressed + held)
            await page.send("input", keys=[])
            schedule.append((key, pressed, time.perf_counter() - pressed))  # held for as long as it really was
        await page.read(until=schedule[-1][1] + GAP_S)
        rig = next(iter(server.players.values())).engine.session.rig
        span = page.shown[-1][0] - page.shown[0][0]
        result = {"presses": score(page.shown, schedule, rig), "shown_fps": round((len(page.shown) - 1) / span, 2)}
        await page.ws.close()
        await asyncio.sleep(0.5)
        # Four players at once.
        pages = [Page(await client.ws_connect("/ws"), None) for _ in range(4)]
        await asyncio.gather(*(p.read(frames=1) for p in pages))
        t0, counts = time.perf_counter(), [p.frames for p in pages]
        await asyncio.gather(*(p.read(until=t0 + 8.0) for p in pages))
        result["shown_fps_4_players"] = [round((p.frames - c) / 8.0, 2) for p, c in zip(pages, counts)]
        for p in pages:
            await p.ws.close()
        await asyncio.sleep(0.5)
        # Connect / disconnect cycles.
        rss = []
        for i in range(a.cycles):
            p = Page(await client.ws_connect("/ws"), None)
            await p.read(frames=1)
            await p.ws.close()
            while server.players:
                await asyncio.sleep(0.01)
            if (i + 1) % max(a.cycles // 10, 1) == 0:
                rss.append(round(rss_mb(), 1))
        result["rss_mb_every_tenth"] = rss
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scene", nargs="?", default=None)
    ap.add_argument("--backend", default="warp")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--window-only", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    report = {"backend": a.backend, "size": a.size, "window": bench_window(a)}
    if not a.window_only:
        report["page"] = asyncio.run(bench_page(a))
        w, p = report["window"], report["page"]
        median = lambda r: float(np.median([x["latency_ms"] for x in r["presses"] if x["latency_ms"] is not None]))  # noqa: E731
        report["verdict"] = {
            "shown_fps_ratio": round(p["shown_fps"] / w["shown_fps"], 3),
            "median_latency_ms": {"window": median(w), "page": median(p), "page_minus_window": median(p) - median(w)},
            "rss_growth_after_warmup_mb": round(p["rss_mb_every_tenth"][-1] - p["rss_mb_every_tenth"][2], 1),
        }
    print(json.dumps(report, indent=None if a.json else 2))


if __name__ == "__main__":
    main()
