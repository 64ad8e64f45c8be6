"""The training loop every stage shares: deterministic batches and randomness per (seed, step,
rank), DDP across ranks, gradient clipping, EMA, checkpoints with bit-exact resume, a JSONL log,
a progress bar, an eval hook and the export of the stage's result as shipped-format weights.

A stage provides `modules` (checkpointed), `optimizers`, `step(step, batch, gen) -> metrics`,
`evaluate() -> metrics` and `export(folder, extra)`."""
from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from abc import ABC, abstractmethod
from pathlib import Path

import torch

from .. import plugins
from ..errors import MotionWorldError
from ..outputs import check_output_folder
from ..strict_yaml import StrictModel
from .batches import BatchSource, made_ahead, make_dataset, to_device, train_seeds
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .log import JSONLLog
from .runtime import Runtime, init_runtime, shutdown, unwrap


class Stage(ABC):
    """One training stage. Registered in `plugins.STAGES` under its name; its own settings are the
    pydantic model `Settings`, read from the config's section of that name (`section_of`, e.g.
    `causal_init` for causal-init) and found as `self.cfg.settings`. docs/extending.md adds one."""
    Settings: type = StrictModel
    output_scaled = False  # its clips are at a guided decoder's output size (what it trains paints there)
    uses_batches = True
    # what its data is, for the plan line and the manifest; None: clips of data.source (a stage that
    # makes its own data, the depth stage's single views, says what)
    data_words: str | None = None
    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]

    def __init__(self, cfg: TrainConfig, rt: Runtime):
        self.cfg, self.rt = cfg, rt
        self.wrappers: list[torch.nn.Module] = []
        self.current_step = 0  # set by the loop before each step (the EMA warm-up reads it)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """DDP/FSDP across ranks (as configured); remembered so full weights can be gathered."""
        wrapped = self.rt.wrap(module)
        self.wrappers.append(wrapped)
        return wrapped

    @staticmethod
    def trainable(module: torch.nn.Module, frozen_prefix: str = "vae.") -> list:
        """Trained parameters (taken after wrapping: FSDP replaces them with views of its shards)."""
        return [p for n, p in module.named_parameters() if not n.startswith(frozen_prefix) and p.requires_grad]

    def full_params(self, *wrappers, writeback: bool = False):
        """Context in which the inner modules hold their full weights (a collective under FSDP:
        every rank must enter; a no-op otherwise)."""
        if not self.rt.sharded:
            return contextlib.nullcontext()
        from torch.distributed.fsdp import FullyShardedDataParallel

        stack = contextlib.ExitStack()
        for w in wrappers or self.wrappers:
            stack.enter_context(FullyShardedDataParallel.summon_full_params(w, writeback=writeback))
        return stack

    # helpers for subclasses
    def train_module(self, name: str, module: torch.nn.Module, frozen_prefix: str = "vae.") -> None:
        """The usual set-up of a stage that trains one module: its trained parameters, AdamW, an EMA
        copy, and what checkpoints hold (`name` and "ema"; the optimizer under `name`)."""
        self.trained = self.trainable(module, frozen_prefix)
        self.optimizer = self.make_optimizer(self.trained)
        self.ema = self.make_ema(module)
        self.modules = {name: module, **({"ema": self.ema} if self.ema is not None else {})}
        self.optimizers = {name: self.optimizer}

    def make_optimizer(self, params, lr: float | None = None) -> torch.optim.Optimizer:
        o = self.cfg.optim
        return torch.optim.AdamW(params, lr=lr or o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)

    def make_ema(self, module: torch.nn.Module) -> torch.nn.Module | None:
        if self.cfg.optim.ema <= 0:
            return None
        with self.full_params():
            ema = copy.deepcopy(unwrap(module)).eval()
        for p in ema.parameters():
            p.requires_grad_(False)
        return ema

    @torch.no_grad()
    def update_ema(self, ema: torch.nn.Module | None, module: torch.nn.Module) -> None:
        """EMA with a warm-up: the decay grows as (1 + step) / (10 + step) up to optim.ema, so early
        on the average follows the weights instead of holding on to their random start (with a
        fixed 0.999, 500 steps in, 61 % of the average would still be the initial weights)."""
        if ema is None:
            return
        step = self.current_step
        d = min(self.cfg.optim.ema, (1 + step) / (10 + step))
        with self.full_params():
            for e, p in zip(ema.parameters(), unwrap(module).parameters()):
                if p.requires_grad:  # a frozen part (the VAE) would only pick up rounding drift
                    e.mul_(d).add_(p.detach(), alpha=1 - d)

    def apply(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor, params, wrapper=None) -> float:
        """Backward (DDP/FSDP reduce the gradients), clip by the global norm, step; returns the norm."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.cfg.optim.grad_clip
        if self.rt.sharded and wrapper is not None:
            norm = wrapper.clip_grad_norm_(clip if clip > 0 else float("inf"))
        else:
            params = [p for p in params if p.grad is not None]
            norm = torch.nn.utils.clip_grad_norm_(params, clip if clip > 0 else float("inf"))
        optimizer.step()
        return float(norm)

    @abstractmethod
    def step(self, step: int, batch: dict, gen: torch.Generator) -> dict:
        """One optimisation step; returns the metrics to log."""

    def prepare(self, say) -> None:  # noqa: B027 - an optional hook
        """Work done once before the first step, after the plan is printed (`say` prints a line
        on the main process when progress is on)."""

    def evaluate(self) -> dict:
        return {}

    @abstractmethod
    def export(self, folder: Path, extra: dict) -> Path:
        """Write the stage's result as shipped-format weights (safetensors + manifest)."""


def _stage_class(name: str) -> type[Stage]:
    """The registered stage (`plugins.STAGES`) of that name."""
    return plugins.load(plugins.STAGES, name)


def _digest(modules: dict[str, torch.nn.Module]) -> dict[str, str]:
    """sha256 of every module's weights (ranks of a DDP run must agree exactly)."""
    import hashlib

    out = {}
    for name, module in modules.items():
        h = hashlib.sha256()
        for k, v in sorted(module.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().clone().contiguous().numpy().tobytes())
        out[name] = h.hexdigest()
    return out


def lr_scale(o, step: int) -> float:
    """The lr multiplier at `step` (0-based): linear warm-up, then constant or a decay to min_lr_ratio
    at the last step."""
    if o.warmup > 0 and step < o.warmup:
        return (step + 1) / o.warmup
    if o.decay == "constant" or o.steps - 1 <= o.warmup:
        return 1.0
    progress = min(1.0, (step - o.warmup) / (o.steps - 1 - o.warmup))
    fall = 0.5 * (1 + math.cos(math.pi * progress)) if o.decay == "cosine" else 1.0 - progress
    return o.min_lr_ratio + (1.0 - o.min_lr_ratio) * fall


def _decay_words(o) -> str:
    return "" if o.decay == "constant" else f" with {o.decay} decay to {o.lr * o.min_lr_ratio:g}"


def _set_lr(stage: Stage, step: int) -> float:
    """Scales every optimizer's lr for `step`; returns optim.lr as scaled (the main optimizer's)."""
    scale = lr_scale(stage.cfg.optim, step)
    for opt in stage.optimizers.values():
        for g in opt.param_groups:
            g.setdefault("base_lr", g["lr"])
            g["lr"] = g["base_lr"] * scale
    return stage.cfg.optim.lr * scale


def format_duration(seconds: float) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else (f"{m} min" if m >= 1 else f"{seconds:.0f} s")


def _plan(cfg: TrainConfig, start: int, until: int, world_size: int, source, stage: Stage) -> str:
    """One line saying what the run will do, before it does it."""
    d, o = cfg.data, cfg.optim
    data = (f"{len(source.dataset)} clips from {d.path}" if source is not None and d.source == "shards"
            else stage.data_words or f"{d.source} data")
    what = f"steps {start}..{until} of {o.steps}" + (" (resumed)" if start else "")
    batch = (f"{o.batch_size} rollouts x {cfg.guide.frames_per_clip} frames" if cfg.stage == "guide"
             else f"{o.batch_size} x {d.frames} frames" if stage.data_words is None else f"{o.batch_size} views")
    workers = f" ({d.workers} worker process(es) each making clips ahead)" if d.workers else ""
    return (f"{cfg.stage}: {what}, batch {batch} at {d.frame_size[0]}x{d.frame_size[1]} on {world_size} "
            f"process(es){workers}, {data}, lr {o.lr:g}{_decay_words(o)}; "
            f"checkpoints every {cfg.checkpoint_every} steps in {cfg.out}; "
            f"the expected time follows after the first steps")


RUN_FILES = ("log.jsonl", "invocations.jsonl", "checkpoints", "export")  # what a run writes in its folder


def _record_invocation(out: Path, command, start: int, steps: int, stop_after, resume: bool) -> None:
    """Every invocation of a run (the first, each --resume) in `invocations.jsonl`, so the export's
    manifest shows the whole chain and any change of --steps (and so of the schedule) along it."""
    entry = {"command": command, "from_step": start, "steps": steps, "stop_after": stop_after}
    with open(out / "invocations.jsonl", "a" if resume else "w") as f:
        f.write(json.dumps(entry) + "\n")


def _invocations(out: Path) -> list[dict]:
    path = out / "invocations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _resumed_step(stage: Stage, rt: Runtime, ckpt_dir: Path, resume: bool) -> int:
    """The step a run starts from: the latest checkpoint's with `resume` (weights and optimizers
    loaded into the stage), else 0, refusing a folder that already holds a run's checkpoints."""
    if not resume:
        if (ckpt_dir / "latest.json").exists():
            raise MotionWorldError(f"{ckpt_dir.parent} already holds checkpoints of a run; pass --resume to continue "
                                   "it or choose another output folder")
        return 0
    if not rt.sharded:
        return load_checkpoint(ckpt_dir, stage.modules, stage.optimizers)[0]
    with stage.full_params(writeback=True):
        start, _ = load_checkpoint(ckpt_dir, stage.modules, {})
    load_checkpoint(ckpt_dir, {}, stage.optimizers, shard=rt.rank)
    return start


def _checkpoint(stage: Stage, rt: Runtime, ckpt_dir: Path, done: int) -> None:
    if rt.sharded:  # every rank writes its optimizer shard first, then rank 0 the weights
        save_checkpoint(ckpt_dir, done, {}, stage.optimizers, shard=rt.rank)
        rt.barrier()
        with stage.full_params():
            if rt.main:
                save_checkpoint(ckpt_dir, done, stage.modules, {})
    elif rt.main:
        save_checkpoint(ckpt_dir, done, stage.modules, stage.optimizers)
    rt.barrier()


def _evaluate(stage: Stage, rt: Runtime, log: JSONLLog | None, done: int) -> dict:
    """The eval hook's metrics as "eval/NAME" (logged) on the main rank; {} on the others."""
    scores = {}
    with stage.full_params():
        if rt.main:
            scores = {f"eval/{k}": v for k, v in stage.evaluate().items()}
            log.write({"step": done, **scores})
    rt.barrier()
    return scores


def _export_info(cfg: TrainConfig, rt: Runtime, source, stage: Stage, command, metrics: dict) -> dict:
    """What an export's manifest says about the run that made it."""
    own_data = stage.data_words is not None  # no clip dataset to describe
    seeds = train_seeds(source.dataset if source else (None if own_data else make_dataset(cfg.data)), cfg.data)
    return {"stage": cfg.stage, "steps": cfg.optim.steps, "seed": cfg.seed, "world_size": rt.world_size,
            "command": command, "invocations": _invocations(Path(cfg.out)) if rt.main else [],
            "init": {k: str(Path(v).resolve()) for k, v in cfg.init.items()},
            "parallel": cfg.optim.parallel if rt.distributed else "none",
            "data": {"source": cfg.data.source, "path": cfg.data.path, "train_seeds": seeds,
                     "size": cfg.data.size, "height": cfg.data.frame_size[1], "frames": cfg.data.frames},
            "metrics": metrics}


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True, device: str = "auto",
          stop_after: int | None = None, command: str | None = None) -> dict:
    """Run (or resume) one stage; returns {"steps", "metrics", "export", "steps_per_s", ...}.

    stop_after ends the run early (with a checkpoint, without export) as an interruption would;
    the schedule still follows optim.steps, so `--resume` continues exactly."""
    from tqdm import tqdm

    out = Path(cfg.out)
    if not resume:  # a new run never replaces a log or an export of the user's own
        check_output_folder(out, RUN_FILES, lambda f: (f / "invocations.jsonl").is_file(), "run folder")
    rt = init_runtime(device, cfg.optim.parallel)
    try:
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        stage = _stage_class(cfg.stage)(cfg, rt)
        ckpt_dir = out / "checkpoints"
        start = _resumed_step(stage, rt, ckpt_dir, resume)
        rt.barrier()
        log = JSONLLog(out / "log.jsonl", append=resume) if rt.main else None
        if rt.main:
            _record_invocation(out, command, start, cfg.optim.steps, stop_after, resume)
        source = BatchSource(cfg.data, cfg.optim.batch_size, cfg.seed, rt.rank) if stage.uses_batches else None
        steps = cfg.optim.steps
        until = steps if stop_after is None else min(stop_after, steps)
        bar = tqdm(total=steps, initial=start, desc=cfg.stage, unit="step",
                   disable=None if (progress and rt.main) else True)
        if rt.main and progress:
            bar.write(_plan(cfg, start, until, rt.world_size, source, stage))
        stage.prepare(bar.write if rt.main and progress else (lambda line: None))
        estimate_at = start + min(10, max(1, (until - start) // 50))  # the time estimate comes after a few steps
        metrics: dict = {}
        last_eval: dict = {}
        t_start = time.perf_counter()
        batches = made_ahead(source.batch, start, until, cfg.data.workers) if stage.uses_batches else None
        for step in range(start, until):
            gen = torch.Generator().manual_seed(hash((cfg.seed, step, rt.rank)) % (2 ** 63))
            batch = to_device(next(batches), rt.device) if stage.uses_batches else None
            lr = _set_lr(stage, step)
            stage.current_step = step
            t0 = time.perf_counter()
            # bf16 autocast on GPUs (norms and modulation stay fp32 inside the model); fp32 on CPU.
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=rt.device.type == "cuda"):
                metrics = {k: rt.mean(v) for k, v in stage.step(step, batch, gen).items()}
            dt = time.perf_counter() - t0
            done = step + 1
            if rt.main and (done % cfg.log_every == 0 or done == steps):
                log.write({"step": done, **metrics, "lr": lr, "step_s": dt})
            bar.set_postfix({k: f"{v:.4g}" for k, v in list(metrics.items())[:2]})
            bar.update(1)
            if rt.main and progress and done == estimate_at and until > done:
                per_step = (time.perf_counter() - t_start) / (done - start)
                bar.write(f"{cfg.stage}: {per_step:.2f} s/step so far, so about "
                          f"{format_duration(per_step * (until - done))} more for the remaining {until - done} "
                          "steps (evaluations and checkpoints not counted)")
            if done % cfg.checkpoint_every == 0 or done in (steps, until):
                _checkpoint(stage, rt, ckpt_dir, done)
            if cfg.eval_every and (done % cfg.eval_every == 0 or done == steps):
                scores = _evaluate(stage, rt, log, done)
                last_eval = scores if rt.main else last_eval
        batches = None  # stops the workers (data.workers) before the evaluation and export
        bar.close()
        elapsed = time.perf_counter() - t_start
        rate = (until - start) / elapsed if elapsed > 0 else 0.0
        export = None
        info = _export_info(cfg, rt, source, stage, command, {**metrics, **last_eval})
        with stage.full_params():
            if rt.main and until == steps:
                export = stage.export(out / "export", info)
            digest = _digest(stage.modules)
        if log is not None:
            log.close()
        rt.barrier()
        return {"steps": until, "metrics": {**metrics, **last_eval}, "export": export, "steps_per_s": rate,
                "rank": rt.rank, "world_size": rt.world_size, "digest": digest}
    finally:
        shutdown(rt)
