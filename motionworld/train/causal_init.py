"""Stage 3: causal init. The frozen teacher generates ODE trajectories with joint guidance; the
states at the student's few-step noise levels are kept, and the causal student (initialised
from the teacher) learns to regress the clean end of a trajectory from them under block-causal
masks with sink and window sizes drawn per step, each chunk at its own level (or clean)."""
from __future__ import annotations

import copy
import dataclasses
import random
import time
from pathlib import Path

import torch
from torch import nn

from ..data.dataset import collate
from ..errors import MotionWorldError
from ..model.attention import BlockCausal
from ..model.bundles import TEACHER_KIND, load_modules
from ..model.conditioning import Conditioner, frame_timesteps
from ..model.sampler import shifted_levels
from ..model.student import StreamingStudent
from ..model.teacher_sampling import guidance_nfe, sample_teacher
from .batches import make_dataset, to_device, with_warps
from .config import CausalInitSettings
from .models import student_config
from .trainer import Stage, format_duration


class Regression(nn.Module):
    def __init__(self, student, config):
        super().__init__()
        self.m, self.config = student, config
        self.cond = Conditioner(student, config)

    def forward(self, traj: dict, levels: list[float], gen: torch.Generator, layout: BlockCausal):
        batch, x0 = traj["batch"], traj["x0"]
        B, _, F = x0.shape[:3]
        ids_gen = torch.Generator().manual_seed(traj["ids_seed"])  # the teacher's track ids
        condition = self.cond.condition(batch, x0, ids_gen, torch.zeros(B, dtype=torch.bool))
        text = self.cond.text(batch["caption"], torch.zeros(B, dtype=torch.bool))
        chunk = self.config.chunk
        n = (F + chunk - 1) // chunk
        # Each chunk at one of the student's levels, or clean (what later chunks see at inference).
        pick = torch.randint(0, len(levels) + 1, (n,), generator=gen)
        x = torch.empty_like(x0)
        sigma = torch.zeros(B, F)
        for ci in range(n):
            sl = slice(ci * chunk, min((ci + 1) * chunk, F))
            k = int(pick[ci])
            if k == len(levels):
                x[:, :, sl] = x0[:, :, sl]
            else:
                x[:, :, sl] = traj["states"][levels[k]][:, :, sl]
                sigma[:, sl] = levels[k]
        x[:, :, 0] = x0[:, :, 0]
        sigma = sigma.to(x.device)
        v = self.m.dit(x, frame_timesteps(sigma, F), text, condition=condition, attention=layout).float()
        pred = x - sigma[:, None, :, None, None] * v
        return (pred[:, :, 1:] - x0[:, :, 1:]).pow(2).mean()


class CausalInitStage(Stage):
    Settings = CausalInitSettings  # its section of a training config
    uses_batches = False  # it regresses onto its own teacher trajectories

    def __init__(self, cfg, rt):
        super().__init__(cfg, rt)
        if "teacher" not in cfg.init:
            raise MotionWorldError("causal-init needs init.teacher (the teacher stage's export folder)")
        self.teacher, tconfig = load_modules(cfg.init["teacher"], TEACHER_KIND)
        self.teacher.to(rt.device).eval().requires_grad_(False)
        base = student_config(cfg)
        self.config = dataclasses.replace(tconfig, chunk=base.chunk)
        self.student = copy.deepcopy(self.teacher).train()
        self.student.requires_grad_(True)
        self.student.vae.requires_grad_(False)
        self.net = self.wrap(Regression(self.student, self.config))
        self.train_module("student", self.student)
        self.levels = shifted_levels(self.config.steps, self.config.shift)
        # Checked now, not after the trajectories: sampling them can take an hour.
        k = self.teacher.vae.time_downscale  # the VAE: frame 0, then one latent per k frames (padded)
        latents = -(-(cfg.data.frames + k - 1) // k)
        if latents % self.config.chunk:
            fits = [k * n * self.config.chunk - (k - 1) for n in (2, 3, 4, 5)]
            raise MotionWorldError(f"data.frames {cfg.data.frames} makes {latents} latent frames, not whole chunks of "
                                   f"{self.config.chunk}: use one of {', '.join(map(str, fits))}")
        self.trajectories: list[dict] = []

    def prepare(self, say) -> None:
        self.trajectories = self._trajectories(say)

    @torch.no_grad()
    def _trajectories(self, say) -> list[dict]:

        c = self.cfg.causal_init
        t = self.cfg.teacher
        data = make_dataset(self.cfg.data)
        nfe = guidance_nfe(t.guidance_text, t.guidance_motion)
        say(f"causal-init: sampling {c.trajectories} teacher trajectories first "
            f"({c.ode_steps} Euler steps x {nfe} NFE, {self.cfg.data.frames} frames each)")
        out = []
        t0 = time.perf_counter()
        for i in range(c.trajectories):
            if i == 2:  # an estimate once two trajectories are timed
                each = (time.perf_counter() - t0) / i
                say(f"causal-init: {each:.1f} s per trajectory, so about "
                    f"{format_duration(each * (c.trajectories - i))} more before the first step")
            # integers only: Python salts str hashes per process, which would break resume
            seed = hash((self.cfg.seed, 7, i, self.rt.rank)) % (2 ** 62)
            item = data[seed % len(data)]
            batch = collate([item], self.cfg.data.frames)
            if self.cfg.data.warp:  # the teacher samples, and the student learns, with the clip's warp
                batch = with_warps(batch, [item], self.cfg.data, [self.cfg.seed, 7, i, self.rt.rank])
            batch = to_device(batch, self.rt.device)
            gen = torch.Generator().manual_seed(seed)
            x0, states, _ = sample_teacher(self.teacher, self.config, batch, gen, c.ode_steps, t.guidance_text,
                                           t.guidance_motion, capture=self.levels)
            kept = {k: v for k, v in batch.items() if k != "video"}  # x0 holds the first frame's latent
            out.append({"batch": kept, "x0": x0, "states": states, "ids_seed": seed})
        return out

    def step(self, step, batch, gen):
        c = self.cfg.causal_init
        rnd = random.Random(hash((self.cfg.seed, step, self.rt.rank)))
        traj = self.trajectories[rnd.randrange(len(self.trajectories))]
        layout = BlockCausal(self.config.chunk, rnd.choice(c.sinks), rnd.choice(c.windows))
        loss = self.net(traj, self.levels, gen, layout)
        norm = self.apply(self.optimizer, loss, self.trained, self.net)
        self.update_ema(self.ema, self.student)
        return {"loss": loss.item(), "grad_norm": norm}

    def export(self, folder: Path, extra: dict) -> Path:
        student = StreamingStudent(self.config, copy.deepcopy(self.ema or self.student))
        return student.save(folder, extra={**extra, "trajectories": len(self.trajectories)})
