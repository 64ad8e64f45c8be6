"""Image metrics: PSNR and SSIM (Gaussian window, Wang et al. 2004 constants) on [0, 1] frames,
over whole frames or over the pixels a mask selects (what a warp sees, or what it does not)."""
from __future__ import annotations

import torch

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
    """The 1-D Gaussian window; SSIM's 2-D window is its outer product, applied as two 1-D passes."""
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def _band(n: int, g: torch.Tensor) -> torch.Tensor:
    """[n, n - size + 1]: column j holds the window at rows j..j + size - 1 (a valid 1-D filter as a
    matrix product, which the CPU runs far faster than a 1-channel convolution)."""
    size = len(g)
    band = torch.zeros(n, n - size + 1, dtype=g.dtype, device=g.device)
    j = torch.arange(n - size + 1, device=g.device)
    for k in range(size):
        band[j + k, j] = g[k]
    return band


def _blur(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """The valid part of x [N, 1, H, W] filtered by the separable window (11 + 11 taps, not 121),
    `rows` = `_band(H, g)` and `cols` = `_band(W, g)`."""
    return rows.T @ (x @ cols)


def ssim_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-window SSIM [N*3, 1, H - size + 1, W - size + 1] of a, b [..., 3, H, W] in [0, 1]: the
    windows that fit, centred (size - 1) / 2 pixels in from each side (size = 11 or the smaller side)."""
    a = a.float().reshape(-1, 1, *a.shape[-2:])
    b = b.float().reshape(-1, 1, *b.shape[-2:])
    g = _gauss(min(11, a.shape[-1], a.shape[-2])).to(a.device)
    bands = _band(a.shape[-2], g), _band(a.shape[-1], g)  # made once for the five filterings
    mu_a, mu_b = _blur(a, *bands), _blur(b, *bands)
    saa = _blur(a * a, *bands) - mu_a ** 2
    sbb = _blur(b * b, *bands) - mu_b ** 2
    sab = _blur(a * b, *bands) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2))


def masked_mean(s: torch.Tensor, mask: torch.Tensor, channels: int = 3) -> float:
    """The mean of an `ssim_map` over windows centred on pixels `mask` ([..., H, W] bool) selects
    (NaN if none)."""
    r = (mask.shape[-1] - s.shape[-1]) // 2
    centres = mask.bool().reshape(-1, 1, *mask.shape[-2:])[..., r:r + s.shape[-2], r:r + s.shape[-1]]
    centres = centres.repeat_interleave(channels, 0)
    return float(s[centres].mean()) if centres.any() else float("nan")


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean SSIM over frames and channels; a, b [N, 3, H, W] (or [..., 3, H, W]) in [0, 1]. With
    `mask` ([..., H, W] bool), the mean over windows centred on selected pixels (NaN if none)."""
    s = ssim_map(a, b)
    return float(s.mean()) if mask is None else masked_mean(s, mask, a.shape[-3])


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
