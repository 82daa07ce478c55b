"""Physical priors of Dynamic 3D Gaussians (Luiten et al. 2024) on k nearest neighbours.

Neighbours and weights are fixed at the first frame: ``w_ij = exp(-lambda_w * d_ij^2)`` with
``d_ij`` the first-frame distance. With means ``mu_t`` (N, 3) and rotations ``R_t`` (N, 3, 3)
at frame t (and t-1):

- rigidity: ``w_ij || (mu_j,t-1 - mu_i,t-1) - R_i,t-1 R_i,t^T (mu_j,t - mu_i,t) ||``: each
  Gaussian's neighbours move with the Gaussian's own rigid motion;
- rotation similarity: ``w_ij || q_j,t q_j,t-1^-1 - q_i,t q_i,t-1^-1 ||``: neighbours rotate alike;
- isometry: ``w_ij | ||mu_j,0 - mu_i,0|| - ||mu_j,t - mu_i,t|| |``: distances are preserved
  relative to the first frame (long-term, prevents drift).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gs_common.geometry import quat_multiply, quat_to_matrix


@dataclass
class NeighbourGraph:
    """kNN of the first frame: ``index`` (N, k) long, ``weight`` (N, k), ``dist0`` (N, k) m."""

    index: torch.Tensor
    weight: torch.Tensor
    dist0: torch.Tensor

    @classmethod
    def build(cls, means0: torch.Tensor, k: int = 20, lambda_w: float = 2000.0) -> NeighbourGraph:
        """k nearest neighbours of every Gaussian (excluding itself) at the first frame."""
        n = len(means0)
        k = min(k, n - 1)
        if k < 1:
            raise ValueError(f"need at least 2 Gaussians for a neighbour graph, got {n}")
        d = torch.cdist(means0, means0)
        d.fill_diagonal_(float("inf"))
        dist, index = d.topk(k, dim=1, largest=False)
        return cls(index, torch.exp(-lambda_w * dist**2), dist)


def _quat_conj(q: torch.Tensor) -> torch.Tensor:
    return q * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=q.dtype, device=q.device)


def rigidity_loss(
    graph: NeighbourGraph,
    mu: torch.Tensor,
    q: torch.Tensor,
    mu_prev: torch.Tensor,
    q_prev: torch.Tensor,
) -> torch.Tensor:
    """Local rigidity between frame t (mu, q) and t-1 (mu_prev, q_prev); quats wxyz."""
    r_rel = quat_to_matrix(q_prev) @ quat_to_matrix(q).transpose(-1, -2)  # R_{t-1} R_t^T
    off = mu[graph.index] - mu[:, None]  # (N, k, 3)
    off_prev = mu_prev[graph.index] - mu_prev[:, None]
    pred_prev = torch.einsum("nij,nkj->nki", r_rel, off)
    return (graph.weight * (off_prev - pred_prev).norm(dim=-1)).mean()


def rotation_loss(graph: NeighbourGraph, q: torch.Tensor, q_prev: torch.Tensor) -> torch.Tensor:
    """Neighbours' relative rotations since t-1 should agree."""
    qn = q / q.norm(dim=-1, keepdim=True)
    qp = q_prev / q_prev.norm(dim=-1, keepdim=True)
    rel = quat_multiply(qn, _quat_conj(qp))  # (N, 4)
    return (graph.weight * (rel[graph.index] - rel[:, None]).norm(dim=-1)).mean()


def isometry_loss(graph: NeighbourGraph, mu: torch.Tensor) -> torch.Tensor:
    """First-frame neighbour distances should be preserved."""
    dist = (mu[graph.index] - mu[:, None]).norm(dim=-1)
    return (graph.weight * (dist - graph.dist0).abs()).mean()
