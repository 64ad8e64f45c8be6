"""Image metrics: PSNR and SSIM (Gaussian window, Wang et al. 2004 constants) on [0, 1] frames,
over whole frames or over the pixels a mask selects (what a warp sees, or what it does not)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..model.colour import opponent


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """a, b [..., 3, H, W] in [0, 1]; with `mask` ([..., H, W] bool) over the selected pixels only
    (NaN when it selects none)."""
    err = (a.float() - b.float()).pow(2)
    if mask is None:
        mse = err.mean().item()
    else:
        keep = mask.bool().unsqueeze(-3).expand_as(err)
        if not keep.any():
            return float("nan")
        mse = err[keep].mean().item()
    return float("inf") if mse == 0 else -10.0 * torch.log10(torch.tensor(mse)).item()


def chroma_psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR of the two colour-difference channels only (a, b [..., 3, H, W] in [0, 1]): low when an
    image keeps its brightness but loses its colours."""
    d = opponent(a.float() - b.float())[..., 1:, :, :]
    mse = d.pow(2).mean().item()
    return float("inf") if mse == 0 else -10.0 * torch.log10(torch.tensor(mse)).item()


def _gauss(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean SSIM over frames and channels; a, b [N, 3, H, W] (or [..., 3, H, W]) in [0, 1]. With
    `mask` ([..., H, W] bool), the mean over windows centred on selected pixels (NaN if none)."""
    channels = a.shape[-3]
    a = a.float().reshape(-1, 1, *a.shape[-2:])
    b = b.float().reshape(-1, 1, *b.shape[-2:])
    size = min(11, a.shape[-1], a.shape[-2])
    w = _gauss(size).to(a.device)[None, None]
    mu_a, mu_b = F.conv2d(a, w), F.conv2d(b, w)
    saa = F.conv2d(a * a, w) - mu_a ** 2
    sbb = F.conv2d(b * b, w) - mu_b ** 2
    sab = F.conv2d(a * b, w) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2))
    if mask is None:
        return float(s.mean())
    r = (size - 1) // 2  # the map covers the windows that fit: centres r pixels in from each side
    centres = mask.bool().reshape(-1, 1, *mask.shape[-2:])[..., r:r + s.shape[-2], r:r + s.shape[-1]]
    centres = centres.repeat_interleave(channels, 0)
    return float(s[centres].mean()) if centres.any() else float("nan")


SPLIT_METRICS = ("psnr", "psnr_seen", "psnr_unseen", "ssim")


def split_scores(out: torch.Tensor, real: torch.Tensor, seen: torch.Tensor) -> tuple[float, ...]:
    """One clip [1, T, 3, H, W]: PSNR over all pixels, over those `seen` ([1, T, H, W] bool, the
    warp's validity) selects and over the others, and SSIM (the order of SPLIT_METRICS)."""
    return psnr(out, real), psnr(out, real, mask=seen), psnr(out, real, mask=~seen), ssim(out[0], real[0])


def mean_split_scores(rows: dict[str, list[tuple]], main: str) -> dict[str, float]:
    """Per method, the mean of each of SPLIT_METRICS over clips (NaN, e.g. nothing unseen, left
    out): `main`'s under the metric's own name, the others' as METHOD_METRIC."""
    out = {}
    for name, scores in rows.items():
        for j, metric in enumerate(SPLIT_METRICS):
            values = [s[j] for s in scores if s[j] == s[j]]
            out[metric if name == main else f"{name}_{metric}"] = sum(values) / len(values) if values else float("nan")
    return out
