"""Depth scores: AbsRel and δ < 1.25 of a depth map against the truth, after the alignment a single
picture allows (it has no scale: `median_scaled`; a relative network has no offset either:
`aligned_disparity`), and the scale-and-shift-invariant training loss (MiDaS: Ranftl et al. 2020).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def abs_rel(depth: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    """mean |d - d*| / d* over the valid pixels."""
    m = np.isfinite(truth) & (truth > 0) if valid is None else valid
    return float(np.mean(np.abs(depth[m] - truth[m]) / truth[m]))


def delta1(depth: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None, threshold: float = 1.25) -> float:
    """The fraction of valid pixels with max(d / d*, d* / d) < 1.25."""
    m = np.isfinite(truth) & (truth > 0) if valid is None else valid
    ratio = np.maximum(depth[m] / truth[m], truth[m] / depth[m])
    return float(np.mean(ratio < threshold))


def median_scaled(depth: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`depth` times median(d*) / median(d) over the valid pixels: the one freedom a picture leaves."""
    return depth * (np.median(truth[valid]) / np.median(depth[valid]))


def aligned_disparity(depth: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """`depth` whose disparity is fitted to the truth's by least squares in scale and shift, back in
    depth, capped at the truth's farthest depth (a fitted disparity near or below zero would
    otherwise put a far point at any depth at all; MiDaS's evaluation caps it the same way)."""
    d, t = 1.0 / depth[valid].astype(np.float64), 1.0 / truth[valid].astype(np.float64)
    A = np.stack([d, np.ones_like(d)], axis=1)
    (s, b), *_ = np.linalg.lstsq(A, t, rcond=None)
    floor = float(t.min())
    return (1.0 / np.maximum(s / depth.astype(np.float64) + b, floor)).astype(np.float32)


def depth_scores(depth: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> dict:
    """AbsRel and δ1, median-scaled and scale-and-shift aligned (in disparity)."""
    valid = (np.isfinite(truth) & (truth > 0)) if valid is None else valid
    med, ssi = median_scaled(depth, truth, valid), aligned_disparity(depth, truth, valid)
    return {"abs_rel": abs_rel(med, truth, valid), "delta1": delta1(med, truth, valid),
            "abs_rel_ssi": abs_rel(ssi, truth, valid), "delta1_ssi": delta1(ssi, truth, valid)}


# --- the training loss --------------------------------------------------------------------------
def _normalised(x: torch.Tensor) -> torch.Tensor:
    """Per map: minus its median, over its mean absolute deviation (MiDaS's scale-and-shift norm)."""
    flat = x.flatten(1)
    med = flat.median(dim=1, keepdim=True).values
    mad = (flat - med).abs().mean(dim=1, keepdim=True).clamp_min(1e-6)
    return ((flat - med) / mad).view_as(x)


def scale_invariant_loss(log_pred: torch.Tensor, disparity: torch.Tensor, gradient_weight: float = 0.5,
                         scales: int = 4) -> torch.Tensor:
    """For a log-disparity output: L1 of the log residual less its mean (disparity up to a scale:
    the output's shift is learnt, unlike `ssi_loss`'s), plus the same gradient matching."""
    r = log_pred - torch.log(disparity)
    r = r - r.flatten(1).mean(dim=1).view(-1, 1, 1)
    loss = r.abs().mean()
    if gradient_weight > 0:
        loss = loss + gradient_weight * _gradient_matching(r, scales)
    return loss


def _gradient_matching(r: torch.Tensor, scales: int) -> torch.Tensor:
    grad = 0.0
    for k in range(scales):
        rk = r if k == 0 else F.avg_pool2d(r[:, None], 2 ** k)[:, 0]
        grad = grad + (rk[:, :, 1:] - rk[:, :, :-1]).abs().mean() + (rk[:, 1:] - rk[:, :-1]).abs().mean()
    return grad / scales


def ssi_loss(pred: torch.Tensor, disparity: torch.Tensor, gradient_weight: float = 0.5,
             scales: int = 4) -> torch.Tensor:
    """Scale-and-shift-invariant L1 on normalised disparity, plus gradient matching of the residual
    at `scales` scales (halving each), which keeps depth edges sharp where the truth has them.
    pred, disparity: [B, H, W]."""
    p, t = _normalised(pred), _normalised(disparity)
    r = p - t
    loss = r.abs().mean()
    if gradient_weight > 0:
        loss = loss + gradient_weight * _gradient_matching(r, scales)
    return loss
