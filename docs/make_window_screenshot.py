"""Takes docs/window.png: the play window on the garden, walking in with the track overlay and HUD.

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python docs/make_window_screenshot.py [--backend neural]

`--backend neural` (with `--weights DIR`, default the shipped weights) shows the student; the
default is the warp renderer. `--scene PICTURE` walks into a picture instead (its scene made on the
fly, with the depth `play` gives it): a tap of W (one chunk's step in), a tap of D (a step to
the right, once the first has shown), and F12 at frame 64; `docs/make_photo_screenshot.py` takes that
with both backends, side by side.

Input is injected through pygame's event queue, as a person would type it: a tap of W (the
latch holds it for the first chunk: a short step in), then the ball grabbed and pulled up and to the right,
a point on the wall pinned, and F12 once 64 frames have been shown (the drag is still held, so its green
line shows).
"""
import argparse
import shutil
import sys
from pathlib import Path

import pygame

from controllers import keys as sc
from motionworld.play import commands
from motionworld.play.session import Session
from motionworld.scene import load_scene
from motionworld.world import World

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=("warp", "neural"), default="warp")
    p.add_argument("--weights", type=Path, default=ROOT / "weights")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "window.png")
    p.add_argument("--scene", type=Path, help="a picture to walk into (default: the garden, with the drag and pin)")
    p.add_argument("--depth", help="a picture's depth, as `play --depth` takes it")
    args = p.parse_args()
    world = World(load_scene(args.scene or ROOT / "scenes/garden/scene.yaml", depth=args.depth))
    options = {"weights": str(args.weights)} if args.backend == "neural" else {}
    session = Session(world, args.backend, controller=commands.controls_for(world), **options)
    out = ROOT / "captures" / "docs"
    window = commands.make_window(session, size=(1024, 640), out_dir=out)
    done = {}

    def window_pos(w, xy):
        """A scene pixel in window coordinates (inverse of the window's letterbox mapping)."""
        x0, y0, vw, vh = w.screen.viewport
        sh, sw = world.scene.image.shape[:2]
        top = w.pygame.display.get_window_size()[1] - (y0 + vh)
        return int(x0 + (xy[0] + 0.5) / sw * vw), int(top + (xy[1] + 0.5) / sh * vh)

    def walk(w):
        n, f = len(w.polls), w.current
        key = {1: (pygame.KEYDOWN, pygame.K_w, sc.W, "w"), 2: (pygame.KEYUP, pygame.K_w, sc.W, "w"),
               30: (pygame.KEYDOWN, pygame.K_d, sc.D, "d"), 31: (pygame.KEYUP, pygame.K_d, sc.D, "d")}.get(n)
        if key is not None:
            kind, k, code, text = key
            pygame.event.post(pygame.event.Event(kind, key=k, scancode=code, mod=0, unicode=text))
        if f is not None and f.index >= 64 and "shot" not in done:
            done["shot"] = True
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F12, scancode=69, mod=0, unicode=""))

    def on_step(w):
        n = len(w.polls)
        if n == 1:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, scancode=sc.W, mod=0, unicode="w"))
            pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_w, scancode=sc.W, mod=0, unicode="w"))
        f = w.current
        if f is not None and f.index >= 12 and "grab" not in done:
            ball = (world.field.object_ids == 1) & f.chunk.visibility[f.t]
            done["grab"] = window_pos(w, f.chunk.tracks[f.t][ball].mean(0))  # grab the ball where it is now
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=done["grab"], button=1))
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(560, 150), button=3))  # pin the wall
        if "grab" in done and f.index < 36:  # pull it up and to the right, a little each display frame
            x, y = done["grab"]
            k = min(f.index - 12, 24) / 24
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(int(x + 120 * k), int(y - 150 * k)),
                                                 rel=(0, 0), buttons=(1, 0, 0)))
        if f is not None and f.index >= 64 and "shot" not in done:
            done["shot"] = True
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F12, scancode=69, mod=0, unicode=""))

    window.run(max_seconds=240, until=lambda w: any(p.suffix == ".png" for p in w.saved),
               on_step=walk if args.scene else on_step)
    shots = [p for p in window.saved if p.suffix == ".png"]
    if not shots:
        print("no screenshot was taken", file=sys.stderr)
        return 1
    shutil.copy(shots[0], args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
