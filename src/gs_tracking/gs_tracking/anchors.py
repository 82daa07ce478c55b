"""Carry arbitrary query points along with tracked Gaussians (for evaluation and particles).

A query point is attached at the first frame to its K nearest Gaussians, with its offset
expressed in each Gaussian's local frame; later it is the inverse-distance-weighted blend
of where those local offsets land (linear blend skinning with the tracked rotations).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gs_common.geometry import quat_to_matrix


@dataclass
class Anchors:
    """index (Q, K) Gaussian ids; weight (Q, K) summing to 1; local (Q, K, 3) offsets [m]."""

    index: torch.Tensor
    weight: torch.Tensor
    local: torch.Tensor

    @classmethod
    def attach(
        cls,
        queries: torch.Tensor,
        means0: torch.Tensor,
        quats0: torch.Tensor,
        k: int = 4,
        eps: float = 1e-4,
    ) -> Anchors:
        """Attach (Q, 3) ``queries`` to Gaussians (means0 (N, 3), quats0 (N, 4) wxyz)."""
        k = min(k, len(means0))
        dist, index = torch.cdist(queries, means0).topk(k, dim=1, largest=False)
        w = 1.0 / (dist + eps)
        w = w / w.sum(1, keepdim=True)
        r0 = quat_to_matrix(quats0)[index]  # (Q, K, 3, 3)
        offset = queries[:, None] - means0[index]
        local = torch.einsum("qkji,qkj->qki", r0, offset)  # R0^T (p - mu0)
        return cls(index, w, local)

    def positions(self, means: torch.Tensor, quats: torch.Tensor) -> torch.Tensor:
        """(Q, 3) query positions for Gaussians at means (N, 3), quats (N, 4)."""
        r = quat_to_matrix(quats)[self.index]
        world = torch.einsum("qkij,qkj->qki", r, self.local) + means[self.index]
        return (self.weight[..., None] * world).sum(1)
