"""One chunk of the causal student, shared by inference (`StreamingStudent.step`) and by the
Self-Forcing rollout in distillation, so training runs exactly what inference runs.

The chunk starts from noise at sigmas[0]; each level predicts x0 = x - sigma v against the KV
cache and re-noises to the next level. `exit_step` stops early (training: a random exit step per
rollout; only that step keeps autograd history, when grad is enabled). Then the clean chunk runs once
more at t = 0 to write the K/V later chunks read, and the window rolls.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from .sampler import renoise


def generate_chunk(dit, cache, text_kv, condition: torch.Tensor | None, shape: tuple, sigmas: Sequence[float],
                   draw_noise: Callable[[], torch.Tensor], first_latent: torch.Tensor | None = None,
                   exit_step: int | None = None, timing: dict | None = None,
                   clock: Callable[[], float] = time.perf_counter) -> torch.Tensor:
    """shape (B, C, chunk, h, w); first_latent [B, C, h, w] pins latent frame 0 (the first chunk).
    Returns the chunk's x0 (with autograd history of the exit step when grad is enabled)."""
    exit_step = len(sigmas) - 1 if exit_step is None else exit_step
    if not 0 <= exit_step < len(sigmas):
        raise ValueError(f"exit_step must be in [0, {len(sigmas) - 1}], got {exit_step}")
    grad = torch.is_grad_enabled()
    B, _, c = shape[:3]
    device = cache.k[0].device

    def pin(x):
        if first_latent is None:
            return x
        x = x.clone()
        x[:, :, 0] = first_latent
        return x

    x = pin(draw_noise())
    x0 = x
    for i, s in enumerate(sigmas[:exit_step + 1]):
        with torch.set_grad_enabled(grad and i == exit_step):
            t = torch.full((B, c), s * 1000.0, device=device)
            if first_latent is not None:
                t[:, 0] = 0.0
            start = clock()
            v = dit.forward_chunk(x, t, text_kv, cache, condition=condition).float()
            x0 = pin(x - s * v)
            if timing is not None:
                timing[f"step{i}"] = clock() - start
        if i < exit_step:
            x = pin(renoise(x0.detach(), draw_noise(), sigmas[i + 1]))
    start = clock()
    with torch.no_grad():
        dit.forward_chunk(x0.detach(), torch.zeros(B, c, device=device), text_kv, cache, condition=condition,
                          write_only=True)
    cache.roll()
    if timing is not None:
        timing["clean"] = clock() - start
    return x0
