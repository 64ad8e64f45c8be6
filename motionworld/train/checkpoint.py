"""Resumable checkpoints in safetensors (no pickle): model and EMA weights, optimizer state and the
step, in one file per checkpoint plus `latest.json`. Optimizer state is flattened into named
tensors; its hyper-parameters go into the file's metadata as JSON. Sharded (FSDP) runs keep each
rank's optimizer shard in `step-N.rankR.safetensors` beside the full weights (resume with the
same number of ranks)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ..errors import MotionWorldError


def _flatten_optimizer(name: str, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors = {}
    scalars = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            full = f"optim/{name}/{idx}/{key}"
            if torch.is_tensor(value):
                tensors[full] = value.detach().cpu().clone().contiguous()
            else:
                scalars[full] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optimizer(name: str, opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict = {}
    prefix = f"optim/{name}/"
    for full, value in tensors.items():
        if full.startswith(prefix):
            idx, key = full[len(prefix):].split("/", 1)
            state.setdefault(int(idx), {})[key] = value
    for full, value in meta["scalars"].items():
        idx, key = full[len(prefix):].split("/", 1)
        state.setdefault(int(idx), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(folder: str | Path, step: int, modules: dict[str, torch.nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], extra: dict | None = None, keep: int = 2,
                    shard: int | None = None) -> Path:
    """shard=None: the checkpoint file (and latest.json); shard=R: rank R's own part (optimizer shards)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors, meta = {}, {"step": step, "optimizers": {}, "extra": extra or {}}
    for name, module in modules.items():
        for k, v in module.state_dict().items():
            tensors[f"model/{name}/{k}"] = v.detach().cpu().clone().contiguous()
    for name, opt in optimizers.items():
        t, m = _flatten_optimizer(name, opt)
        tensors.update(t)
        meta["optimizers"][name] = m
    path = folder / (f"step-{step:07d}.safetensors" if shard is None else f"step-{step:07d}.rank{shard}.safetensors")
    tmp = path.with_name(path.name + ".partial")
    save_file(tensors, str(tmp), metadata={"motionworld": json.dumps(meta)})
    os.replace(tmp, path)
    if shard is None:
        (folder / "latest.json.partial").write_text(json.dumps({"file": path.name, "step": step}))
        os.replace(folder / "latest.json.partial", folder / "latest.json")
    # Each writer prunes only its own files (ranks of a sharded run write side by side).
    suffix = ".safetensors" if shard is None else f".rank{shard}.safetensors"
    own = sorted(p for p in folder.glob(f"step-*{suffix}") if p.name[12:] == suffix)
    for old in own[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(folder: str | Path, modules: dict[str, torch.nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], shard: int | None = None) -> tuple[int, dict]:
    """Restore the latest checkpoint in `folder` (shard=R: rank R's part); returns (step, extra)."""
    from safetensors import safe_open

    folder = Path(folder)
    latest = folder / "latest.json"
    if not latest.is_file():
        raise MotionWorldError(f"--resume: no checkpoint in {folder} (latest.json missing)")
    path = folder / json.loads(latest.read_text())["file"]
    if shard is not None:
        path = path.with_name(path.name.replace(".safetensors", f".rank{shard}.safetensors"))
    if not path.is_file():
        raise MotionWorldError(f"--resume: {path} listed in latest.json is missing")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["motionworld"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for name, module in modules.items():
        prefix = f"model/{name}/"
        own = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        missing = set(module.state_dict()) - set(own)
        if missing:
            raise MotionWorldError(f"{path}: checkpoint does not match the model "
                                   f"({name}: missing {sorted(missing)[0]})")
        module.load_state_dict(own)
    for name, opt in optimizers.items():
        _restore_optimizer(name, opt, tensors, meta["optimizers"][name])
    return int(meta["step"]), meta.get("extra", {})
