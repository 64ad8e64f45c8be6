"""Stage 5: the guided decoder on the student's own latents.

The VAE stage trains the guide on the latents of true clips. At inference it finishes the
student's, which are softer, and wrong where the DiT guessed, so a guide that learnt on true
latents trusts the decode where it should take the warp and paints the holes as if the decode were
right there. Here the frozen student (init.student: its DiT, cache layout and VAE) streams
`guide.rollouts` clips chunk by chunk exactly as at inference: clips at the output size with their
warps and tracks from the documented depth mix (`data.warps`), its DiT given the picture and the
tracks at its own size (`data.views`). Its plain decodes are kept, and the guide then learns on
them against the true frames (RGB L1 + L2), a few frames of a few rollouts per step.

`guide.widths` and `guide.fill` may reshape the guide (`fill`: it also reads the warp filled
across its holes, `guided_decoder.pull_push_fill`). It starts from the student's own guide where
that fits, a guide grown by the fill inputs with those at zero; any other shape starts fresh.
The evaluation streams the held-out clips once and scores the guide against a hard paste of the
warp over the same decodes, the student's own guide, and the warp filled (PSNR over all pixels,
those the warp sees and those it does not, and SSIM). The export is the student with the new
guide, for `train ship --student`. A resume streams the same rollouts again (same seeds)."""
from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.dataset import collate
from ..data.views import stream_clip
from ..errors import MotionWorldError
from ..frames import chunk_frames
from ..metrics.image import mean_split_scores, psnr, split_scores
from ..model.bundles import STUDENT_KIND, load_modules
from ..model.guided_decoder import GuidedDecoder, hard_paste, pull_push_fill
from ..model.student import StreamingStudent
from .batches import made_ahead, make_dataset, with_warps
from .config import GuideSettings
from .trainer import Stage, format_duration


class _GuideLoss(nn.Module):
    def __init__(self, guide: GuidedDecoder, l1: float, l2: float):
        super().__init__()
        self.guide, self.l1, self.l2 = guide, l1, l2

    def forward(self, decoded, warp, valid, video):
        out = self.guide(decoded, warp, valid)
        diff = out - video
        return self.l1 * diff.abs().mean() + self.l2 * diff.pow(2).mean(), out


def grown_guide(guide: GuidedDecoder, old: GuidedDecoder) -> str:
    """Start `guide` from `old` where it fits: the same shape (copied), or the same with the fill
    inputs and gate added (copied, the new input weights zero). Returns how it started."""
    own, src = guide.state_dict(), old.state_dict()
    if own.keys() != src.keys():
        return "fresh (the student's guide has another shape)"
    if guide.fill == old.fill and all(own[k].shape == v.shape for k, v in src.items()):
        guide.load_state_dict(src)
        return "the student's guide"
    def with_fill(name, shape):  # the fill adds 6 inputs to the first conv and a gate to the head
        shape = list(shape)
        if name == "body.0.weight":
            shape[1] += 6
        if name.startswith("head."):
            shape[0] += 1
        return tuple(shape)

    grows = guide.fill and not old.fill and all(own[k].shape == with_fill(k, v.shape) for k, v in src.items())
    if not grows:
        return "fresh (the student's guide has another shape)"
    with torch.no_grad():
        # old inputs and outputs first; the fill's inputs at zero, its gate as initialised
        for name, value in src.items():
            target = own[name]
            if name == "body.0.weight":
                target.zero_()
            target[tuple(slice(0, n) for n in value.shape)] = value
    guide.load_state_dict(own)
    return "the student's guide, grown by the fill inputs (at zero)"


class _ClipWithWarp:
    """Rollout i's clip, its warp and tracks from the depth mix (`with_warps`), and the student's
    noise seed: the CPU half of a rollout, which `data.workers` processes can make ahead of the
    streaming. A function of i alone (integer hashes are stable across processes)."""

    def __init__(self, data, cfg, seed: int, salt: int, rank: int, heldout: bool):
        self.data, self.cfg, self.seed, self.salt, self.rank, self.heldout = data, cfg, seed, salt, rank, heldout

    def __call__(self, i: int) -> dict:
        seed = hash((self.seed, self.salt, i, self.rank)) % (2 ** 62)
        item = self.data[i if self.heldout else seed % len(self.data)]
        T = self.cfg.frames
        batch = with_warps(collate([item], T), [item], self.cfg, [self.seed, self.salt, i, self.rank])
        video = (batch["video"][0] * 255).round().to(torch.uint8)
        clip = {"video": video.permute(0, 2, 3, 1).numpy(), "tracks": batch["tracks"][0].numpy(),
                "visibility": batch["visibility"][0].numpy(), "caption": batch["caption"][0]}
        return {"item": clip, "seed": seed, "video": video,
                "warp": (batch["warp"][0] * 255).round().to(torch.uint8),  # exact: the warp was made in uint8
                "valid": batch["warp_valid"][0] > 0.5}


class GuideStage(Stage):
    Settings = GuideSettings  # its section of a training config
    output_scaled = True
    uses_batches = False  # it trains on the student's rollouts, streamed once before the first step

    def __init__(self, cfg, rt):
        super().__init__(cfg, rt)
        if "student" not in cfg.init:
            raise MotionWorldError("the guide stage needs init.student (a causal-init or distill export folder)")
        self.frozen, sconfig = load_modules(cfg.init["student"], STUDENT_KIND)
        self.frozen.to(rt.device).eval().requires_grad_(False)
        self.student_config = sconfig
        if not sconfig.vae.guided:
            raise MotionWorldError(f"{cfg.init['student']}: this student has no guided decoder to train")
        if not cfg.data.warp:
            raise MotionWorldError("the guide learns from the clips' warps: turn on data.warp")
        g, scale = cfg.guide, sconfig.vae.output_scale
        width, height = cfg.data.frame_size
        if width % (16 * scale) or height % (16 * scale):
            raise MotionWorldError(f"data.size, data.height ({width}x{height}): the guide's clips are at the student's "
                                   f"output size, {scale}x the model's, whose sides are multiples of 16")
        if sconfig.aspect == "fixed" and (height, width) != (sconfig.height * scale, sconfig.width * scale):
            raise MotionWorldError(f"this student paints {sconfig.width * scale}x{sconfig.height * scale}; "
                                   f"the data are {width}x{height}")
        if cfg.data.warp_mesh_step != scale:
            raise MotionWorldError(f"data.warp_mesh_step must be {scale}: "
                                   "inference puts one warp mesh vertex per model pixel")
        if (cfg.data.frames - chunk_frames(0, sconfig.chunk)) % chunk_frames(1, sconfig.chunk):
            first, rest = chunk_frames(0, sconfig.chunk), chunk_frames(1, sconfig.chunk)
            raise MotionWorldError(f"data.frames {cfg.data.frames}: a rollout is whole chunks, "
                                   f"{first} + {rest}k frames")
        vae = dataclasses.replace(sconfig.vae, guide_widths=tuple(g.widths or sconfig.vae.guide_widths),
                                  guide_fill=g.fill)
        self.config = dataclasses.replace(sconfig, vae=vae)
        self.guide = GuidedDecoder(vae.guide_widths, vae.output_scale, vae.guide_fill).to(rt.device)
        self.started_from = grown_guide(self.guide, self.frozen.vae.guide)
        self.net = self.wrap(_GuideLoss(self.guide, g.l1_weight, g.l2_weight))
        self.train_module("guide", self.guide, frozen_prefix="-")
        self.rollouts: list[dict] = []
        self.heldout: list[dict] = []

    def prepare(self, say) -> None:
        say(f"guide: starting from {self.started_from}; streaming the student over {self.cfg.guide.rollouts} "
            f"clips and {self.cfg.data.heldout} held-out ones first ({self.cfg.data.frames} frames each)")
        self.rollouts = self._rollouts(make_dataset(self.cfg.data), self.cfg.guide.rollouts, 11, say)
        self.heldout = self._rollouts(make_dataset(self.cfg.data, heldout=True), self.cfg.data.heldout, 12, say,
                                      heldout=True)

    def _rollouts(self, data, count: int, salt: int, say, heldout: bool = False) -> list[dict]:
        inputs = made_ahead(_ClipWithWarp(data, self.cfg.data, self.cfg.seed, salt, self.rt.rank, heldout), 0, count,
                            self.cfg.data.workers)
        out, t0 = [], time.perf_counter()
        for i, clip in enumerate(inputs):
            if i == 2 and not heldout:
                each = (time.perf_counter() - t0) / i
                say(f"guide: {each:.1f} s per rollout, so about {format_duration(each * (count - i))} more before "
                    "the held-out ones and the first step")
            out.append(self._rollout(clip))
        return out

    @torch.no_grad()
    def _rollout(self, clip: dict) -> dict:
        """One clip (`_ClipWithWarp`) streamed through the student as the neural backend streams it;
        its plain decodes (before the guide) half [T, 3, h, w], the warp uint8 [T, 3, H, W] and
        validity bool [T, H, W] it was given, and the true frames uint8 [T, 3, H, W]."""
        # copies: a worker's tensors live in shared memory, and rollouts are kept for the whole run
        warp, valid, video = clip["warp"].clone(), clip["valid"].clone(), clip["video"].clone()
        decoded = []

        def keep(x, warp_frames, warp_valid):  # the frames it returns are not fed back: the cache holds latents
            decoded.append(x[0].half().cpu())
            return x

        stream_clip(StreamingStudent(self.student_config, self.frozen, device=self.rt.device), clip["item"],
                    seed=clip["seed"], warp=(warp.permute(0, 2, 3, 1).numpy(), valid.numpy()), finish=keep)
        return {"decoded": torch.cat(decoded), "warp": warp, "valid": valid, "video": video}

    def _frames(self, rollouts: list[dict], picks) -> tuple:
        """[B, n, ...] float tensors on the device from (rollout, frame indices) picks."""
        dev = self.rt.device
        take = [(rollouts[r], torch.as_tensor(f)) for r, f in picks]
        decoded = torch.stack([r["decoded"][f] for r, f in take]).float().to(dev)
        warp = torch.stack([r["warp"][f] for r, f in take]).float().to(dev) / 255.0
        valid = torch.stack([r["valid"][f] for r, f in take]).float().to(dev)
        video = torch.stack([r["video"][f] for r, f in take]).float().to(dev) / 255.0
        return decoded, warp, valid, video

    def step(self, step, batch, gen):
        g = self.cfg.guide
        rng = np.random.default_rng([self.cfg.seed, step, self.rt.rank, 5])
        T = self.cfg.data.frames
        picks = [(int(rng.integers(len(self.rollouts))),
                  np.sort(rng.choice(T, min(g.frames_per_clip, T), replace=False)))
                 for _ in range(self.cfg.optim.batch_size)]
        decoded, warp, valid, video = self._frames(self.rollouts, picks)
        hide = torch.from_numpy(rng.random(len(picks)) < g.warp_dropout).to(valid)
        valid = valid * (1 - hide)[:, None, None, None]
        loss, out = self.net(decoded, warp, valid, video)
        norm = self.apply(self.optimizer, loss, self.trained, self.net)
        self.update_ema(self.ema, self.guide)
        return {"loss": loss.item(), "psnr": psnr(out.detach().clamp(0, 1), video), "grad_norm": norm}

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Over the held-out rollouts (frame 0, the given picture, left out): the trained guide, the
        student's own guide, a hard paste of the warp over the upsampled decode, and the warp filled
        across its holes (no model): PSNR over all pixels, those the warp sees and those it does not, SSIM."""
        guide, before = self.ema or self.guide, self.frozen.vae.guide
        rows = {"guided": [], "student_guide": [], "hard_paste": [], "warp_filled": []}
        for i, r in enumerate(self.heldout):
            decoded, warp, valid, video = self._frames(self.heldout, [(i, np.arange(1, len(r["video"])))])
            outs = {"guided": guide(decoded, warp, valid), "student_guide": before(decoded, warp, valid),
                    "hard_paste": hard_paste(decoded, warp, valid),
                    "warp_filled": pull_push_fill(warp[0], valid[0][:, None])[None]}
            for name, out in outs.items():
                rows[name].append(split_scores(out.clamp(0, 1), video, valid > 0.5))
        return mean_split_scores(rows, main="guided")

    def export(self, folder: Path, extra: dict) -> Path:
        modules = copy.deepcopy(self.frozen)
        modules.vae.guide = copy.deepcopy(self.ema or self.guide).float().cpu()
        modules.vae.config = self.config.vae
        return StreamingStudent(self.config, modules).save(folder, extra={**extra, "rollouts": len(self.rollouts),
                                                                           "guide_started_from": self.started_from})
