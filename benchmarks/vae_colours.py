"""How well VAE exports keep colour, measured side by side in one run:

- held-out clips: PSNR and chroma PSNR (the two colour-difference axes only) of the round trip;
- a linear probe: the share of each opponent axis (luminance, red-green, yellow-blue) of 8x8-pixel
  block means that a linear map of the latents recovers, on training clips' first frames (fit on
  one half, scored on the other);
- the shipped scenes' pictures: round-trip PSNR at the model size;
- with --ceiling-clips N: the latent ceiling of `motionworld eval` (the first N of its held-out
  clips, 81 frames, through the VAE: tracker EPE and PSNR), beside the first frame held still. No
  generator can follow tracks better than what the VAE lets the tracker see.

    python benchmarks/vae_colours.py trained/vae [OTHER_VAE_EXPORT ...] [--clips 8] [--frames 17]
        [--ceiling-clips 8]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from motionworld.data.dataset import collate
from motionworld.eval.heldout import heldout_items
from motionworld.eval.methods import hold_first, vae_roundtrip
from motionworld.eval.suite import score
from motionworld.metrics.image import chroma_psnr, psnr
from motionworld.model.bundles import load_vae
from motionworld.model.colour import opponent
from motionworld.train.batches import BatchSource, make_dataset
from motionworld.train.config import DataConfig

SCENES = ("scenes/garden/garden.png", "scenes/plaza/plaza.png")


def probe_r2(vae, data: DataConfig, batches: int = 8) -> list[float]:
    src = BatchSource(data, 16, seed=123)
    feats, targets = [], []
    for i in range(batches):
        first = src.batch(i)["video"][:, :1]
        z = vae.encode(first)[:, 0]  # [B, C, h, w]: the first frame's own latent
        block = torch.nn.functional.avg_pool2d(first[:, 0], first.shape[-1] // z.shape[-1])
        feats.append(z.permute(0, 2, 3, 1).flatten(0, 2))
        targets.append(opponent(block).permute(0, 2, 3, 1).flatten(0, 2))
    x = torch.cat(feats).double()
    x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    y = torch.cat(targets).double()
    half = len(x) // 2
    w = torch.linalg.lstsq(x[:half], y[:half]).solution
    resid = (x[half:] @ w - y[half:]).pow(2).mean(0)
    return (1 - resid / y[half:].var(0)).tolist()


def picture_psnr(vae, path: str, size: int) -> float:
    img = np.array(Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR))
    x = torch.from_numpy(img).permute(2, 0, 1).float().div(255)[None, None]
    return psnr(vae.decode(vae.encode(x)), x)


def mean_scores(videos, items) -> tuple[float, float]:
    """Mean tracker EPE (px) and PSNR (dB) of videos against their held-out items."""
    rows = [score(v, it) for v, it in zip(videos, items)]
    return float(np.nanmean([r["epe"] for r in rows])), float(np.mean([r["psnr"] for r in rows]))


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("exports", nargs="+")
    ap.add_argument("--data", default="data/synth")
    ap.add_argument("--heldout", default="data/heldout")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=17)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--ceiling-clips", type=int, default=0,
                    help="also the latent ceiling on this many of eval's held-out clips (81 frames)")
    a = ap.parse_args()
    data = DataConfig(source="shards", path=a.data, heldout_path=a.heldout, size=a.size, frames=a.frames,
                      heldout=a.clips)
    heldout = make_dataset(data, heldout=True)
    clips = [collate([heldout[i]], a.frames)["video"] for i in range(a.clips)]
    items = heldout_items(a.ceiling_clips, 81, a.size) if a.ceiling_clips else []
    ceiling_head = " ceiling EPE px | ceiling PSNR dB |" if items else ""
    if items:
        epe, p = mean_scores([hold_first(it) for it in items], items)
        print(f"first frame held still on {len(items)} clips x 81 frames: EPE {epe:.2f} px, PSNR {p:.2f} dB\n")
    print("| VAE | held-out PSNR dB | chroma PSNR dB | probe R² luminance | red-green | yellow-blue | "
          + " | ".join(f"{p.split('/')[-1]} PSNR dB" for p in SCENES) + " |" + ceiling_head)
    print("|---" * (6 + len(SCENES) + (2 if items else 0)) + "|")
    for folder in a.exports:
        vae = load_vae(folder).eval()
        recon = [vae.decode(vae.encode(v)) for v in clips]
        p = np.mean([psnr(r, v) for r, v in zip(recon, clips)])
        c = np.mean([chroma_psnr(r, v) for r, v in zip(recon, clips)])
        r2 = probe_r2(vae, data)
        pics = [picture_psnr(vae, s, a.size) for s in SCENES]
        ceiling = ""
        if items:
            epe, cp = mean_scores([vae_roundtrip(vae, it) for it in items], items)
            ceiling = f" {epe:.2f} | {cp:.2f} |"
        print(f"| {folder} | {p:.2f} | {c:.2f} | " + " | ".join(f"{v:.2f}" for v in r2) + " | "
              + " | ".join(f"{v:.2f}" for v in pics) + " |" + ceiling)


if __name__ == "__main__":
    main()
