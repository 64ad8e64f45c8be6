"""How long the neural backend holds a shipped scene together, per half second, for weights side
by side in one run:

- walk: the scene's camera path (default its `default_path`) through the neural backend, PSNR
  against the reference warp renderer on the same poses (the picture and its depth map warped; not
  ground truth, since the warp stretches at disocclusions, but the best stand-in a still image has);
- still: the camera held at the start, PSNR against the picture itself: drift with nothing to follow;
- held picture (once): the picture itself against the warp renderer on the walk, the "do nothing"
  baseline a walk must beat.

Both are at the model's resolution (the warp frames are resized the way the neural backend resizes
the picture). A model that walks into the image keeps the walk's row near the still row; one that
dissolves falls away from it within a second or two.

    python benchmarks/scene_drift.py weights [OTHER_WEIGHTS ...] [--scene scenes/garden/scene.yaml]
        [--path walk] [--sink 1 --window 1]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

import motionworld as mw
from controllers.scripted import ScriptedController
from motionworld.metrics.image import psnr


def _unit(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).float().div(255)


def per_half_second(frames: np.ndarray, reference: np.ndarray, fps: float) -> list[float]:
    """Mean per-frame PSNR (dB) over consecutive half seconds, frame 0 (the picture) left out."""
    scores = [psnr(_unit(frames[i:i + 1]), _unit(reference[i:i + 1])) for i in range(1, len(frames))]
    step = max(1, round(fps / 2))
    return [float(np.mean(scores[i:i + step])) for i in range(0, len(scores), step)]


def run_path(world: mw.World, path: str, backend: str, **options) -> np.ndarray:
    camera_path = world.absolute(path)
    frames = len(camera_path.frame_times(world.fps))
    session = mw.Session(world, backend, controller=ScriptedController(camera_path), **options)
    try:
        return session.run([None] * frames)
    finally:
        session.close()


def run_still(world: mw.World, frames: int, **options) -> tuple[np.ndarray, np.ndarray]:
    session = mw.Session(world, "neural", **options)
    try:
        still = mw.ControlCommand(move=np.zeros(3))
        video = session.run([still] * frames)
        return video, np.repeat(session.picture()[None], frames, axis=0)
    finally:
        session.close()


def resized(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.stack([np.array(Image.fromarray(f).resize((width, height), Image.Resampling.LANCZOS)) for f in frames])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("weights", nargs="+", help="weights folders (student.safetensors + MANIFEST.json)")
    ap.add_argument("--scene", default="scenes/garden/scene.yaml")
    ap.add_argument("--path", default=None, help="a scene path name (default: the scene's default path)")
    ap.add_argument("--sink", type=int, default=None)
    ap.add_argument("--window", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    world = mw.World(a.scene)
    path = a.path or world.default_path()
    layout = {k: v for k, v in (("sink", a.sink), ("window", a.window)) if v is not None}
    warp = run_path(world, path, "warp", max_size=512)
    print(f"{a.scene}, path {path!r}: {len(warp)} frames at {world.fps:g} fps; PSNR dB per half second "
          f"(walk: against the warp renderer; still: against the picture){'; ' + str(layout) if layout else ''}\n")
    rows, held = [], None
    for folder in a.weights:
        walk = run_path(world, path, "neural", weights=folder, **layout)
        reference = resized(warp, *walk.shape[1:3])
        still, picture = run_still(world, len(walk), weights=folder, **layout)
        if held is None:
            held = ("(held picture)", "walk", per_half_second(picture, reference, world.fps))
        rows.append((folder, "walk", per_half_second(walk, reference, world.fps)))
        rows.append((folder, "still", per_half_second(still, picture, world.fps)))
    rows.insert(0, held)
    width = max(len(r[2]) for r in rows)
    print("| weights | camera | " + " | ".join(f"{i / 2:g}–{(i + 1) / 2:g} s" for i in range(width)) + " |")
    print("|---|---|" + "---|" * width)
    for folder, kind, values in rows:
        print(f"| {folder} | {kind} | " + " | ".join(f"{v:.1f}" for v in values) + " |")


if __name__ == "__main__":
    main()
