"""Object-aware push proposals of the planners. ROS-free, torch.

The planners search over object-relative actions u = (aim_x, aim_y, theta, depth): the push
line passes through a contact point (the aim point, kept within ``contact`` of the object),
starts just behind it (the first point back along the line that clears the object, as in
the training data) and continues ``depth`` [m] past it. Every sample is then a push like
the model's training pushes (which start next to the object and hit it); the executed push
is (x, y, theta, length) as always.
"""

from __future__ import annotations

import math

import torch

from gs_common.push import directions
from gs_mppi_planner.costs import CostConfig, project_pushes, wrap_angle
from gs_mppi_planner.problem import PlanProblem


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
    d = directions(theta)  # (K, 2)
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
