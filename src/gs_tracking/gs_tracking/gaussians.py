"""Gaussians of a tracked object: initialization from a fused cloud, per-frame state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class GaussianSet:
    """N 3D Gaussians (world frame).

    means (N, 3) m; quats (N, 4) wxyz; scales (N, 3) m; opacities (N,) in [0, 1];
    colors (N, 3) in [0, 1]. Colour, opacity and scale stay fixed while tracking.
    """

    means: torch.Tensor
    quats: torch.Tensor
    scales: torch.Tensor
    opacities: torch.Tensor
    colors: torch.Tensor

    def __len__(self) -> int:
        return len(self.means)

    def subset(self, keep: torch.Tensor) -> GaussianSet:
        return GaussianSet(
            self.means[keep],
            self.quats[keep],
            self.scales[keep],
            self.opacities[keep],
            self.colors[keep],
        )

    def detach(self) -> GaussianSet:
        return GaussianSet(
            *(
                t.detach().clone()
                for t in (self.means, self.quats, self.scales, self.opacities, self.colors)
            )
        )

    def to_columns(self) -> np.ndarray:
        """(N, 14) float32 columns in the `tracking/gaussians` layout (gs_common.pointcloud)."""
        q = self.quats / self.quats.norm(dim=-1, keepdim=True)
        return (
            torch.cat([self.means, q, self.scales, self.opacities[:, None], self.colors], 1)
            .detach()
            .cpu()
            .numpy()
            .astype(np.float32)
        )


def gaussians_from_cloud(
    points: np.ndarray,
    colors: np.ndarray,
    opacity: float = 0.95,
    scale_factor: float = 0.7,
    neighbours: int = 3,
    device: str | torch.device = "cpu",
) -> GaussianSet:
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
    return GaussianSet(
        means=pts,
        quats=quats,
        scales=scale[:, None].expand(n, 3).contiguous(),
        opacities=torch.full((n,), float(opacity), device=device),
        colors=torch.as_tensor(np.asarray(colors, np.float32), device=device).clamp(0, 1),
    )
