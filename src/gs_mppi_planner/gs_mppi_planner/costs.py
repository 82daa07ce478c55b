"""Planning costs and push bounds. ROS-free, torch. (The decision's data is in
``problem.py``, the object-aware proposals in ``proposals.py``.)

Cost of a sampled push sequence (B samples, H pushes) = shape cost of the predicted final
particles vs the target [m] + constraint penalties (weight x violation [m]):

- shape: ``chamfer`` (symmetric Chamfer distance of gs_common.pointsets, Euclidean, sum of
  both directions) or ``matched`` (root mean squared distance [m] of each point to the
  target point assigned to it once per decision by optimal assignment of the current
  state), measured on the observed points moved with the predicted particles;
- collision: push start closer than ``clearance`` (xy) to the object at the push's start
  (observed points for the first push, predicted particles for later ones): the pusher
  must descend next to the object, not on it;
- contact: the pusher's path never comes within ``contact`` of the object, or the start is
  more than ``max_gap`` beyond the clearance: such pushes are outside the model's training
  distribution (pushes start next to the object and hit it), where the learned model
  predicts phantom motion (measured: ~2 cm for a push passing 4-6 cm from a rope), which a
  sampling planner would otherwise exploit;
- workspace: start / end outside the pusher's workspace box (shrunk by ``margin``);
- reach: start / end farther than ``max_reach`` from the arm base (xy);
- smoothness (optional): change of the first push from the previously executed one.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from gs_common.pointsets import chamfer_distance
from gs_common.push import directions, push_ends
from gs_common.workcell import ARM_BASE, WORKSPACE
from gs_mppi_planner.problem import PlanProblem

COST_KINDS = ("chamfer", "matched")


@dataclasses.dataclass(frozen=True)
class CostConfig:
    """Weights and geometry of the planning cost. Lengths [m], angles [rad].

    workspace: (x_min, x_max, y_min, y_max) of the pusher tip; arm_base: (x, y);
    clearance: smallest xy distance of a push start from the object (pusher radius 12 mm +
    rope radius 8 mm + 5 mm); contact: the pusher path must pass this close to the object
    (pusher + rope radius); max_gap: a start may lie at most this far beyond the clearance;
    min_length / max_length: push length bounds (the model was
    trained on 10-20 cm pushes; shorter ones are their first steps).
    """

    kind: str = "chamfer"
    clearance: float = 0.025
    workspace: tuple[float, float, float, float] = WORKSPACE
    margin: float = 0.005
    arm_base: tuple[float, float] = ARM_BASE
    max_reach: float = 0.70
    min_length: float = 0.05
    max_length: float = 0.20
    contact: float = 0.008
    max_gap: float = 0.03
    w_collision: float = 10.0
    w_contact: float = 10.0
    w_workspace: float = 10.0
    w_reach: float = 10.0
    w_smooth: float = 0.0

    def validate(self) -> None:
        if self.kind not in COST_KINDS:
            raise ValueError(f"cost kind {self.kind!r} is not one of {list(COST_KINDS)}")
        x0, x1, y0, y1 = self.workspace
        if not (x0 + 2 * self.margin < x1 and y0 + 2 * self.margin < y1):
            raise ValueError(f"workspace {self.workspace} with margin {self.margin} is empty")
        if not 0 < self.min_length <= self.max_length:
            raise ValueError(
                f"push lengths must satisfy 0 < min_length ({self.min_length}) <= "
                f"max_length ({self.max_length})"
            )
        names = ("clearance", "contact", "max_gap", "max_reach")
        for name in (*names, "w_collision", "w_contact", "w_workspace", "w_reach", "w_smooth"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} = {v} must be finite and >= 0")


def wrap_angle(a: torch.Tensor) -> torch.Tensor:
    """Angles wrapped to [-pi, pi)."""
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


def project_pushes(pushes: torch.Tensor, cfg: CostConfig) -> torch.Tensor:
    """Pushes (..., 4) made feasible: theta wrapped, start clamped into the workspace box
    (shrunk by margin), length clamped to [min_length, max_length] and, where possible, so
    that the end stays inside the box (the bounds of the sampling distribution)."""
    x0, x1, y0, y1 = cfg.workspace
    m = cfg.margin
    x = pushes[..., 0].clamp(x0 + m, x1 - m)
    y = pushes[..., 1].clamp(y0 + m, y1 - m)
    th = wrap_angle(pushes[..., 2])
    c, s = directions(th).unbind(-1)
    big = torch.full_like(x, 1e3)
    tx = torch.where(c > 1e-9, (x1 - m - x) / c.clamp(min=1e-9), big)
    tx = torch.where(c < -1e-9, (x0 + m - x) / c.clamp(max=-1e-9), tx)
    ty = torch.where(s > 1e-9, (y1 - m - y) / s.clamp(min=1e-9), big)
    ty = torch.where(s < -1e-9, (y0 + m - y) / s.clamp(max=-1e-9), ty)
    ray = torch.minimum(tx, ty)
    length = pushes[..., 3].clamp(cfg.min_length, cfg.max_length)
    length = torch.minimum(length, ray).clamp(min=cfg.min_length)
    return torch.stack([x, y, th, length], -1)


def shape_cost(states: torch.Tensor, problem: PlanProblem, kind: str) -> torch.Tensor:
    """(B,) distance [m] of particle states (B, N, 3) to the problem's target, measured on
    the cost points moved with the particles."""
    pts = problem.dense_states(states)
    tgt = problem.target_cost.to(states.dtype)
    if kind == "chamfer":
        return chamfer_distance(pts, tgt.expand(states.shape[0], -1, -1))
    if kind == "matched":
        return ((pts - tgt[problem.assignment]) ** 2).sum(-1).mean(-1).sqrt()
    raise ValueError(f"cost kind {kind!r} is not one of {list(COST_KINDS)}")


def _box_violation(xy: torch.Tensor, cfg: CostConfig) -> torch.Tensor:
    x0, x1, y0, y1 = cfg.workspace
    m = cfg.margin
    x, y = xy[..., 0], xy[..., 1]
    return (
        (x0 + m - x).clamp(min=0)
        + (x - x1 + m).clamp(min=0)
        + (y0 + m - y).clamp(min=0)
        + (y - y1 + m).clamp(min=0)
    )


def push_penalties(
    pushes: torch.Tensor,
    problem: PlanProblem,
    cfg: CostConfig,
    states_at_start: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """(B,) constraint penalty of push sequences (B, H, 4).

    states_at_start: per push h >= 1 the predicted particles (B, N, 3) at its start (the
    first push is checked against the observed dense points).
    """
    b, h, _ = pushes.shape
    start = pushes[..., :2]
    end = push_ends(pushes)
    pen = cfg.w_workspace * (_box_violation(start, cfg) + _box_violation(end, cfg)).sum(-1)
    base = torch.tensor(cfg.arm_base, dtype=pushes.dtype, device=pushes.device)
    reach = (torch.linalg.norm(start - base, dim=-1) - cfg.max_reach).clamp(min=0) + (
        torch.linalg.norm(end - base, dim=-1) - cfg.max_reach
    ).clamp(min=0)
    pen = pen + cfg.w_reach * reach.sum(-1)
    dense = problem.dense[:, :2].to(pushes.dtype)
    travel = torch.linspace(0.0, 1.0, 11, dtype=pushes.dtype, device=pushes.device)
    coll = torch.zeros(b, dtype=pushes.dtype, device=pushes.device)
    miss = torch.zeros_like(coll)
    for k in range(h):
        if k == 0 or not states_at_start:
            obj = dense.expand(b, -1, -1)
        else:
            obj = states_at_start[k - 1][..., :2].to(pushes.dtype)
        path = start[:, k, None] + travel[None, :, None] * (end[:, k] - start[:, k])[:, None]
        d = torch.cdist(path, obj).min(-1).values  # (B, 11): path points to the object
        coll = coll + (cfg.clearance - d[:, 0]).clamp(min=0)
        miss = miss + (d.min(-1).values - cfg.contact).clamp(min=0)
        miss = miss + (d[:, 0] - cfg.clearance - cfg.max_gap).clamp(min=0)
    pen = pen + cfg.w_collision * coll + cfg.w_contact * miss
    if cfg.w_smooth > 0 and problem.previous_push is not None:
        prev = problem.previous_push.to(pushes.dtype)
        dxy = torch.linalg.norm(pushes[:, 0, :2] - prev[:2], dim=-1)
        dth = wrap_angle(pushes[:, 0, 2] - prev[2]).abs() * 0.05  # 1 rad ~ 5 cm
        pen = pen + cfg.w_smooth * (dxy + dth + (pushes[:, 0, 3] - prev[3]).abs())
    return pen
