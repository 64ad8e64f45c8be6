"""Stage 4: Self-Forcing distillation with DMD.

The student rolls out chunk by chunk from noise on its own outputs through the same sink + rolling
KV cache and the same `generate_chunk` as inference (so training sees the sink/window position
jump and clips longer than the window). One random exit step per rollout keeps autograd history;
earlier steps and earlier chunks' K/V are constants. The generated clip is re-noised at a random
shifted timestep; the real score is the frozen teacher with joint guidance, the fake score a critic
(initialised from the teacher) trained by flow matching on the student's samples, several critic
updates per generator update. DMD gradient: (x0_fake - x0_real) / mean|x - x0_real| per sample."""
from __future__ import annotations

import copy
import dataclasses
import random
from pathlib import Path

import torch
from torch import nn

from ..errors import MotionWorldError
from ..frames import video_frames
from ..model.attention import BlockCausal
from ..model.bundles import STUDENT_KIND, TEACHER_KIND, load_modules
from ..model.conditioning import Conditioner, frame_timesteps
from ..model.rollout import generate_chunk
from ..model.sampler import shift_sigma, shifted_levels
from ..model.student import StreamingStudent
from ..model.teacher_sampling import guided_v
from .config import DistillSettings
from .models import flow_matching_loss, student_config
from .trainer import Stage


def clip_batch(batch: dict, latent_frames: int) -> dict:
    """The batch cut to the video frames that `latent_frames` latent frames cover (4F - 3), its warp
    (data.warp) too: the student rolls out and both scores judge with the warp of its frames."""
    T = video_frames(latent_frames)
    per_frame = ("video", "tracks", "visibility", "warp", "warp_valid")
    return {**batch, **{k: batch[k][:, :T] for k in per_frame if k in batch}}


def rollout(student, config, batch: dict, gen: torch.Generator, chunks: int, exit_step: int,
            layout: BlockCausal, noise_gen: torch.Generator | None = None, return_cache: bool = False):
    """Generate `chunks` chunks for the batch's first frame, tracks and caption through a fresh
    cache. Returns latents [B, C, chunks * chunk, h, w] (and the cache); with grad enabled only each
    chunk's exit step carries autograd history. Track ids come from `gen`, noise from `noise_gen`
    (default `gen`)."""
    noise_gen = noise_gen or gen
    cond = Conditioner(student, config)
    c = layout.chunk
    F = chunks * c
    batch = clip_batch(batch, F)
    lat0 = cond.latents(batch["video"][:, :1])[:, :, 0]  # [B, C, h, w]: the given first frame
    B, C, h, w = lat0.shape
    known = lat0.new_zeros(B, C, F, h, w)  # only the first frame is known (the image condition reads it)
    known[:, :, 0] = lat0
    condition = cond.condition(batch, known, gen, torch.zeros(B, dtype=torch.bool))
    text = cond.text(batch["caption"], torch.zeros(B, dtype=torch.bool))
    text_kv = student.dit.text_kv(text)
    cache = student.dit.new_cache(layout, B, h, w)
    sigmas = shifted_levels(config.steps, config.shift)
    shape = (B, C, c, h, w)
    out = []
    for ci in range(chunks):
        sl = slice(ci * c, (ci + 1) * c)
        out.append(generate_chunk(student.dit, cache, text_kv, condition[:, :, sl], shape, sigmas,
                                  lambda: torch.randn(shape, generator=noise_gen).to(lat0.device),
                                  first_latent=lat0 if ci == 0 else None, exit_step=exit_step))
    x = torch.cat(out, 2)
    return (x, cache) if return_cache else x


class CriticLoss(nn.Module):
    def __init__(self, critic, config):
        super().__init__()
        self.m, self.config = critic, config

    def forward(self, x0: torch.Tensor, batch: dict, gen: torch.Generator, sigma: torch.Tensor):
        cond = Conditioner(self.m, self.config)
        B, _, F = x0.shape[:3]
        batch = clip_batch(batch, F)
        condition = cond.condition(batch, x0, gen, torch.zeros(B, dtype=torch.bool))
        text = cond.text(batch["caption"], torch.zeros(B, dtype=torch.bool))
        return flow_matching_loss(self.m.dit, x0, sigma, condition, text, gen)


class Rollout(nn.Module):
    """The generator's rollout (the module DDP/FSDP wraps); the DMD loss is computed outside."""

    def __init__(self, student, config):
        super().__init__()
        self.m, self.config = student, config

    def forward(self, batch, gen, chunks, exit_step, layout):
        return rollout(self.m, self.config, batch, gen, chunks, exit_step, layout)


@torch.no_grad()
def dmd_target(x: torch.Tensor, batch: dict, gen: torch.Generator, sigma: torch.Tensor, teacher, critic, config,
               guidance: tuple[float, float]) -> torch.Tensor:
    """x - (x0_fake - x0_real) / mean|x - x0_real|: regressing x onto it follows the DMD gradient."""
    B, _, F = x.shape[:3]
    batch = clip_batch(batch, F)
    x = x.detach()
    noise = torch.randn(x.shape, generator=gen).to(x.device)
    sigma = sigma.to(x.device)
    s = sigma[:, None, None, None, None]
    xt = (1 - s) * x + s * noise
    xt[:, :, 0] = x[:, :, 0]
    none = torch.zeros(B, dtype=torch.bool)
    tcond = Conditioner(teacher, config)
    cf, cn = tcond.condition(batch, x, gen, none), tcond.condition(batch, x, gen, ~none)
    tf, tn = tcond.text(batch["caption"], none), tcond.text(batch["caption"], ~none)
    v_real = guided_v(teacher.dit, xt, sigma, cf, cn, tf, tn, *guidance)
    ccond = Conditioner(critic, config)
    v_fake = critic.dit(xt, frame_timesteps(sigma, F), ccond.text(batch["caption"], none),
                        condition=ccond.condition(batch, x, gen, none)).float()
    x0_real, x0_fake = xt - s * v_real, xt - s * v_fake
    x0_real[:, :, 0] = x0_fake[:, :, 0] = x[:, :, 0]  # the given first frame: no score, no gradient
    scale = (x - x0_real)[:, :, 1:].abs().mean(dim=(1, 2, 3, 4), keepdim=True).clamp_min(1e-6)
    return x - (x0_fake - x0_real) / scale


class DistillStage(Stage):
    Settings = DistillSettings  # its section of a training config
    def __init__(self, cfg, rt):
        super().__init__(cfg, rt)
        for key in ("teacher", "student"):
            if key not in cfg.init:
                raise MotionWorldError(f"distill needs init.{key} "
                                       f"(the {'teacher' if key == 'teacher' else 'causal-init'} "
                                       "stage's export folder)")
        self.teacher, tconfig = load_modules(cfg.init["teacher"], TEACHER_KIND)
        self.teacher.to(rt.device).eval().requires_grad_(False)
        self.student, self.config = load_modules(cfg.init["student"], STUDENT_KIND)
        self.student.to(rt.device).train()
        self.student.vae.requires_grad_(False)
        self.critic = copy.deepcopy(self.teacher).train().requires_grad_(True)
        self.critic.vae.requires_grad_(False)
        base = student_config(cfg)
        self.config = dataclasses.replace(self.config, chunk=base.chunk)
        self.g_net = self.wrap(Rollout(self.student, self.config))
        self.c_net = self.wrap(CriticLoss(self.critic, self.config))
        self.g_params, self.c_params = self.trainable(self.student), self.trainable(self.critic)
        self.g_opt = self.make_optimizer(self.g_params)
        self.c_opt = self.make_optimizer(self.c_params, lr=cfg.distill.critic_lr)
        self.ema = self.make_ema(self.student)
        self.modules = {"student": self.student, "critic": self.critic,
                        **({"ema": self.ema} if self.ema is not None else {})}
        self.optimizers = {"generator": self.g_opt, "critic": self.c_opt}
        lo, hi = cfg.distill.rollout_chunks
        need = video_frames(hi * self.config.chunk)
        if cfg.data.frames < need:
            raise MotionWorldError(f"distill.rollout_chunks up to {hi} needs data.frames >= {need}, "
                                   f"got {cfg.data.frames}")

    def _sigma(self, B: int, gen: torch.Generator) -> torch.Tensor:
        d = self.cfg.distill
        u = torch.rand(B, generator=gen) * (d.timestep_max - d.timestep_min) + d.timestep_min
        return shift_sigma(u, self.config.shift).clamp(d.timestep_min, d.timestep_max)

    def step(self, step, batch, gen):
        d = self.cfg.distill
        rnd = random.Random(hash((self.cfg.seed, step, self.rt.rank)))
        B = batch["video"].shape[0]
        critic_losses = []
        for _ in range(d.critic_updates):
            chunks = rnd.randint(*d.rollout_chunks)
            layout = BlockCausal(self.config.chunk, self.config.sink, self.config.window)
            with torch.no_grad(), self.full_params(self.g_net):
                x = rollout(self.student, self.config, batch, gen, chunks, len(self.config.steps) - 1, layout)
            loss_c = self.c_net(x, batch, gen, self._sigma(B, gen))
            self.apply(self.c_opt, loss_c, self.c_params, self.c_net)
            critic_losses.append(loss_c.item())
        chunks = rnd.randint(*d.rollout_chunks)
        exit_step = rnd.randrange(len(self.config.steps))
        layout = BlockCausal(self.config.chunk, self.config.sink, self.config.window)
        x = self.g_net(batch, gen, chunks, exit_step, layout)
        with self.full_params(self.c_net):
            target = dmd_target(x, batch, gen, self._sigma(B, gen), self.teacher, self.critic, self.config,
                                (self.cfg.teacher.guidance_text, self.cfg.teacher.guidance_motion))
        loss_g = 0.5 * (x[:, :, 1:] - target[:, :, 1:]).pow(2).mean()
        norm = self.apply(self.g_opt, loss_g, self.g_params, self.g_net)
        self.update_ema(self.ema, self.student)
        return {"loss": loss_g.item(), "critic_loss": sum(critic_losses) / len(critic_losses), "grad_norm": norm,
                "chunks": float(chunks)}

    def export(self, folder: Path, extra: dict) -> Path:
        student = StreamingStudent(self.config, copy.deepcopy(self.ema or self.student))
        return student.save(folder, extra=extra)
