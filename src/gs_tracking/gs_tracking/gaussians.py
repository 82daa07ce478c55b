"""Gaussians of a tracked object from a fused cloud (the type is ``gs_render.Gaussians``)."""

from __future__ import annotations

import numpy as np
import torch

from gs_render.gaussians import Gaussians


def gaussians_from_cloud(
    points: np.ndarray,
    colors: np.ndarray,
    opacity: float = 0.95,
    scale_factor: float = 0.7,
    neighbours: int = 3,
    device: str | torch.device = "cpu",
) -> Gaussians:
    """Isotropic Gaussians at fused cloud points (N, 3) with colours (N, 3) in [0, 1].

    Scale = ``scale_factor`` x mean distance to the ``neighbours`` nearest points, so the
    Gaussians just cover the surface without holes.
    """
    pts = torch.as_tensor(np.asarray(points, np.float32), device=device)
    n = len(pts)
    if n < 2:
        raise ValueError(f"need at least 2 points to initialize Gaussians, got {n}")
    d = torch.cdist(pts, pts)
    d.fill_diagonal_(float("inf"))
    k = min(neighbours, n - 1)
    spacing = d.topk(k, dim=1, largest=False).values.mean(1)
    scale = (scale_factor * spacing).clamp(1e-4, 0.05)
    quats = torch.zeros((n, 4), device=device)
    quats[:, 0] = 1.0
    return Gaussians(
        means=pts,
        quats=quats,
        scales=scale[:, None].expand(n, 3).contiguous(),
        opacities=torch.full((n,), float(opacity), device=device),
        colors=torch.as_tensor(np.asarray(colors, np.float32), device=device).clamp(0, 1),
    )
