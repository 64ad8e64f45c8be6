"""Does carrying each track's first-frame latent (`tracks.appearance_dim`) make a teacher follow
motion sooner? Trains one micro VAE, then two micro teachers on the same batches and seeds, one with
appearance and one with ID codes only, and scores each teacher's samples on held-out clips: EPE of
the tracks re-extracted with the classical tracker, PSNR against the real clip. An untrained teacher
is the floor.

    python docs/runs/track_appearance/track_appearance.py [--steps 400] [--source squares] [--heldout 8] [--seed 0]
        [--out runs/appearance]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from motionworld.model.bundles import TEACHER_KIND, load_modules
from motionworld.model.student import TrackVideoModules
from motionworld.train.batches import make_dataset
from motionworld.train.config import load_config
from motionworld.train.teacher_stage import evaluate_samples
from motionworld.train.trainer import train

MICRO = Path(__file__).resolve().parents[3] / "configs" / "micro"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400, help="teacher steps for each variant")
    ap.add_argument("--vae-steps", type=int, default=120)
    ap.add_argument("--source", default="squares", help="data source of the micro configs (squares or synth)")
    ap.add_argument("--heldout", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0, help="training seed (batches, noise, initial weights)")
    ap.add_argument("--out", default="runs/appearance")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)  # the runs' folder; each stage refuses a missing parent
    common = {"vae_model": "cpu", "data.source": a.source, "data.heldout": a.heldout, "seed": a.seed}
    t0 = time.perf_counter()
    train(load_config(MICRO / "vae.yaml", {**common, "out": str(out / "vae"), "optim.steps": a.vae_steps,
                                          "eval_every": 0}), progress=False)
    print(f"micro VAE: {a.vae_steps} steps, {time.perf_counter() - t0:.0f} s")
    rows = []
    for appearance in (True, False):
        name = "appearance" if appearance else "ids_only"
        cfg = load_config(MICRO / "teacher.yaml", {
            **common, "out": str(out / name), "init.vae": str(out / "vae/export"), "optim.steps": a.steps,
            "optim.batch_size": 4, "eval_every": 0, "checkpoint_every": a.steps, "teacher.sample_steps": 8,
            "track_appearance": appearance})
        t0 = time.perf_counter()
        train(cfg, progress=False)
        seconds = time.perf_counter() - t0
        teacher, config = load_modules(out / name / "export", TEACHER_KIND)
        held = make_dataset(cfg.data, heldout=True)
        trained = evaluate_samples(teacher, config, held, cfg)
        torch.manual_seed(0)
        blank = TrackVideoModules(config)
        blank.vae = teacher.vae
        untrained = evaluate_samples(blank, config, held, cfg)
        rows.append((name, trained, untrained, seconds))
    print(f"\n{a.steps} teacher steps, {a.heldout} held-out {a.source} clips, seed {a.seed}")
    print("| tracks carry | EPE px | PSNR dB | untrained EPE px | untrained PSNR dB | train s |")
    print("|---|---|---|---|---|---|")
    for name, tr, un, s in rows:
        print(f"| {name} | {tr['epe']:.2f} | {tr['psnr']:.2f} | {un['epe']:.2f} | {un['psnr']:.2f} | {s:.0f} |")


if __name__ == "__main__":
    main()
