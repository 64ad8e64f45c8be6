"""Teacher sampling with joint text-motion guidance (3 NFE per Euler step), used by the teacher's
eval hook, by causal init (ODE trajectories) and as the real score in distillation."""
from __future__ import annotations

import torch

from ..model.conditioning import Conditioner, frame_timesteps
from .sampler import joint_guidance, shift_sigma


def guided_v(dit, x: torch.Tensor, sigma: torch.Tensor, cond_full: torch.Tensor, cond_none: torch.Tensor,
             text_full: torch.Tensor, text_none: torch.Tensor, w_t: float, w_m: float,
             attention="full") -> torch.Tensor:
    """v with joint guidance: v(c,m), v(0,m), v(c,0) in one batched pass. sigma [B] or [B, F].
    A prediction whose guidance weight is 0 is not computed: w_t = 0 drops v(0,m), w_m = 0 drops
    v(c,0), so unguided sampling costs 1 NFE instead of 3."""
    B, F = x.shape[0], x.shape[2]
    t = frame_timesteps(sigma, F)
    passes = [(cond_full, text_full)]
    if w_t != 0:
        passes.append((cond_full, text_none))
    if w_m != 0:
        passes.append((cond_none, text_full))
    k = len(passes)
    v = dit(torch.cat([x] * k), torch.cat([t] * k), torch.cat([p[1] for p in passes]),
            condition=torch.cat([p[0] for p in passes]), attention=attention).float()
    parts = v.split(B)
    v_cm = parts[0]
    v_0m = parts[1] if w_t != 0 else v_cm  # unused by joint_guidance when w_t = 0
    v_c0 = parts[-1] if w_m != 0 else v_cm  # unused when w_m = 0
    return joint_guidance(v_cm, v_0m, v_c0, w_t, w_m)


def guidance_nfe(w_t: float, w_m: float) -> int:
    """Network evaluations per guided step (see `guided_v`)."""
    return 1 + (w_t != 0) + (w_m != 0)


def euler_levels(steps: int, shift: float, extra: list[float] = ()) -> list[float]:
    """Descending shifted noise levels from 1 towards 0 (0 excluded), plus `extra` levels merged in
    so an ODE passes through them exactly."""
    base = [float(shift_sigma(torch.tensor(1.0 - i / steps), shift)) for i in range(steps)]
    return sorted(set(base) | {float(e) for e in extra if 0 < e <= 1}, reverse=True)


@torch.no_grad()
def sample_teacher(modules, config, batch: dict, gen: torch.Generator, steps: int, w_t: float, w_m: float,
                   capture: list[float] = (), noise: torch.Tensor | None = None):
    """Generate latents for a batch's first frames, tracks and captions. Returns (x0 [B,C,F,h,w],
    {level: state at that level} for the `capture` levels, the noise)."""
    cond = Conditioner(modules, config)
    lat = cond.latents(batch["video"])
    B = lat.shape[0]
    none = torch.zeros(B, dtype=torch.bool)
    cond_full = cond.condition(batch, lat, gen, none)
    cond_none = cond.condition(batch, lat, gen, ~none)
    text_full, text_none = cond.text(batch["caption"], none), cond.text(batch["caption"], ~none)
    x = torch.randn(lat.shape, generator=gen).to(lat.device) if noise is None else noise.clone()
    noise = x.clone()
    x[:, :, 0] = lat[:, :, 0]
    levels = euler_levels(steps, config.shift, list(capture))
    states = {}
    for s, s_next in zip(levels, levels[1:] + [0.0]):
        if any(abs(s - c) < 1e-9 for c in capture):
            states[s] = x.clone()
        v = guided_v(modules.dit, x, torch.full((B,), s, device=x.device), cond_full, cond_none, text_full, text_none,
                     w_t, w_m)
        x = x + (s_next - s) * v
        x[:, :, 0] = lat[:, :, 0]
    return x, states, noise
