"""A guided VAE's decoder against its baselines, on held-out synthetic worlds, in one run.

For each depth the warp can be built from (the training mix's kinds: true, degraded disparity, the
depth prior, one moving object left unmoved), every clip's warp is rendered as the neural backend
renders it (objects moved, at the output size, one mesh vertex per model pixel), and the true clip,
encoded at the model's size, is decoded four ways:
- the guided decoder with the warp;
- a hard paste: the plain decode upsampled, every valid warp pixel pasted over it;
- the plain decode upsampled (bilinear), no warp;
- and, for reference, the warp itself with its invalid pixels inpainted (OpenCV's Telea).
PSNR over all pixels (frame 0 left out), over those the warp sees and over those it does not, and SSIM.
The latents are the true clip's, so this isolates the decoder: a generator's latents are worse.

    python benchmarks/guided_decoder.py runs/cpu-guided/vae/export [--clips 8] [--frames 33]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from motionworld.data.warps import KINDS, clip_warp
from motionworld.eval.heldout import heldout_items
from motionworld.eval.methods import inpainted
from motionworld.metrics.image import psnr, ssim
from motionworld.model.bundles import load_vae
from motionworld.model.guided_decoder import downscaled, hard_paste, upsampled


def _scores(out: torch.Tensor, video: torch.Tensor, seen: torch.Tensor) -> list[float]:
    out, video, seen = out[1:], video[1:], seen[1:]
    return [psnr(out, video), psnr(out, video, seen), psnr(out, video, ~seen), ssim(out, video)]


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("vae", help="a guided VAE export (vae.safetensors + MANIFEST.json)")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=33)
    args = ap.parse_args()
    vae = load_vae(args.vae).eval()
    if not vae.config.guided:
        raise SystemExit(f"{args.vae}: this VAE has no guided decoder")
    s = vae.config.output_scale
    # the model's size is 128x96 for the guided CPU preset: the clips at s times that
    size = (128 * s, 96 * s)
    items = heldout_items(args.clips, args.frames, size)
    rows: dict[str, dict[str, list]] = {}
    for i, item in enumerate(items):
        item["depth0"] = item["depth"][0]
        video = torch.from_numpy(item["video"]).permute(0, 3, 1, 2).float()[None] / 255.0
        latents = vae.encode(downscaled(video, s))
        plain = vae.pixels_out(vae.decode_pixels(latents)).clamp(0, 1)
        plain_up = upsampled(plain, video.shape[-2:])
        for kind in KINDS:
            frames, valid = clip_warp(item, kind, np.random.default_rng([7, i]), mesh_step=s)
            warp = torch.from_numpy(frames).permute(0, 3, 1, 2).float()[None] / 255.0
            v = torch.from_numpy(valid)[None]
            seen = v[0] > 0.5
            methods = {"guided decoder": vae.decode(latents, warp=warp, valid=v),
                       "hard paste of the warp": hard_paste(plain, warp, v).clamp(0, 1),
                       "plain decode, upsampled": plain_up,
                       "warp + inpainting (Telea)":
                           torch.from_numpy(inpainted(frames, valid)).permute(0, 3, 1, 2).float()[None] / 255.0}
            for name, out in methods.items():
                rows.setdefault(kind, {}).setdefault(name, []).append(_scores(out[0], video[0], seen))
    print(f"{args.vae}: {args.clips} held-out clips x {args.frames} frames at {size[0]}x{size[1]}, "
          "the true clip's latents")
    print("| warp depth | method | PSNR | PSNR seen | PSNR unseen | SSIM |\n|---|---|---|---|---|---|")
    for kind, methods in rows.items():
        for name, scores in methods.items():
            mean = [float(np.nanmean([sc[j] for sc in scores])) for j in range(4)]
            print(f"| {kind} | {name} | {mean[0]:.2f} | {mean[1]:.2f} | {mean[2]:.2f} | {mean[3]:.3f} |")


if __name__ == "__main__":
    main()
