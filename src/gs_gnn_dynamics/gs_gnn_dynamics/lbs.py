"""Dense motion by linear blend skinning from control particles (GS-Dynamics eq. 5-7).

Per control particle i: rotation R_i = the least-squares rotation of its ``k_rot`` nearest
neighbours' offsets (x_j - x_i) from the previous to the next state (Kabsch, no
translation); translation T_i = x_i' - x_i (the prediction). Per Gaussian g with the
``k_blend`` nearest control particles and inverse-distance weights w_gi (sum 1):

    mu_g' = sum_i w_gi (R_i (mu_g - x_i) + x_i + T_i)
    q_g'  = normalize(sum_i w_gi r_i) * q_g        (r_i: quaternion of R_i, same hemisphere)

Everything is batched over leading dimensions; no loops over particles or Gaussians.
"""

from __future__ import annotations

import torch

from gs_common.geometry import matrix_to_quat, quat_multiply, quat_normalize
from gs_common.pointsets import knn


def particle_rotations(prev: torch.Tensor, nxt: torch.Tensor, k_rot: int = 6) -> torch.Tensor:
    """Rotations (..., N, 3, 3) of control particles prev/nxt (..., N, 3) [m]: Kabsch fit of
    the offsets to the ``k_rot`` nearest neighbours (in ``prev``)."""
    _, idx = knn(prev, prev, k_rot + 1)  # includes the particle itself (zero offset)
    idx = idx[..., 1:]

    def offsets(x):
        n = x.shape[-2]
        flat = idx.reshape(*idx.shape[:-2], n * idx.shape[-1], 1).expand(
            *idx.shape[:-2], n * idx.shape[-1], 3
        )
        nb = x.gather(-2, flat).reshape(*idx.shape, 3)
        return nb - x[..., None, :]  # (..., N, K, 3)

    a, b = offsets(prev), offsets(nxt)
    cov = b.transpose(-1, -2) @ a  # (..., N, 3, 3): sum_j b_j a_j^T
    u, _, vh = torch.linalg.svd(cov)
    det = torch.det(u @ vh)
    fix = torch.ones(*det.shape, 3, dtype=prev.dtype, device=prev.device)
    fix[..., 2] = torch.where(det < 0, -1.0, 1.0)
    return u @ torch.diag_embed(fix) @ vh


def blend_weights(
    points: torch.Tensor, ctrl: torch.Tensor, k_blend: int = 4, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weights (..., G, K) summing to 1, indices (..., G, K)): inverse-distance weights of
    the ``k_blend`` nearest control particles ctrl (..., N, 3) of points (..., G, 3)."""
    dist, idx = knn(points, ctrl, k_blend)
    w = 1.0 / (dist + eps)
    return w / w.sum(-1, keepdim=True), idx


def lbs_deform(
    ctrl_prev: torch.Tensor,
    ctrl_next: torch.Tensor,
    means: torch.Tensor,
    quats: torch.Tensor,
    k_blend: int = 4,
    k_rot: int = 6,
):
    """Move Gaussians with their control particles.

    ctrl_prev, ctrl_next: (..., N, 3) [m]; means (..., G, 3) [m]; quats (..., G, 4) wxyz.
    Returns (means' (..., G, 3), quats' (..., G, 4)).
    """
    rot = particle_rotations(ctrl_prev, ctrl_next, min(k_rot, ctrl_prev.shape[-2] - 1))
    w, idx = blend_weights(means, ctrl_prev, min(k_blend, ctrl_prev.shape[-2]))
    lead, g, k = idx.shape[:-2], idx.shape[-2], idx.shape[-1]

    def take(x):  # x (..., N, *rest) -> (..., G, K, *rest)
        rest = x.shape[len(lead) + 1 :]
        flat = idx.reshape(*lead, g * k, *([1] * len(rest))).expand(*lead, g * k, *rest)
        return x.gather(len(lead), flat).reshape(*lead, g, k, *rest)

    x_i, t_i, r_i = take(ctrl_prev), take(ctrl_next - ctrl_prev), take(rot)
    local = (r_i @ (means[..., None, :] - x_i)[..., None])[..., 0]  # (..., G, K, 3)
    new_means = (w[..., None] * (local + x_i + t_i)).sum(-2)
    q_i = matrix_to_quat(r_i)  # (..., G, K, 4), w >= 0
    sign = torch.where((q_i * q_i[..., :1, :]).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    q_blend = quat_normalize((w[..., None] * q_i * sign).sum(-2))
    return new_means, quat_normalize(quat_multiply(q_blend, quats))
