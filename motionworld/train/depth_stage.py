"""The depth stage: `DepthNet` learns relative inverse depth from single views of synthetic worlds
(`data.depth_views`): scale-and-shift invariant on disparity (`metrics.depth.ssi_loss`) or scale
invariant on log disparity (`scale_invariant_loss`), each with gradient matching. Each step
renders its own batch: the world seeds and every augmentation
draw come from (seed, step, rank), so `--resume` continues bit for bit.

Its evaluation maps the network's output to depth the way inference does
(`geometry.depth.network_depth`) on held-out views and scores it (AbsRel, δ1; median-scaled
and scale-and-shift aligned) beside the two cheap baselines: the `prior` and a flat plane."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data.depth_views import DepthViews
from ..data.synth.generator import HELDOUT_SEED_START
from ..errors import MotionWorldError
from ..geometry.camera import Camera
from ..geometry.depth import PriorDepth, network_depth
from ..metrics.depth import depth_scores, scale_invariant_loss, ssi_loss
from ..model.depth_net import DepthNet, DepthNetConfig, load_depth_net, save_depth_net
from .config import DepthSettings
from .trainer import Stage


class DepthStage(Stage):
    Settings = DepthSettings  # its section of a training config
    uses_batches = False

    def __init__(self, cfg, rt):
        super().__init__(cfg, rt)
        d = cfg.depth
        self.net_config = DepthNetConfig(widths=tuple(d.widths), blocks=tuple(d.blocks), decoder=tuple(d.decoder),
                                         heads=d.heads, output=d.output)
        net = DepthNet(self.net_config)
        if "depth" in cfg.init:
            warm = load_depth_net(cfg.init["depth"])
            if warm.config.to_dict() | {"output": None, "max_side": None} != \
                    self.net_config.to_dict() | {"output": None, "max_side": None}:
                raise MotionWorldError(f"init.depth {cfg.init['depth']}: its network is not this config's shape "
                                       f"({warm.config.widths} vs {self.net_config.widths}, ...)")
            net.load_state_dict(warm.state_dict())
        self.model = net.to(rt.device)  # the bare network: evaluate and export read its config and predict
        self.net = self.wrap(self.model)
        self.train_module("depth", self.model, frozen_prefix="\0")
        self._views = None
        self.data_words = f"views of {cfg.data.count} synthetic worlds"

    @property
    def views(self) -> DepthViews:
        if self._views is None:  # a GL context: made in the process that renders
            w, h = self.cfg.depth.render_size
            self._views = DepthViews(w, h)
        return self._views

    def step(self, step: int, batch, gen: torch.Generator) -> dict:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, step, self.rt.rank, 4242])
        seeds = rng.integers(0, cfg.data.count, cfg.optim.batch_size)
        rgb, depth = self.views.batch(seeds, rng, cfg.data.frame_size)
        x = torch.from_numpy(rgb).permute(0, 3, 1, 2).float().div(255).to(self.rt.device)
        disparity = torch.from_numpy(1.0 / np.maximum(depth, 1e-3)).to(self.rt.device)
        pred = self.net(x)
        loss_fn = scale_invariant_loss if cfg.depth.output == "log_disparity" else ssi_loss
        loss = loss_fn(pred, disparity, cfg.depth.gradient_weight, cfg.depth.scales)
        norm = self.apply(self.optimizer, loss, self.trained, self.net)
        self.update_ema(self.ema, self.net)
        return {"loss": float(loss.detach()), "grad_norm": norm}

    def heldout_views(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self.views.view(HELDOUT_SEED_START + i) for i in range(self.cfg.data.heldout)]

    @torch.no_grad()
    def evaluate(self) -> dict:
        net = self.ema if self.ema is not None else self.model
        rows: dict[str, list[dict]] = {"net": [], "prior": [], "flat": []}
        for rgb, truth in self.heldout_views():
            H, W = truth.shape
            camera = Camera.from_fov(W, H, fov_deg=50)
            valid = np.isfinite(truth) & (truth > 0)
            guesses = {"net": network_depth(net, rgb),
                       "prior": PriorDepth(PriorDepth.Options()).load(rgb, camera),
                       "flat": np.ones_like(truth)}
            for name, guess in guesses.items():
                rows[name].append(depth_scores(guess, truth, valid))
        return {f"{name}_{k}": float(np.mean([r[k] for r in rs])) for name, rs in rows.items() for k in rs[0]}

    def export(self, folder: Path, extra: dict) -> Path:
        net = self.ema if self.ema is not None else self.model
        return save_depth_net(folder, net, extra)
