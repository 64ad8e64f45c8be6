"""Stage 1: the tiny VAE, trained on clips for reconstruction (L1 + L2); evaluated by PSNR/SSIM on
held-out clips. It can start from an exported VAE (init.vae), and with `vae.decoder_only` train
just its decoder, leaving the latent space of the models trained on it untouched.

A guided VAE (`VAEConfig.guide_widths`) learns its guided decoder here: the clips come at the
output size with their warps (data.warp, the documented depth mix), the VAE encodes them at the
model's size, and the guided decode is scored against the true clip at the output size (RGB L1 +
L2), so the guide learns where the warp is right and where to paint. With `vae.guide_only` only
the guide trains (the encoder and decoder of init.vae, and so every later stage's latents, stay).
Its evaluation also scores, on the same clips, the plain decode upsampled and a hard paste of the
warp's valid pixels over it (the baseline the guide has to beat), over all pixels and over those
the warp sees and does not."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from ..data.dataset import collate
from ..errors import MotionWorldError
from ..metrics.image import chroma_psnr, mean_split_scores, psnr, split_scores, ssim
from ..model.bundles import load_vae_for, save_vae
from ..model.colour import opponent
from ..model.guided_decoder import downscaled, hard_paste, upsampled
from ..model.tiny_vae import TinyVAE
from .batches import BatchSource, make_dataset, with_warps
from .config import VAESettings
from .models import student_config
from .trainer import Stage


class _Reconstruction(nn.Module):
    """L1 + L2 in the space the VAE's networks work in (whitened colours, if it has them), the
    luminance axis's error scaled by `luminance` there."""

    def __init__(self, vae: TinyVAE, l1: float, l2: float, luminance: float = 1.0):
        super().__init__()
        self.vae, self.l1, self.l2, self.luminance = vae, l1, l2, luminance

    def forward(self, video: torch.Tensor):
        out = self.vae.decode_pixels(self.vae.encode(video))
        diff = out - self.vae.pixels_in(video)
        if self.luminance != 1.0:
            diff = diff * diff.new_tensor([self.luminance, 1.0, 1.0]).view(3, 1, 1)
        loss = self.l1 * diff.abs().mean() + self.l2 * diff.pow(2).mean()
        return loss, self.vae.pixels_out(out)


class _GuidedReconstruction(nn.Module):
    """The guided decode against the true clip at the output size (RGB L1 + L2), plus, while the
    decoder trains too, the plain reconstruction at the model's size (so it stays a decoder)."""

    def __init__(self, vae: TinyVAE, l1: float, l2: float, plain: float):
        super().__init__()
        self.vae, self.l1, self.l2, self.plain = vae, l1, l2, plain

    def forward(self, video: torch.Tensor, warp: torch.Tensor, valid: torch.Tensor):
        small = downscaled(video, self.vae.config.output_scale)
        pixels = self.vae.decode_pixels(self.vae.encode(small))
        out = self.vae.guide(self.vae.pixels_out(pixels), warp, valid)
        diff = out - video
        loss = self.l1 * diff.abs().mean() + self.l2 * diff.pow(2).mean()
        if self.plain:
            base = pixels - self.vae.pixels_in(small)
            loss = loss + self.plain * (self.l1 * base.abs().mean() + self.l2 * base.pow(2).mean())
        return loss, out


class VAEStage(Stage):
    Settings = VAESettings  # its section of a training config
    output_scaled = True
    def __init__(self, cfg, rt):
        super().__init__(cfg, rt)
        self.config = student_config(cfg)
        self.decoder_only, self.guide_only = cfg.vae.decoder_only, cfg.vae.guide_only
        self.guided = self.config.vae.guided
        if self.guided and not cfg.data.warp:
            raise MotionWorldError("a guided VAE learns from the clips' warps: turn on data.warp")
        if self.guide_only and not self.guided:
            raise MotionWorldError("vae.guide_only trains a guided decoder: the model's VAE has none (guide_widths)")
        if "vae" in cfg.init:
            self.vae = load_vae_for(cfg.init["vae"], self.config.vae).to(rt.device)
        elif self.decoder_only or self.guide_only:
            raise MotionWorldError("vae.decoder_only and vae.guide_only fine-tune an exported VAE: give it as init.vae")
        else:
            if cfg.vae.whiten_colours:
                mean, std = self.colour_stats()
                self.config = dataclasses.replace(
                    self.config, vae=dataclasses.replace(self.config.vae, colour_mean=mean, colour_std=std))
            self.vae = TinyVAE(self.config.vae).to(rt.device)
        if cfg.vae.whiten_colours and not self.vae.config.colour_std:
            raise MotionWorldError(f"vae.whiten_colours: init.vae {cfg.init['vae']} works in raw RGB; "
                                   "whitened colours need a fresh VAE (drop init.vae)")
        if cfg.vae.luminance_weight != 1.0 and not self.vae.config.colour_std:
            raise MotionWorldError("vae.luminance_weight weighs the whitened luminance axis: "
                                   "it needs a VAE with whitened colours (vae.whiten_colours)")
        if self.decoder_only or self.guide_only:  # frozen parts stay out of autograd, the optimizer and the EMA
            self.vae.encoder.requires_grad_(False)
        if self.guide_only:
            self.vae.decoder.requires_grad_(False)
        if self.guided:
            self.net = self.wrap(_GuidedReconstruction(self.vae, cfg.vae.l1_weight, cfg.vae.l2_weight,
                                                       0.0 if self.guide_only else 1.0))
        else:
            self.net = self.wrap(_Reconstruction(self.vae, cfg.vae.l1_weight, cfg.vae.l2_weight,
                                                 cfg.vae.luminance_weight))
        self.train_module("vae", self.vae, frozen_prefix="-")
        self.heldout = make_dataset(cfg.data, heldout=True)

    def step(self, step, batch, gen):
        video = batch["video"].to(self.rt.device)
        if self.guided:
            valid = batch["warp_valid"].to(self.rt.device)
            hide = torch.rand(valid.shape[0], generator=gen) < self.cfg.vae.warp_dropout
            valid = valid * (~hide).to(valid.device, valid.dtype)[:, None, None, None]
            loss, recon = self.net(video, batch["warp"].to(self.rt.device), valid)
        else:
            loss, recon = self.net(video)
        norm = self.apply(self.optimizer, loss, self.trained, self.net)
        self.update_ema(self.ema, self.vae)
        return {"loss": loss.item(), "psnr": psnr(recon.detach().clamp(0, 1), video), "grad_norm": norm}

    @torch.no_grad()
    def evaluate(self):
        vae = self.ema or self.vae
        if self.guided:
            return self.evaluate_guided(vae)
        scores = []
        for i in range(len(self.heldout)):
            video = collate([self.heldout[i]], self.cfg.data.frames)["video"].to(self.rt.device)
            recon = vae.decode(vae.encode(video))
            scores.append((psnr(recon, video), ssim(recon[0], video[0]), chroma_psnr(recon, video)))
        mean = [sum(s[i] for s in scores) / len(scores) for i in range(3)]
        return {"psnr": mean[0], "ssim": mean[1], "chroma_psnr": mean[2]}

    @torch.no_grad()
    def evaluate_guided(self, vae: TinyVAE) -> dict:
        """PSNR (all pixels, those the warp sees, those it does not) and SSIM of the guided decode, the
        plain decode upsampled and a hard paste of the warp over it, on the held-out clips' warps."""
        rows = {"guided": [], "upsampled": [], "hard_paste": []}
        for i in range(len(self.heldout)):
            batch = collate([self.heldout[i]], self.cfg.data.frames)
            batch = with_warps(batch, [self.heldout[i]], self.cfg.data, [self.cfg.seed, 99, i])
            video, warp, valid = (batch[k].to(self.rt.device) for k in ("video", "warp", "warp_valid"))
            latents = vae.encode(downscaled(video, vae.config.output_scale))
            plain = vae.pixels_out(vae.decode_pixels(latents)).clamp(0, 1)
            up = upsampled(plain, warp.shape[-2:])
            for name, out in (("guided", vae.decode(latents, warp=warp, valid=valid)), ("upsampled", up),
                              ("hard_paste", hard_paste(plain, warp, valid).clamp(0, 1))):
                rows[name].append(split_scores(out, video, valid > 0.5))
        return mean_split_scores(rows, main="guided")

    @torch.no_grad()
    def colour_stats(self, batches: int = 16) -> tuple[tuple, tuple]:
        """Mean and std of the training clips' pixels on each opponent colour axis."""

        source = BatchSource(self.cfg.data, self.cfg.optim.batch_size, self.cfg.seed + 2)
        px = torch.cat([opponent(source.batch(i)["video"]).transpose(0, 2).flatten(1) for i in range(batches)], 1)
        return tuple(px.mean(1).tolist()), tuple(px.std(1).clamp_min(1e-3).tolist())

    @torch.no_grad()
    def latent_stats(self, vae: TinyVAE, batches: int = 16) -> tuple[tuple, tuple]:
        """Per-channel mean and std of the encoder's output over training clips."""

        source = BatchSource(self.cfg.data, self.cfg.optim.batch_size, self.cfg.seed + 1)
        scale = vae.config.output_scale  # the encoder reads clips at the model's size
        z = torch.cat([vae.encode_raw(downscaled(source.batch(i)["video"].to(self.rt.device), scale))
                       for i in range(batches)])
        z = z.transpose(0, 2).flatten(1)  # [C, everything]
        return tuple(z.mean(1).tolist()), tuple(z.std(1).clamp_min(1e-6).tolist())

    def export(self, folder: Path, extra: dict) -> Path:
        vae = self.ema or self.vae
        if not (self.decoder_only or self.guide_only):  # the same encoder keeps its statistics (and latent space)
            mean, std = self.latent_stats(vae)
            vae.config = dataclasses.replace(vae.config, latent_mean=mean, latent_std=std)
        return save_vae(folder, vae, extra)
