"""An opponent colour space (luminance, red-green, yellow-blue). Its rows are orthonormal, so the
inverse is the transpose and squared errors are the same as in RGB."""
from __future__ import annotations

import torch

OPPONENT = torch.tensor([[1 / 3 ** 0.5] * 3,
                         [1 / 2 ** 0.5, -1 / 2 ** 0.5, 0.0],
                         [1 / 6 ** 0.5, 1 / 6 ** 0.5, -2 / 6 ** 0.5]])


def opponent(x: torch.Tensor) -> torch.Tensor:
    """[..., 3, H, W] RGB -> [..., 3, H, W] luminance, red-green, yellow-blue."""
    return torch.einsum("oc,...chw->...ohw", OPPONENT.to(x.device, x.dtype), x)


def from_opponent(x: torch.Tensor) -> torch.Tensor:
    """The inverse of `opponent`."""
    return torch.einsum("oc,...ohw->...chw", OPPONENT.to(x.device, x.dtype), x)
