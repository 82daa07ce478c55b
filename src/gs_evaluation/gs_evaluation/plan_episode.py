"""Headless MPC episodes: the simulator core (gs_sim.workcell, in-process, no ROS), the
learned dynamics and a planner. The observed state is the simulator's ground truth
(``observe="oracle"``, the default) or what the cameras see, segmented and tracked
(``observe="perception"``, :mod:`gs_evaluation.perception_env`).

The loop is the planner node's loop, gs_mppi_planner.mpc.run_mpc, with the simulator as
its environment (:class:`SimEnvironment`): observe -> plan a push -> execute it in the
simulator -> let the object settle -> observe -> re-plan, until the task error is at most
the tolerance or the push budget is spent.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gs_common.pointsets import curve_chamfer
from gs_common.push import push_end
from gs_evaluation.plan_tasks import (  # noqa: F401
    TASKS,
    RelocationSampler,
    get_task,
    pose_error,
    rope_straighten_target,
)
from gs_mppi_planner.mpc import (
    GOAL_METRICS,
    Environment,
    Goal,
    GoalLimits,
    MPCConfig,
    Outcome,
    PushRejected,
    points_chamfer,
    run_mpc,
)
from gs_mppi_planner.mppi import SamplingPlanner


@dataclasses.dataclass(frozen=True)
class EpisodeConfig:
    """max_pushes: push budget; tolerance: stop when the error is below it [m];
    push_speed [m/s] (the data-collection speed); settle_threshold: the object is at rest
    when no vertex moves more than this per frame [m]; settle_max_frames: at most this many
    frames of waiting after a push; state_height: the planner's (gs_mppi_planner.mpc.at_height:
    the observation moved to the model's height [m]; < 0: as observed); goal_metric: the
    planner's goal check (gs_mppi_planner.mpc.GOAL_METRICS)."""

    max_pushes: int = 8
    tolerance: float = 0.015
    push_speed: float = 0.08
    settle_threshold: float = 2e-4
    settle_max_frames: int = 30
    state_height: float = MPCConfig.state_height
    goal_metric: str = MPCConfig.goal_metric


@dataclasses.dataclass
class EpisodeResult:
    """errors: (P + 1,) task error [m] before the first push and after each push;
    costs: planner cost of the observed state (same points as errors); pushes (P, 4);
    latencies: decision time per push [s]; predicted: predicted shape cost per push [m];
    rejected: pushes the simulator refused (counted as pushes, nothing moved);
    observe: "oracle" or "perception"; errors are always measured on the simulator's true
    vertices; perceived: the same task error measured on the state the planner observed
    (= errors for the oracle); perception: frames perceived, seconds per stage; task: its
    name; target_params: the sampled target's parameters (e.g. dx, dy [m], yaw [rad]);
    pose_errors: relocation tasks only, [centroid offset [m], yaw error [rad]] of the true
    vertices from the target at the start and at the end (:func:`pose_error`)."""

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
    observe: str = "oracle"
    perceived: list[float] = dataclasses.field(default_factory=list)
    perception: dict = dataclasses.field(default_factory=dict)
    task: str = "rope_straighten"
    target_params: dict = dataclasses.field(default_factory=dict)
    pose_errors: list[list[float]] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("target")
        d.pop("final_points")
        return d


#: Task.metric -> the task error of the true vertices (V, 3) against the target (V, 3)
TASK_METRICS = {"curve": curve_chamfer, "points": points_chamfer}


def task_error(points: np.ndarray, target: np.ndarray, metric: str = "curve") -> float:
    """Task error [m] of the object's true vertices (V, 3) against the target (V, 3):
    symmetric Chamfer distance (gs_common, sum of both directions) between

    - ``curve``: the curves through them (gs_common.pointsets.curve_chamfer; = the planner's
      goal check, gs_mppi_planner.mpc.dense_chamfer, on the vertices). Between the points
      themselves a straight rope lying on the target line read 0-15.5 mm depending on how
      far it was slid along the line (half a vertex spacing reads 15.5 mm);
    - ``points``: the points themselves (gs_mppi_planner.mpc.points_chamfer; relocations:
      the target is the same vertices moved, so the points correspond)."""
    if metric not in TASK_METRICS:
        raise ValueError(f"metric {metric!r} is not one of {list(TASK_METRICS)}")
    p, t = np.asarray(points, np.float64), np.asarray(target, np.float64)
    return float(TASK_METRICS[metric](p, t))


def make_workcell(seed: int, fps: float = 15.0, settings: dict | None = None, obj: str = "rope"):
    """The simulator core with the object ``obj`` of config/sim.yaml (``settings`` override
    the simulator's defaults, e.g. the camera resolution); nothing is rendered here."""
    import gs_sim  # noqa: F401  (MUJOCO_GL)
    from gs_sim.settings import workcell_config
    from gs_sim.workcell import Workcell

    cfg = workcell_config({"object": obj, "fps": fps, **(settings or {})})
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


class SimEnvironment(Environment):
    """The MPC loop's world in the in-process simulator: ground-truth observations, pushes
    validated and executed by the simulator core (a refused push moves nothing).

    With a ``target`` (V, 3), ``scored`` gets the task error (:func:`task_error` with
    ``metric``) of the TRUE vertices each time the planner observes (before the first push,
    after each push, rejected ones included): the episode's score, whatever the planner
    observes."""

    def __init__(
        self,
        wc,
        cfg: EpisodeConfig,
        log=None,
        label: str = "",
        target: np.ndarray | None = None,
        metric: str = "curve",
    ):
        self.wc, self.cfg, self.log, self.label = wc, cfg, log, label
        self.target = None if target is None else np.asarray(target, np.float64)
        self.metric = metric
        self.scored: list[float] = []

    def _score(self) -> None:
        if self.target is not None:
            self.scored.append(task_error(self.wc.object_points(), self.target, self.metric))

    def check_stop(self) -> None:
        pass  # nothing cancels a benchmark episode

    def observe(self) -> np.ndarray:
        self._score()
        return self.wc.object_points()

    def execute_push(self, push: np.ndarray) -> None:
        from gs_sim.push import PushRejected as SimPushRejected
        from gs_sim.push import validate_push

        wc = self.wc
        try:
            goal = validate_push(
                push[:2], push_end(push), 0.0, self.cfg.push_speed, wc.config.workspace,
                wc.config.limits,
            )  # fmt: skip
            wc.start_push(goal)
        except SimPushRejected as exc:
            if self.log:
                self.log(f"  {self.label}: push rejected by the simulator: {exc}")
            self._rejected()
            raise PushRejected(str(exc)) from exc
        while wc.busy:
            self._frame()

    def _frame(self) -> None:
        """Advance the simulator by one frame (a perceiving environment also perceives it)."""
        self.wc.step_frame()

    def _rejected(self) -> None:
        """Called when the simulator refused a push, before run_mpc hears of it."""
        self._score()  # run_mpc re-plans on the same observation: score it again

    def settled(self) -> np.ndarray:
        settle(self.wc, self.cfg)
        self._score()
        return self.wc.object_points()


def run_episode(
    planner: SamplingPlanner,
    seed: int,
    cfg: EpisodeConfig = EpisodeConfig(),
    task: str = "rope_straighten",
    log=None,
    observe: str = "oracle",
    perception=None,
) -> EpisodeResult:
    """One seeded episode of ``task`` (gs_evaluation.plan_tasks; its object, target and
    perception settings; the planner's model is the caller's) with ``planner`` (reset and
    re-seeded with ``seed``).

    observe: ``oracle`` (the simulator's true vertices are the observed state) or
    ``perception`` (cameras -> segmentation -> tracking, :mod:`gs_evaluation.perception_env`,
    configured by ``perception``, a PerceptionConfig; default settings when None). The
    target is the task's (built once from the initial scene, identical for both
    observations); the error is always measured on the true vertices."""
    spec = get_task(task)
    if observe not in ("oracle", "perception"):
        raise ValueError(f"observe {observe!r} is not one of ['oracle', 'perception']")
    pcfg = None
    if observe == "perception":
        from gs_evaluation.perception_env import task_perception

        pcfg = task_perception(spec, perception)
    wc = make_workcell(seed, settings=pcfg.sim_settings() if pcfg else None, obj=spec.object)
    ws = wc.config.workspace
    box = (ws.x_min, ws.x_max, ws.y_min, ws.y_max)
    pts = wc.object_points()
    # the task's target at the vertices' count: the cost needs no resampling, the metric is
    # exact. It defines the task (the goal a user gives), identical for both observations.
    target, target_params = spec.sample_target(pts, box, seed)
    relocation = isinstance(spec.target, RelocationSampler)
    poses = [list(pose_error(pts, target))] if relocation else []
    del pts  # nothing below observes the true state, except the environment's oracle
    goal = Goal(target_points=target, max_pushes=cfg.max_pushes, tolerance=cfg.tolerance)
    limits = GoalLimits(workspace=box, max_pushes_limit=max(cfg.max_pushes, 1))
    mpc = MPCConfig(
        limits=limits,
        seed=seed,
        skip_rejected_pushes=True,
        state_height=cfg.state_height,
        goal_metric=cfg.goal_metric,
    )
    label = f"seed {seed} {planner.name} {observe}"
    perceiver = None
    if pcfg is None:
        env = SimEnvironment(wc, cfg, log, label, target, spec.metric)
    else:
        from gs_evaluation.perception_env import CameraPerception, PerceptionEnvironment

        perceiver = CameraPerception(wc, pcfg, seed)
        env = PerceptionEnvironment(wc, cfg, perceiver, target, log, label, spec.metric)
    try:
        # the goal check of the planner node (on the observed centreline; = task_error on
        # the simulator's vertices); scoring below is always task_error of the true state
        r = run_mpc(env, planner, goal, mpc, metric=GOAL_METRICS[cfg.goal_metric])
    finally:
        if perceiver is not None:
            perceiver.close()
    if r.outcome not in (Outcome.SUCCEEDED, Outcome.MAX_PUSHES):
        raise RuntimeError(f"{label}: {r.outcome.value}: {r.message}")
    # scoring: the true state's error (the oracle observes it; perception is scored on it)
    errors = list(env.scored)
    if len(errors) != len(r.errors):
        raise RuntimeError(f"{label}: {len(errors)} scored states for {len(r.errors)} decisions")
    stats = {}
    if perceiver is not None:
        stats = {
            "frames": perceiver.frames,
            "seconds": dict(perceiver.seconds),
            "settle_frames": list(env.settle_frames),
            "particles": len(perceiver.particles()),
            "robot_masks": pcfg.robot_masks,
        }
    if log:
        for k, (e, o) in enumerate(zip(errors, r.errors)):
            log(f"  {label} push {k}: error {e * 1000:.1f} mm (observed {o * 1000:.1f} mm)")
    return EpisodeResult(
        planner=planner.name,
        seed=seed,
        errors=errors,
        costs=r.costs,
        pushes=[[float(v) for v in p] for p in r.pushes],
        latencies=r.latencies,
        predicted=r.predicted,
        rollouts=r.rollouts,
        rejected=r.rejected,
        success=errors[-1] <= cfg.tolerance,
        target=target,
        final_points=wc.object_points(),
        observe=observe,
        perceived=list(r.errors),
        perception=stats,
        task=task,
        target_params=target_params,
        pose_errors=poses + [list(pose_error(wc.object_points(), target))] if relocation else [],
    )
