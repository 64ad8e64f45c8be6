"""Process group and device for training: one process on its own, or one per rank under torchrun
(gloo on CPU, nccl on CUDA). With world_size > 1 the trained modules are wrapped in
DistributedDataParallel, or, with `parallel: fsdp`, sharded with FullyShardedDataParallel (for
configs too large to replicate; the full weights are gathered only for eval, EMA and checkpoints)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Runtime:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    parallel: str = "ddp"

    @property
    def sharded(self) -> bool:
        return self.distributed and self.parallel == "fsdp"

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def mean(self, value: float) -> float:
        """The mean of a scalar over ranks (for logging)."""
        if not self.distributed:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)  # NCCL takes CUDA tensors only
        dist.all_reduce(t)
        return float(t) / self.world_size

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        if not self.distributed:
            return module
        if self.sharded:
            from torch.distributed.fsdp import FullyShardedDataParallel

            return FullyShardedDataParallel(module, use_orig_params=True, device_id=self.device)
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)


def init_runtime(device: str = "auto", parallel: str = "ddp") -> Runtime:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return Runtime(rank, world, dev, parallel)


def shutdown(rt: Runtime) -> None:
    if rt.distributed and dist.is_initialized():
        dist.destroy_process_group()


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    return module.module if hasattr(module, "module") and isinstance(module.module, torch.nn.Module) else module
