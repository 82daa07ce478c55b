"""Synthetic Gaussian scenes on the table (world z up, metres, table top at z = 0).

Used by the benchmark, the fitting demo and the tests; deterministic for a given seed.
"""

from __future__ import annotations

import math

import torch

from .gaussians import Gaussians


def cloth_scene(n: int, size: float = 0.3, seed: int = 0) -> Gaussians:
    """A wavy ``size`` x ``size`` m sheet lying on the table, covered by ``n`` Gaussians.

    Gaussians are flat discs (two in-plane standard deviations of 0.6 x the mean spacing
    size / sqrt(n), thickness 1 mm), so the sheet looks closed at any ``n`` and the
    rendered footprint stays the same while splats shrink as ``n`` grows. Opacity
    0.5-0.95, colour a smooth pattern plus noise.
    """
    gen = torch.Generator().manual_seed(seed)
    xy = (torch.rand(n, 2, generator=gen) - 0.5) * size
    z = 0.02 + 0.015 * torch.sin(xy[:, 0] * 25) * torch.cos(xy[:, 1] * 20)
    spacing = size / math.sqrt(n)
    scales = torch.empty(n, 3)
    scales[:, :2] = 0.6 * spacing * (0.7 + 0.6 * torch.rand(n, 2, generator=gen))
    scales[:, 2] = 1e-3
    angle = torch.rand(n, generator=gen) * math.pi  # random spin about the z axis
    quats = torch.stack(
        [torch.cos(angle / 2), torch.zeros(n), torch.zeros(n), torch.sin(angle / 2)], -1
    )
    colors = torch.stack(
        [0.5 + 0.4 * torch.sin(xy[:, 0] * 20), 0.5 + 0.4 * torch.cos(xy[:, 1] * 15),
         0.5 + 0.3 * torch.sin((xy[:, 0] + xy[:, 1]) * 10)], -1)  # fmt: skip
    colors = (colors + 0.05 * torch.randn(n, 3, generator=gen)).clamp(0, 1)
    opacities = 0.5 + 0.45 * torch.rand(n, generator=gen)
    return Gaussians(torch.cat([xy, z[:, None]], -1), quats, scales, opacities, colors)


def rope_scene(n: int = 120, seed: int = 0) -> Gaussians:
    """A coloured rope: ``n`` elongated Gaussians along an S-shaped curve on the table.

    The curve spans about 0.4 m, the rope is ~2 cm thick and its colour runs from red
    through green to blue along its length; Gaussians are aligned with the tangent.
    """
    gen = torch.Generator().manual_seed(seed)
    s = torch.linspace(0, 1, n)
    x = 0.4 * (s - 0.5)
    y = 0.08 * torch.sin(2 * math.pi * s) + 0.03 * torch.sin(5 * math.pi * s)
    z = torch.full((n,), 0.012)
    means = torch.stack([x, y, z], -1) + 0.002 * torch.randn(n, 3, generator=gen)
    tangent = torch.gradient(torch.stack([x, y], -1), dim=0)[0]
    yaw = torch.atan2(tangent[:, 1], tangent[:, 0])
    quats = torch.stack(
        [torch.cos(yaw / 2), torch.zeros(n), torch.zeros(n), torch.sin(yaw / 2)], -1
    )
    step = 0.4 / n
    scales = torch.stack(
        [torch.full((n,), 1.2 * step), torch.full((n,), 0.008), torch.full((n,), 0.008)], -1
    )
    colors = torch.stack(
        [(1 - 2 * s).clamp(0, 1), 1 - (2 * s - 1).abs(), (2 * s - 1).clamp(0, 1)], -1
    )
    colors = 0.15 + 0.8 * colors
    opacities = torch.full((n,), 0.9)
    return Gaussians(means, quats, scales, opacities, colors)
