"""The student on a real photograph with known depth: a step from the left camera of the Middlebury
motorcycle pair (as scikit-image ships it) to the right one, made from each depth a photo can get,
and its last frame against the true right view.

    python benchmarks/photo_walk.py weights [more weights folders side by side] [--depth-net weights]

The pair is cropped to 3:2 and resized to 288x192 (the student's pixel budget at the photo's aspect).
For each depth (the true one; our depth network's, the prior's and a flat plane's, each median-scaled
to the truth as one picture has no scale), the camera trucks by the baseline over two chunks and a
first one, as a walk does; the rows are
- the warp of the picture on that depth with its holes filled by pull-push (the strongest cheap
  baseline of `motionworld eval`), one mesh vertex per pixel;
- each student, streamed with the warp (one vertex per model pixel, as the neural backend renders it)
  and the tracks made from that depth.
PSNR of the last frame against the right view seen by the left camera's intrinsics (the right image
moved by the principal points' offset, doffs), over all pixels and over those the true-depth warp
sees (the picture itself, where depth is known) and those it does not (what has to be painted).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import shift

from motionworld.data.warps import render_warp
from motionworld.eval.depth_section import MOTORCYCLE_DOFFS, motorcycle
from motionworld.eval.methods import prior_tracks, pull_push_filled, stream_student
from motionworld.frames import chunk_frames
from motionworld.geometry.camera import Camera
from motionworld.geometry.depth import PriorDepth, network_depth, shipped_depth_folder
from motionworld.metrics.depth import median_scaled
from motionworld.metrics.image import psnr
from motionworld.model.depth_net import load_depth_net
from motionworld.model.student import StreamingStudent

SIZE = (288, 192)  # 3:2, multiples of 32 (a guided student paints 2x its model's 16-pixel grid)
GRID = 50  # the track grid a scene gets by default


def photo_item(frames: int) -> dict:
    """The pair at SIZE: picture, true depth (baseline units), its validity, K, the right view seen
    by K, and a camera trucking from 0 to the baseline over `frames`."""
    pair = motorcycle()
    if pair is None:
        raise SystemExit("scikit-image is not installed: pip install scikit-image")
    H0, W0 = pair["depth"].shape
    crop_h = int(round(W0 * SIZE[1] / SIZE[0]))
    s = SIZE[0] / W0

    def resized(a, resample):
        a = a[:crop_h]
        img = Image.fromarray(a) if a.dtype == np.uint8 else Image.fromarray(a.astype(np.float32))
        return np.asarray(img.resize(SIZE, resample))

    K = pair["K"].copy()
    K[:2] *= s
    K[0, 2] += 0.5 * s - 0.5  # pixel centres map to pixel centres
    K[1, 2] += 0.5 * s - 0.5
    right = resized(pair["truth_view"], Image.Resampling.LANCZOS).astype(np.float32)
    seen_by_k = shift(right, (0, -MOTORCYCLE_DOFFS * s, 0), order=1, mode="constant", cval=np.nan)
    c2w = np.repeat(np.eye(4)[None], frames, axis=0)
    c2w[:, 0, 3] = np.linspace(0.0, 1.0, frames)
    return {"video": resized(pair["image"], Image.Resampling.LANCZOS)[None], "K": K, "c2w": c2w,
            "depth": resized(pair["depth"], Image.Resampling.NEAREST).astype(np.float32),
            "valid": resized(pair["valid"].astype(np.uint8) * 255, Image.Resampling.NEAREST) > 127,
            "truth": seen_by_k, "caption": ""}


def depths(item: dict, depth_net: str | None) -> dict[str, np.ndarray]:
    picture, truth, valid = item["video"][0], item["depth"], item["valid"]
    H, W = truth.shape
    out = {"true depth": truth}
    folder = depth_net or shipped_depth_folder()
    out["our depth network"] = median_scaled(network_depth(load_depth_net(folder), picture), truth, valid)
    out["prior"] = median_scaled(PriorDepth(PriorDepth.Options()).load(picture, Camera(item["K"], W, H)), truth, valid)
    out["flat plane"] = np.full_like(truth, float(np.median(truth[valid])))
    return out


def scores(frame: np.ndarray, item: dict, seen: np.ndarray) -> tuple[float, float, float]:
    truth = item["truth"]
    known = np.isfinite(truth).all(-1)
    a = torch.from_numpy(frame.astype(np.float32) / 255).permute(2, 0, 1)[None]
    b = torch.from_numpy(np.nan_to_num(truth) / 255).permute(2, 0, 1)[None]
    mask = torch.from_numpy(known)[None]
    return (psnr(a, b, mask), psnr(a, b, mask & torch.from_numpy(seen)[None]),
            psnr(a, b, mask & ~torch.from_numpy(seen)[None]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", nargs="+", help="shipped weights folders (their students)")
    ap.add_argument("--depth-net", help="our depth network's folder (default: the shipped weights')")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    students = {w: StreamingStudent.load(w) for w in args.weights}
    first = next(iter(students.values()))
    frames = chunk_frames(0, first.config.chunk) + 2 * chunk_frames(1, first.config.chunk)
    item = photo_item(frames)
    c2w, K = item["c2w"], item["K"]
    _, seen = render_warp(item["video"][0], item["depth"], K, c2w, np.zeros(item["depth"].shape, np.int32),
                          np.zeros((frames, 0, 4, 4)))
    seen = (seen[-1] > 0.5) & item["valid"]
    print(f"the motorcycle pair at {SIZE[0]}x{SIZE[1]}, a truck by the baseline over {frames} frames; "
          "PSNR dB of the last frame against the true right view: all / seen / unseen")
    for name, depth in depths(item, args.depth_net).items():
        none = np.zeros(depth.shape, np.int32)
        still = np.zeros((frames, 0, 4, 4))  # no moving objects
        filled = pull_push_filled(*render_warp(item["video"][0], depth, K, c2w, none, still))
        rows = {"warp + pull-push fill": filled[-1]}
        tracks, vis = prior_tracks(item, GRID, depth)  # the engine's tracks of this depth (prior by default)
        for w, student in students.items():
            step = student.config.vae.output_scale
            warp = render_warp(item["video"][0], depth, K, c2w, none, still, mesh_step=step)
            video = stream_student(student, {**item, "video": np.repeat(item["video"], frames, 0)}, tracks, vis,
                                   seed=args.seed, warp=warp)
            rows[f"student {w}"] = video[-1]
        for row, frame in rows.items():
            a, s_, u = scores(frame, item, seen)
            print(f"| {name} | {row} | {a:.2f} | {s_:.2f} | {u:.2f} |")


if __name__ == "__main__":
    main()
