"""Where along a held-out clip a model loses the motion: EPE (px) and PSNR (dB) over the first 17,
33 and all 81 frames, for students and teachers side by side, on the first N held-out clips that
`motionworld eval` uses (same seeds, same scoring). The eval table only gives the whole clip; this
says whether a gap to the teacher opens at once or grows with the horizon.

    python benchmarks/eval_horizon.py --clips 8 weights teacher:trained/teacher:0:1.5  [more models]

A model (as many as wanted, side by side) is a shipped weights folder (its student, in its shipped layout) or
`teacher:FOLDER:W_T:W_M` (that export's bidirectional teacher, 8 Euler steps, joint guidance).
"""
from __future__ import annotations

import argparse

import numpy as np

from motionworld.eval.heldout import heldout_items
from motionworld.eval.methods import hold_first, stream_student, teacher_video
from motionworld.eval.suite import EvalSettings, score, shipped_layout
from motionworld.model.bundles import TEACHER_KIND, load_modules
from motionworld.model.student import StreamingStudent

HORIZONS = (17, 33, 81)


def clip_start(item: dict, frames: int) -> dict:
    return {k: (v[:frames] if k in ("video", "tracks", "visibility") else v) for k, v in item.items()}


def videos_of(model: str, items: list[dict], seed: int, teacher_steps: int) -> list[np.ndarray]:
    if model.startswith("teacher:"):
        try:
            _, folder, w_t, w_m = model.split(":")
            w_t, w_m = float(w_t), float(w_m)
        except ValueError:
            raise SystemExit(f"{model}: a teacher is teacher:FOLDER:W_T:W_M, "
                             "e.g. teacher:trained/teacher:0:1.5") from None
        modules, config = load_modules(folder, TEACHER_KIND)
        modules.eval()
        return [teacher_video(modules, config, it, teacher_steps, w_t, w_m, seed=seed + i)
                for i, it in enumerate(items)]
    student = StreamingStudent.load(model)
    shipped_layout(student)
    return [stream_student(student, it, seed=seed + i) for i, it in enumerate(items)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--teacher-steps", type=int, default=8)
    args = ap.parse_args()
    s = EvalSettings()
    items = heldout_items(args.clips, 81, s.size, s.heldout_root, s.seed_start)
    rows = {"hold first frame": [hold_first(it) for it in items]}
    for model in args.models:
        rows[model] = videos_of(model, items, s.seed, args.teacher_steps)
    print("| model | " + " | ".join(f"EPE / PSNR, frames 0-{t - 1}" for t in HORIZONS) + " |")
    print("|---|" + "---|" * len(HORIZONS))
    for name, videos in rows.items():
        cells = []
        for t in HORIZONS:
            scores = [score(v[:t], clip_start(it, t)) for v, it in zip(videos, items)]
            cells.append(f"{np.nanmean([x['epe'] for x in scores]):.2f} / {np.mean([x['psnr'] for x in scores]):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
