"""Planning costs, push bounds and the object-aware push proposal. ROS-free, torch.

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

import numpy as np
import torch

from gs_common.pointsets import chamfer_distance, farthest_point_sampling

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
    workspace: tuple[float, float, float, float] = (-0.22, 0.22, -0.25, 0.25)
    margin: float = 0.005
    arm_base: tuple[float, float] = (-0.40, 0.0)
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
    c, s = torch.cos(th), torch.sin(th)
    big = torch.full_like(x, 1e3)
    tx = torch.where(c > 1e-9, (x1 - m - x) / c.clamp(min=1e-9), big)
    tx = torch.where(c < -1e-9, (x0 + m - x) / c.clamp(max=-1e-9), tx)
    ty = torch.where(s > 1e-9, (y1 - m - y) / s.clamp(min=1e-9), big)
    ty = torch.where(s < -1e-9, (y0 + m - y) / s.clamp(max=-1e-9), ty)
    ray = torch.minimum(tx, ty)
    length = pushes[..., 3].clamp(cfg.min_length, cfg.max_length)
    length = torch.minimum(length, ray).clamp(min=cfg.min_length)
    return torch.stack([x, y, th, length], -1)


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
    d = torch.stack([torch.cos(pushes[..., 2]), torch.sin(pushes[..., 2])], -1)
    end = start + pushes[..., 3:4] * d
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


def nearest_target_offsets(points: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(D, 2) xy vector from each point (D, 3) to its nearest target point (M, 3)."""
    d = torch.cdist(points[:, :2], target[:, :2])
    j = d.argmin(-1)
    return target[j, :2] - points[:, :2]


def start_behind(
    contact: torch.Tensor, theta: torch.Tensor, obj_xy: torch.Tensor, clearance: float
) -> torch.Tensor:
    """(K, 2) push starts: from each contact point (K, 2), the nearest point back along the
    push direction theta (K,) that clears every object point obj_xy ((D, 2) or (K, D, 2)) by
    ``clearance`` (as the simulator's data collection walks back until clear), computed in
    closed form, so the start moves continuously with the contact point and direction.

    Along start(t) = contact - t d, point q is closer than the clearance for t in
    (b - s, b + s) with b = (contact - q).d and s = sqrt(b^2 - |contact - q|^2 + c^2); the
    answer is the smallest t >= 0 outside all intervals (0 or some interval's end).
    """
    d = torch.stack([torch.cos(theta), torch.sin(theta)], -1)  # (K, 2)
    obj = obj_xy if obj_xy.dim() == 3 else obj_xy.expand(len(contact), -1, -1)
    w = contact[:, None] - obj  # (K, D, 2)
    b = (w * d[:, None]).sum(-1)
    disc = b**2 - (w**2).sum(-1) + clearance**2
    hit = disc > 0
    s = disc.clamp(min=0).sqrt()
    t1 = torch.where(hit, b - s, torch.full_like(b, math.inf))
    t2 = torch.where(hit, b + s, torch.full_like(b, -math.inf))
    cand = torch.cat([torch.zeros_like(b[:, :1]), t2], 1)  # (K, D + 1)
    inside = ((cand[..., None] > t1[:, None] + 1e-7) & (cand[..., None] < t2[:, None] - 1e-7)).any(
        -1
    )
    cand = torch.where(inside | (cand < 0), torch.full_like(cand, math.inf), cand)
    t = cand.min(1).values.clamp(max=0.5)
    return contact - t[:, None] * d


# Planning action space ------------------------------------------------------------------
# The planners search over object-relative actions u = (aim_x, aim_y, theta, depth): the push
# line passes through a contact point (the aim point, kept within ``contact`` of the object),
# starts just behind it (the first point back along the line that clears the object, as in
# the training data) and continues ``depth`` [m] past it. Every sample is then a push like
# the model's training pushes (which start next to the object and hit it); the executed push
# is (x, y, theta, length) as always.


def aim_pushes(u: torch.Tensor, obj_xy: torch.Tensor, cfg: CostConfig) -> torch.Tensor:
    """Pushes (K, 4) of actions u (K, 4) on the object obj_xy ((D, 2) or (K, D, 2)): the
    contact point is the aim point pulled to within ``contact`` of the nearest object point
    (continuous in the aim point, so MPPI's perturbations change the push smoothly)."""
    obj = obj_xy if obj_xy.dim() == 3 else obj_xy.expand(len(u), -1, -1)
    aim = u[:, :2]
    j = torch.cdist(aim[:, None], obj)[:, 0].argmin(-1)  # (K,)
    near = obj[torch.arange(len(u), device=u.device), j]  # (K, 2)
    off = aim - near
    r = off.norm(dim=-1, keepdim=True).clamp(min=1e-9)
    contact = near + off * (cfg.contact / r).clamp(max=1.0)
    theta = wrap_angle(u[:, 2])
    start = start_behind(contact, theta, obj, cfg.clearance)
    length = (contact - start).norm(dim=-1) + u[:, 3].clamp(min=0)
    return project_pushes(torch.cat([start, theta[:, None], length[:, None]], -1), cfg)


def depth_range(cfg: CostConfig) -> tuple[float, float]:
    """Bounds [m] of the action's depth (travel past the contact point)."""
    return 0.0, cfg.max_length - cfg.clearance


def heuristic_action(problem: PlanProblem, cfg: CostConfig) -> torch.Tensor:
    """(4,) deterministic cold-start action: aim at the observed point farthest from the
    target and push it towards its nearest target point, by that distance."""
    dense = problem.dense
    off = nearest_target_offsets(dense, problem.target)
    err = torch.linalg.norm(off, dim=-1)
    i = int(err.argmax())
    theta = torch.atan2(off[i, 1], off[i, 0])
    lo, hi = depth_range(cfg)
    depth = err[i].clamp(lo, hi)
    return torch.stack([dense[i, 0], dense[i, 1], theta, depth])


def propose_actions(
    problem: PlanProblem, cfg: CostConfig, n: int, generator: torch.Generator
) -> torch.Tensor:
    """(n, 4) random actions like the paper's data-collection pushes, biased towards the
    target: an object point drawn with probability growing with its distance to the target,
    a direction towards its nearest target point (+ N(0, 0.4 rad)) for half of the samples
    and uniform for the rest, a depth such that the length is uniform in
    [min_length, max_length] (taking the ~clearance approach into account)."""
    dense = problem.dense
    dev, dt = dense.device, dense.dtype
    off = nearest_target_offsets(dense, problem.target)
    err = torch.linalg.norm(off, dim=-1)
    prob = (err + 0.01) / (err + 0.01).sum()
    idx = torch.multinomial(prob.cpu(), n, replacement=True, generator=generator).to(dev)
    to_target = torch.atan2(off[idx, 1], off[idx, 0])
    u = torch.rand(n, generator=generator).to(dev, dt)
    noise = torch.randn(n, generator=generator).to(dev, dt) * 0.4
    uniform = (torch.rand(n, generator=generator).to(dev, dt) * 2 - 1) * math.pi
    theta = wrap_angle(torch.where(u < 0.5, to_target + noise, uniform))
    length = cfg.min_length + (cfg.max_length - cfg.min_length) * torch.rand(
        n, generator=generator
    ).to(dev, dt)
    lo, hi = depth_range(cfg)
    depth = (length - cfg.clearance).clamp(lo, hi)
    return torch.stack([dense[idx, 0], dense[idx, 1], theta, depth], -1)
