"""Rectified-flow sampling. x_t = (1 - s) x_0 + s eps, the model predicts v = eps - x_0, the DiT
sees timestep 1000 s. Levels are shifted: s' = k s / (1 + (k - 1) s).

- `few_step`: the student's sampler: at each level predict x_0 (1 NFE) and re-noise to the next
  level with fresh noise.
- `euler`: the teacher's ODE sampler, with `joint_guidance` over three predictions
  (3 NFE; `teacher_sampling.guided_v` skips a prediction whose weight is 0).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def shift_sigma(sigma, shift: float):
    return shift * sigma / (1 + (shift - 1) * sigma)


def step_levels(steps: int) -> tuple[float, ...]:
    """Evenly spaced un-shifted levels for `steps` steps, from pure noise: 3 -> (1, 2/3, 1/3)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    return tuple((steps - i) / steps for i in range(steps))


def shifted_levels(levels: Sequence[float], shift: float) -> list[float]:
    return [float(shift_sigma(torch.tensor(s, dtype=torch.float64), shift)) for s in levels]


def x0_from_v(x: torch.Tensor, v: torch.Tensor, sigma) -> torch.Tensor:
    return x - sigma * v


def renoise(x0: torch.Tensor, noise: torch.Tensor, sigma) -> torch.Tensor:
    return (1 - sigma) * x0 + sigma * noise


def joint_guidance(v_cm: torch.Tensor, v_0m: torch.Tensor, v_c0: torch.Tensor, w_t: float = 3.0,
                   w_m: float = 1.5) -> torch.Tensor:
    """MotionStream's joint text-motion guidance from v(c,m), v(0,m), v(c,0):
    v = v_base + w_t (v(c,m) - v(0,m)) + w_m (v(c,m) - v(c,0)), v_base = a v(0,m) + (1-a) v(c,0),
    a = w_t / (w_t + w_m). With w_m = 0 it is plain text CFG around v(0,m)."""
    total = w_t + w_m
    if total == 0:
        return v_cm
    a = w_t / total
    base = a * v_0m + (1 - a) * v_c0
    return base + w_t * (v_cm - v_0m) + w_m * (v_cm - v_c0)


def few_step(predict_v: Callable[[torch.Tensor, float], torch.Tensor], noise: torch.Tensor,
             sigmas: Sequence[float], draw_noise: Callable[[], torch.Tensor],
             pin: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Student sampling: x = noise at sigmas[0]; per level x0 = x - s v(x, s); re-noise to the next
    level. `pin` overwrites known latents (the first frame) in every x0. Returns the final x0."""
    x = noise
    x0 = noise
    for i, s in enumerate(sigmas):
        x0 = x0_from_v(x, predict_v(x, s), s)
        if pin is not None:
            x0 = pin(x0)
        if i + 1 < len(sigmas):
            x = renoise(x0, draw_noise(), sigmas[i + 1])
            if pin is not None:
                x = pin(x)
    return x0


def euler(predict_v: Callable[[torch.Tensor, float], torch.Tensor], noise: torch.Tensor,
          sigmas: Sequence[float], pin: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Teacher ODE sampling from sigmas[0] down to 0 (sigmas descending, 0 appended)."""
    x = noise
    levels = list(sigmas) + [0.0]
    for s, s_next in zip(levels[:-1], levels[1:]):
        x = x + (s_next - s) * predict_v(x, s)
        if pin is not None:
            x = pin(x)
    return x
