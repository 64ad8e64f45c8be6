"""Every training clip's latents under the run's frozen VAE, computed once before the first step.

The teacher sees each clip's first `data.frames` frames, always the same ones, through a VAE that
does not train, so encoding them again at every step is wasted work; on the CPU it is about half of
a teacher step. The cache lives in the run folder (`latents.safetensors`) with a key naming the VAE
(a hash of its weights), the data and the frame count; a resume, or a new run pointed at the same
folder, reuses it only when the key matches. Under torch.distributed each rank encodes its share and
an all-reduce assembles the whole table."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

from ..data.dataset import collate
from .config import DataConfig

FILE = "latents.safetensors"


def vae_digest(vae: torch.nn.Module) -> str:
    """sha256 over the VAE's state (names, shapes and values): the cache's notion of 'the same VAE'."""
    h = hashlib.sha256()
    for name, t in sorted(vae.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        # a copy: numpy would pin the storage, which FSDP frees after summon_full_params
        h.update(t.detach().cpu().reshape(-1).clone().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def cache_key(vae: torch.nn.Module, data: DataConfig, dataset) -> dict:
    manifest = getattr(dataset, "manifest", None) or {}
    return {"vae_sha256": vae_digest(vae), "data": data.model_dump(mode="json"), "clips": len(dataset),
            "shards_created": manifest.get("created")}


class LatentCache:
    def __init__(self, latents: torch.Tensor):
        self.latents = latents  # [clips, C, F, h, w] float32, the layout Conditioner.latents returns

    def lookup(self, index: torch.Tensor) -> torch.Tensor:
        return self.latents[index.cpu()]

    @classmethod
    @torch.no_grad()
    def build(cls, folder: str | Path, encode, vae: torch.nn.Module, dataset, data: DataConfig, rt, say=print,
              batch: int = 8) -> LatentCache:
        """Load folder/latents.safetensors when its key matches, else encode every clip with
        `encode(video [B, T, 3, H, W]) -> [B, C, F, h, w]` and write it (main rank)."""
        path = Path(folder) / FILE
        key = json.dumps(cache_key(vae, data, dataset), sort_keys=True)
        if path.exists():
            from safetensors import safe_open

            with safe_open(str(path), "pt") as f:
                stored = (f.metadata() or {}).get("key")
            if stored == key:
                say(f"latent cache: {path} matches this VAE and data; reusing it")
                return cls(load_file(str(path))["latents"])
            say(f"latent cache: {path} was made for another VAE or data; encoding again")
        n = len(dataset)
        mine = list(range(rt.rank, n, rt.world_size))
        say(f"latent cache: encoding the first {data.frames} frames of {n} clips once, before the first step")
        table, t0 = None, time.perf_counter()
        for start in range(0, len(mine), batch):
            idx = mine[start:start + batch]
            video = collate([dataset[i] for i in idx], data.frames)["video"].to(rt.device)
            lat = encode(video).cpu()
            if table is None:
                table = torch.zeros(n, *lat.shape[1:], dtype=torch.float32)
            table[idx] = lat.float()
            if start == 0 and len(mine) > batch:
                each = (time.perf_counter() - t0) / len(idx)
                minutes = each * (len(mine) - len(idx)) / 60
                say(f"latent cache: {each:.2f} s per clip, so about {minutes:.0f} min more")
        if rt.distributed:  # every rank filled its own rows with zeros elsewhere: a sum assembles the table
            shape = torch.tensor(list(table.shape) if table is not None else [0] * 5, dtype=torch.int64)
            dist.all_reduce(shape, op=dist.ReduceOp.MAX)
            if table is None:
                table = torch.zeros(*shape.tolist(), dtype=torch.float32)
            moved = table.to(rt.device)
            dist.all_reduce(moved)
            table = moved.cpu()
        if rt.main:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            save_file({"latents": table.contiguous()}, str(tmp), metadata={"key": key})
            tmp.replace(path)
        rt.barrier()
        say(f"latent cache: {n} clips in {time.perf_counter() - t0:.0f} s, {table.numel() * 4 / 2 ** 20:.0f} MiB, "
            f"in {path}")
        return cls(table)
