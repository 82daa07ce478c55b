"""Degree-0 spherical-harmonics colour helpers (plain torch, differentiable)."""

from __future__ import annotations

import torch

#: Zeroth-order real spherical-harmonics constant, Y_0^0 = 1 / (2 sqrt(pi)).
SH_C0 = 0.28209479177387814


def sh0_to_rgb(sh0: torch.Tensor) -> torch.Tensor:
    """RGB from degree-0 spherical-harmonics coefficients, as 3DGS / gsplat evaluate them.

    Args:
        sh0: (N, 3) or (N, 1, 3) DC coefficients.

    Returns:
        (N, 3) colours, ``max(SH_C0 * sh0 + 0.5, 0)``.
    """
    if sh0.dim() == 3:
        sh0 = sh0[:, 0, :]
    return torch.clamp_min(SH_C0 * sh0 + 0.5, 0.0)


def rgb_to_sh0(rgb: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`sh0_to_rgb` for colours in [0, 1]: (N, 3) -> (N, 3)."""
    return (rgb - 0.5) / SH_C0
