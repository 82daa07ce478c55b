"""One planning decision: the observed state, the target and what the cost needs of them
(cost points, blend weights, target at the cost points' density, optimal assignment).
ROS-free, torch + scipy."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from gs_common.pointsets import farthest_point_sampling


@dataclasses.dataclass
class PlanProblem:
    """One planning decision.

    particles: (N, 3) control particles of the observed state [m] (the model's state);
    dense: (D, 3) observed object points [m] (collision checks, proposals);
    target: (M, 3) target points [m];
    cost_points: (C, 3) observed points the shape cost is measured on (dense, FPS to at
    most ``MAX_COST_POINTS``), moved with the particles by inverse-distance blending of the
    ``blend_idx`` (C, K) nearest particles' displacements with ``blend_w`` (C, K) (the
    translation part of the paper's LBS): the cost sees the object at the resolution of the
    observation, not only at the particles' (a perfectly matching sparse particle set can
    still be 1-2 cm from a dense target in Chamfer distance);
    target_cost: (C_t, 3) the target resampled to the cost points' count (FPS);
    assignment: (C,) index into target_cost per cost point (``matched`` cost, optimal
    assignment on the current state); previous_push: (4,) the last executed push or None.
    """

    particles: torch.Tensor
    dense: torch.Tensor
    target: torch.Tensor
    cost_points: torch.Tensor
    blend_w: torch.Tensor
    blend_idx: torch.Tensor
    target_cost: torch.Tensor
    assignment: torch.Tensor
    previous_push: torch.Tensor | None = None

    def dense_states(self, states: torch.Tensor) -> torch.Tensor:
        """(B, C, 3) cost points moved with particle states (B, N, 3)."""
        disp = states - self.particles.to(states.dtype)  # (B, N, 3)
        moved = disp[:, self.blend_idx]  # (B, C, K, 3)
        return self.cost_points.to(states.dtype) + (self.blend_w[..., None] * moved).sum(-2)


MAX_COST_POINTS = 64
BLEND_K = 2


def _resample(points: np.ndarray, n: int) -> np.ndarray:
    return points[farthest_point_sampling(points, n, 0)] if len(points) > n else points


def make_problem(
    particles: np.ndarray,
    dense: np.ndarray,
    target: np.ndarray,
    device: torch.device | str = "cpu",
    previous_push: np.ndarray | None = None,
) -> PlanProblem:
    """Build a decision from the observed particles (N, 3), the observed points (D, 3) and
    the target (M, 3) [m]: cost points, blend weights, target at the cost points' density,
    optimal assignment of cost points to target points (Hungarian, for ``matched``)."""
    from scipy.optimize import linear_sum_assignment

    from gs_gnn_dynamics.lbs import blend_weights

    part = np.asarray(particles, np.float32)
    dns = np.asarray(dense, np.float32)
    tgt = np.asarray(target, np.float32)
    cpts = _resample(dns, MAX_COST_POINTS)
    tgt_c = _resample(tgt, len(cpts))
    cost = np.linalg.norm(cpts[:, None] - tgt_c[None], axis=-1)
    if len(tgt_c) >= len(cpts):
        rows, cols = linear_sum_assignment(cost)
        assign = np.empty(len(cpts), np.int64)
        assign[rows] = cols
    else:  # fewer target points than cost points: nearest target point
        assign = cost.argmin(1)

    def t(a):
        return torch.as_tensor(np.asarray(a, np.float32), device=device)

    w, idx = blend_weights(t(cpts), t(part), min(BLEND_K, len(part)))
    return PlanProblem(
        particles=t(part),
        dense=t(dns),
        target=t(tgt),
        cost_points=t(cpts),
        blend_w=w,
        blend_idx=idx,
        target_cost=t(tgt_c),
        assignment=torch.as_tensor(assign, device=device),
        previous_push=None if previous_push is None else t(previous_push),
    )
