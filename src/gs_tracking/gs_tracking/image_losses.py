"""Photometric losses: L1 and D-SSIM on (C, H, W, 3) image batches with pixel weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _gaussian_window(size: int, sigma: float, channels: int, device, dtype) -> torch.Tensor:
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim_map(
    a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """Per-pixel SSIM (C, H, W) of images a, b: (C, H, W, 3) in [0, 1] (Wang et al. 2004)."""
    x, y = a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)  # (C, 3, H, W)
    w = _gaussian_window(window, sigma, 3, a.device, a.dtype)
    pad = window // 2

    def blur(t):
        return F.conv2d(F.pad(t, (pad,) * 4, mode="replicate"), w, groups=3)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return s.mean(1)


def photometric_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ssim_weight: float = 0.2,
) -> torch.Tensor:
    """(1 - ssim_weight) * L1 + ssim_weight * D-SSIM, averaged over weighted pixels.

    pred, target: (C, H, W, 3) in [0, 1]; weight: (C, H, W) >= 0 (e.g. 0 on robot pixels).
    D-SSIM = (1 - SSIM) / 2.
    """
    if weight is None:
        weight = torch.ones(pred.shape[:3], device=pred.device, dtype=pred.dtype)
    norm = weight.sum().clamp_min(1.0)
    l1 = ((pred - target).abs().mean(-1) * weight).sum() / norm
    dssim = (((1 - ssim_map(pred, target)) / 2) * weight).sum() / norm
    return (1 - ssim_weight) * l1 + ssim_weight * dssim
