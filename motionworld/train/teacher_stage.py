"""Stage 2: the bidirectional teacher. Rectified flow on whole clips (first latent frame given),
timestep shift, independent dropout of text and tracks so v(c,m), v(0,m) and v(c,0) are all
learnt, and a final fine-tune phase that zeroes the tracks of random middle chunks. The eval hook
samples held-out clips with joint guidance and scores how well they follow the tracks (EPE, with a
classical tracker) and how close they are to the real clip (PSNR)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from ..data.dataset import collate
from ..errors import MotionWorldError
from ..metrics.image import psnr
from ..metrics.klt import track_epe
from ..model.bundles import TEACHER_KIND, extend_modules, load_modules, load_vae_for, save_teacher
from ..model.conditioning import Conditioner
from ..model.sampler import shift_sigma
from ..model.student import TrackVideoModules
from ..model.teacher_sampling import sample_teacher
from ..model.tiny_vae import to_uint8_frames
from .batches import make_dataset, to_device, with_warps
from .config import TeacherSettings
from .latent_cache import LatentCache
from .models import flow_matching_loss, student_config
from .trainer import Stage


def middle_chunk_mask(B: int, F: int, chunk: int, p: float, gen: torch.Generator) -> torch.Tensor:
    """[B, F] bool: latent frames of chunks other than the first and last, each chunk dropped with p."""
    n = (F + chunk - 1) // chunk
    drop = torch.rand(B, n, generator=gen) < p
    drop[:, 0] = False
    drop[:, -1] = False
    return drop.repeat_interleave(chunk, dim=1)[:, :F]


class FlowMatching(nn.Module):
    """Loss of the bidirectional model on a batch (the module DDP wraps)."""

    def __init__(self, modules: TrackVideoModules, config, stage_cfg):
        super().__init__()
        self.m, self.config, self.s = modules, config, stage_cfg
        self.cond = Conditioner(modules, config)

    def forward(self, batch: dict, gen: torch.Generator, finetune: bool):
        lat = batch["latents"] if "latents" in batch else self.cond.latents(batch["video"])
        B, _, F = lat.shape[:3]
        drop_text = torch.rand(B, generator=gen) < self.s.text_dropout
        drop_tracks = torch.rand(B, generator=gen) < self.s.track_dropout
        frames = middle_chunk_mask(B, F, self.config.chunk, self.s.chunk_track_dropout, gen) if finetune else None
        drop_warp = torch.rand(B, generator=gen) < self.s.warp_dropout if self.config.dit.warp_channels else None
        condition = self.cond.condition(batch, lat, gen, drop_tracks, frames, drop_warp)
        text = self.cond.text(batch["caption"], drop_text)
        u = torch.sigmoid(torch.randn(B, generator=gen)) if self.s.logit_normal else torch.rand(B, generator=gen)
        return flow_matching_loss(self.m.dit, lat, shift_sigma(u, self.config.shift), condition, text, gen)


class TeacherStage(Stage):
    Settings = TeacherSettings  # its section of a training config
    def __init__(self, cfg, rt):
        super().__init__(cfg, rt)
        self.config = student_config(cfg)
        self.m = TrackVideoModules(self.config).to(rt.device)
        if "vae" in cfg.init:
            self.m.vae = load_vae_for(cfg.init["vae"], self.config.vae).to(rt.device)
            self.config = dataclasses.replace(self.config, vae=self.m.vae.config)  # with its latent statistics
        if "teacher" in cfg.init:
            self.warm_start(cfg.init["teacher"])
        self.m.vae.requires_grad_(False)
        flow = FlowMatching(self.m, self.config, cfg.teacher)
        self.net_cond = flow.cond
        self.net = self.wrap(flow)
        self.train_module("teacher", self.m)
        self.heldout = make_dataset(cfg.data, heldout=True)
        self.latent_cache = None

    def prepare(self, say) -> None:
        if self.cfg.teacher.cache_latents:  # the same dataset, in the same order, as the trainer's BatchSource
            with self.full_params(self.net):  # FSDP holds only a shard of the VAE outside forward
                self.latent_cache = LatentCache.build(self.cfg.out, self.net_cond.latents, self.m.vae,
                                                      make_dataset(self.cfg.data), self.cfg.data, self.rt, say)

    def warm_start(self, folder: str) -> None:
        """Start from an exported teacher's DiT, track and text encoders (not its VAE: this run's comes
        from init.vae). The way to move a trained teacher onto a new VAE, whose latents it re-learns
        faster than a fresh model learns everything, or onto a configuration that adds condition
        inputs (the warp channels, the tracks' occlusion count): those start at zero (`extend_modules`)."""
        old, old_config = load_modules(folder, TEACHER_KIND)
        if any(getattr(old_config, p) != getattr(self.config, p) for p in ("dit", "tracks", "text")):
            try:
                old = extend_modules(old, dataclasses.replace(self.config, vae=old_config.vae))
            except MotionWorldError as e:
                raise MotionWorldError(f"init.teacher {folder}: its configuration is neither this run's nor one "
                                       f"this run's grows from ({e})") from None
        self.m.load_state_dict({k: v for k, v in old.state_dict().items() if not k.startswith("vae.")}, strict=False)

    def step(self, step, batch, gen):
        finetune = step >= self.cfg.optim.steps - self.cfg.teacher.finetune_steps
        if self.latent_cache is not None:
            batch = {**batch, "latents": self.latent_cache.lookup(batch["index"]).to(self.rt.device)}
        loss = self.net(batch, gen, finetune)
        norm = self.apply(self.optimizer, loss, self.trained, self.net)
        self.update_ema(self.ema, self.m)
        return {"loss": loss.item(), "grad_norm": norm}

    @torch.no_grad()
    def evaluate(self, modules=None):
        return evaluate_samples(modules or self.ema or self.m, self.config, self.heldout, self.cfg)

    def export(self, folder: Path, extra: dict) -> Path:
        return save_teacher(folder, self.ema or self.m, self.config, extra)


@torch.no_grad()
def evaluate_samples(modules, config, heldout, cfg, seed: int = 1234) -> dict:
    """Teacher samples of held-out clips: EPE of the tracks (on moving objects when there are
    any, else all), PSNR against the real clip."""
    t = cfg.teacher
    epes, psnrs = [], []
    for i in range(len(heldout)):
        batch = collate([heldout[i]], cfg.data.frames)
        if cfg.data.warp:
            batch = with_warps(batch, [heldout[i]], cfg.data, [seed, i])
        batch = to_device(batch, next(modules.parameters()).device)
        gen = torch.Generator().manual_seed(seed + i)
        x0, _, _ = sample_teacher(modules, config, batch, gen, t.sample_steps, t.guidance_text, t.guidance_motion)
        video = modules.vae.decode_plain(x0.transpose(1, 2))[0]  # at the data's (the model's) size
        frames = to_uint8_frames(video)
        ids = batch["object_ids"][0]
        epes.append(track_epe(frames, batch["tracks"][0].cpu(), batch["visibility"][0].cpu(),
                              (ids > 0).cpu() if (ids > 0).any() else None))
        psnrs.append(psnr(video.cpu(), batch["video"][0].cpu()))
    finite = [e for e in epes if e == e]
    return {"epe": sum(finite) / max(len(finite), 1), "psnr": sum(psnrs) / len(psnrs)}
