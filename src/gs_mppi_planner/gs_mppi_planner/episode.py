"""Headless MPC episodes: the simulator core (gs_sim.workcell, in-process, no ROS), the
learned dynamics and a planner, with the simulator's ground truth as the observed state.

The loop is the node's execute loop without the middleware: observe -> plan a push ->
execute it in the simulator -> let the object settle -> observe -> re-plan, until the
error is below the tolerance or the push budget is spent.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from gs_common.pointsets import chamfer_distance
from gs_mppi_planner.costs import CostConfig, make_problem, shape_cost
from gs_mppi_planner.mppi import SamplingPlanner
from gs_mppi_planner.push_model import PushModel, push_end
from gs_mppi_planner.targets import object_length, principal_yaw, straight_line

TASKS = ("rope_straighten",)


@dataclasses.dataclass(frozen=True)
class EpisodeConfig:
    """max_pushes: push budget; tolerance: stop when the error is below it [m];
    push_speed [m/s] (the data-collection speed); settle_threshold: the object is at rest
    when no vertex moves more than this per frame [m]; settle_max_frames: at most this many
    frames of waiting after a push."""

    max_pushes: int = 8
    tolerance: float = 0.015
    push_speed: float = 0.08
    settle_threshold: float = 2e-4
    settle_max_frames: int = 30


@dataclasses.dataclass
class EpisodeResult:
    """errors: (P + 1,) task error [m] before the first push and after each push;
    costs: planner cost of the observed state (same points as errors); pushes (P, 4);
    latencies: decision time per push [s]; predicted: predicted shape cost per push [m];
    rejected: pushes the simulator refused (counted as pushes, nothing moved)."""

    planner: str
    seed: int
    errors: list[float]
    costs: list[float]
    pushes: list[list[float]]
    latencies: list[float]
    predicted: list[float]
    rollouts: list[int]
    rejected: int
    success: bool
    target: np.ndarray
    final_points: np.ndarray

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("target")
        d.pop("final_points")
        return d


def task_error(points: np.ndarray, target_line: np.ndarray) -> float:
    """Task error [m]: symmetric Chamfer distance (gs_common, sum of both directions)
    between the object's vertices (V, 3) and the target sampled with V points."""
    return float(chamfer_distance(np.asarray(points, np.float64), target_line))


def rope_straighten_target(
    points: np.ndarray, workspace: tuple[float, float, float, float], n: int
) -> np.ndarray:
    """(n, 3) target of the rope-straightening task: a straight line as long as the rope
    through the centre of the workspace, along the rope's principal axis (the task is to
    straighten the rope and bring it to the middle of the table, not to turn it around)."""
    p = np.asarray(points, np.float64)
    x0, x1, y0, y1 = workspace
    return straight_line(
        0.5 * (x0 + x1),
        0.5 * (y0 + y1),
        principal_yaw(p),
        object_length(p),
        float(np.median(p[:, 2])),
        n,
    )


def make_workcell(seed: int, fps: float = 15.0):
    """The simulator core with the rope of config/sim.yaml; no cameras are rendered."""
    import gs_sim  # noqa: F401  (MUJOCO_GL)
    from gs_sim.settings import workcell_config
    from gs_sim.workcell import Workcell

    cfg = workcell_config({"object": "rope", "fps": fps})
    return Workcell(cfg, seed=seed)


def settle(wc, cfg: EpisodeConfig) -> int:
    """Step frames until the object is at rest (bounded); returns frames stepped."""
    prev = wc.object_points()
    for i in range(cfg.settle_max_frames):
        wc.step_frame()
        cur = wc.object_points()
        if float(np.abs(cur - prev).max()) < cfg.settle_threshold:
            return i + 1
        prev = cur
    return cfg.settle_max_frames


def run_episode(
    planner: SamplingPlanner,
    model: PushModel,
    seed: int,
    cfg: EpisodeConfig = EpisodeConfig(),
    task: str = "rope_straighten",
    log=None,
) -> EpisodeResult:
    """One seeded episode of ``task`` with ``planner`` (reset and re-seeded with ``seed``)."""
    from gs_sim.push import PushRejected, validate_push

    if task not in TASKS:
        raise ValueError(f"task {task!r} is not one of {list(TASKS)}")
    wc = make_workcell(seed)
    ws = wc.config.workspace
    cost_cfg: CostConfig = planner.cost_cfg
    planner.reset(seed)
    pts = wc.object_points()
    # the target at the vertices' count: the cost needs no resampling, the metric is exact
    target = rope_straighten_target(pts, (ws.x_min, ws.x_max, ws.y_min, ws.y_max), len(pts))
    metric_target = target
    errors, costs, pushes, lat, pred, rolls = [], [], [], [], [], []
    rejected = 0
    prev_push = None
    for k in range(cfg.max_pushes + 1):
        pts = wc.object_points()
        particles = model.control_particles(pts)
        problem = make_problem(particles, pts, target, model.device, prev_push)
        errors.append(task_error(pts, metric_target))
        costs.append(float(shape_cost(problem.particles[None], problem, cost_cfg.kind)[0]))
        if log:
            log(f"  seed {seed} {planner.name} push {k}: error {errors[-1] * 1000:.1f} mm")
        if errors[-1] < cfg.tolerance or k == cfg.max_pushes:
            break
        t0 = time.perf_counter()
        plan = planner.plan(problem)
        lat.append(time.perf_counter() - t0)
        pred.append(plan.shape_cost)
        rolls.append(plan.rollouts)
        push = plan.pushes[0]
        pushes.append([float(v) for v in push])
        prev_push = push
        try:
            goal = validate_push(
                push[:2], push_end(push), 0.0, cfg.push_speed, ws, wc.config.limits
            )
            wc.start_push(goal)
        except PushRejected as exc:
            rejected += 1
            if log:
                log(f"  seed {seed} {planner.name}: push rejected by the simulator: {exc}")
            continue
        while wc.busy:
            wc.step_frame()
        settle(wc, cfg)
    return EpisodeResult(
        planner=planner.name,
        seed=seed,
        errors=errors,
        costs=costs,
        pushes=pushes,
        latencies=lat,
        predicted=pred,
        rollouts=rolls,
        rejected=rejected,
        success=errors[-1] < cfg.tolerance,
        target=metric_target,
        final_points=wc.object_points(),
    )
