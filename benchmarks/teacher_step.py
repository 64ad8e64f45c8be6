"""Teacher training step (forward, backward, AdamW, EMA) with the frozen VAE encoding every batch
against latents looked up from a cache (`teacher.cache_latents`), same batches, one process.

    python benchmarks/teacher_step.py trained/teacher [--config configs/cpu/teacher.yaml]
        [--frames 21] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import torch

from motionworld.model.bundles import TEACHER_KIND, load_modules
from motionworld.train.batches import BatchSource
from motionworld.train.config import load_config
from motionworld.train.teacher_stage import FlowMatching


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("teacher", help="a teacher export folder")
    ap.add_argument("--config", default="configs/cpu/teacher.yaml")
    ap.add_argument("--frames", type=int, default=None, help="clip length (default: the config's)")
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = load_config(a.config, {"data.frames": a.frames} if a.frames else None)
    m, config = load_modules(a.teacher, TEACHER_KIND)
    m.vae.requires_grad_(False)
    params = [p for n, p in m.named_parameters() if not n.startswith("vae.")]
    opt = torch.optim.AdamW(params, lr=1e-6)
    ema = [p.detach().clone() for p in params]
    net = FlowMatching(m, config, cfg.teacher)
    source = BatchSource(cfg.data, cfg.optim.batch_size, seed=0)
    batches = [source.batch(i) for i in range(a.batches)]
    with torch.no_grad():
        cached = [{**b, "latents": net.cond.latents(b["video"])} for b in batches]
    times: dict[str, list[float]] = {"encoder every step": [], "cached latents": []}
    for _ in range(a.repeats):  # interleaved, so both see the same machine load
        for name, group in (("encoder every step", batches), ("cached latents", cached)):
            for b in group:
                t0 = time.perf_counter()
                loss = net(b, torch.Generator().manual_seed(0), False)
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                with torch.no_grad():
                    torch._foreach_lerp_(ema, params, 0.001)
                times[name].append(time.perf_counter() - t0)
    median = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    print(f"batch {cfg.optim.batch_size} x {cfg.data.frames} frames, {a.threads} threads, median of "
          f"{a.batches * a.repeats} steps: " + ", ".join(f"{k} {v:.3f} s" for k, v in median.items())
          + f"; ratio {median['encoder every step'] / median['cached latents']:.2f}")


if __name__ == "__main__":
    main()
