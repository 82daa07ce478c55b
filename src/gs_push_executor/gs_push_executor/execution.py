"""Executing a planned joint trajectory on an arm backend, with tracking supervision and a
safe cancel. ROS-free: backends hide the transport (ros2_control topic, xArm SDK, MoveIt).

Supervision follows the arm along the planned path rather than along the clock, so a slow
but faithful controller is not mistaken for a failure: the tracker finds the path sample
nearest to the measured joints (moving forward only), the *deviation* is the joint distance
to that sample (max over joints, rad), and the arm is *stalled* when that index does not
advance for ``stall_timeout`` seconds while the plan expects motion. Both stop the arm.
Cancel stops the arm where it is, waits until it is still, then lifts the pusher straight
up to the transit height; only then does the caller get the outcome.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from gs_push_executor.kinematics import PusherKinematics
from gs_push_executor.motion import JointPlan, MotionLimits, PushRejected, plan_motion


class ArmBackend(Protocol):
    """What the executor needs from an arm (joint order: the plan's ``joint_names``)."""

    name: str

    def start(self, plan: JointPlan) -> None:
        """Begin executing ``plan`` now (replacing any running motion)."""

    def step(self, elapsed: float) -> None:
        """Called every control tick with the time since :meth:`start` [s] (streaming
        backends send their next set-point here)."""

    def stop(self, q_hold: np.ndarray) -> None:
        """Stop the arm and hold ``q_hold`` (n,) [rad]."""

    def joint_positions(self) -> np.ndarray | None:
        """Latest measured joints (n,) [rad], or None when none is known."""


@dataclasses.dataclass(frozen=True)
class SupervisionConfig:
    """deviation_bound: largest joint distance to the planned path [rad];
    stall_timeout [s]; time_factor / time_slack: the motion must end within
    ``duration * time_factor + time_slack`` [s]; goal_tolerance: joint distance to the last
    sample that counts as arrived [rad]; still_tolerance / still_time: the arm is still when
    its joints move less than this [rad] over ``still_time`` [s]; still_timeout [s];
    rate: control tick [Hz]."""

    deviation_bound: float = 0.2
    stall_timeout: float = 3.0
    time_factor: float = 2.0
    time_slack: float = 10.0
    goal_tolerance: float = 0.02
    still_tolerance: float = 2e-3
    still_time: float = 0.3
    still_timeout: float = 5.0
    rate: float = 50.0


@dataclasses.dataclass
class Outcome:
    """status: "succeeded" | "failed" | "canceled"; message; times (K,) [s], q (K, n) [rad]
    and tip (K, 3) [m, world]: the measured path; duration [s]; push_progress 0..1."""

    status: str
    message: str
    times: np.ndarray
    q: np.ndarray
    tip: np.ndarray
    duration: float
    push_progress: float

    @property
    def final_tip(self) -> np.ndarray:
        return self.tip[-1] if len(self.tip) else np.full(3, np.nan)


class PathTracker:
    """Progress of the measured joints along the plan (see module docstring)."""

    def __init__(self, plan: JointPlan, window_s: float = 2.0) -> None:
        self.plan = plan
        self.index = 0
        self.deviation = 0.0
        self._window = window_s
        self._last_advance = 0.0

    def update(self, q: np.ndarray, elapsed: float) -> None:
        p = self.plan
        t_hi = p.times[self.index] + self._window
        hi = int(np.searchsorted(p.times, t_hi, side="right"))
        cand = p.q[self.index : max(hi, self.index + 1)]
        dist = np.abs(cand - q[None]).max(axis=1)
        k = int(dist.argmin())
        self.deviation = float(dist[k])
        if k > 0:
            self.index += k
            self._last_advance = elapsed

    def stalled(self, elapsed: float, timeout: float) -> bool:
        """No progress for ``timeout`` s although the plan says the arm should be moving."""
        expected = self.plan.times[self.index] < elapsed
        return bool(expected and elapsed - self._last_advance > timeout)

    @property
    def at_end(self) -> bool:
        return self.index >= len(self.plan.times) - 1


class Clock:
    """Time source and sleep (replaced by a fake in tests)."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _outcome(kin, status, message, rec, t0_push, progress) -> Outcome:
    times = np.array([r[0] for r in rec]) if rec else np.zeros(0)
    q = np.array([r[1] for r in rec]) if rec else np.zeros((0, kin.n))
    tip = kin.tip(q)[0] if len(q) else np.zeros((0, 3))
    duration = float(times[-1]) if len(times) else 0.0
    return Outcome(status, message, times, q, tip, duration, progress)


def _wait_still(backend, clock: Clock, cfg: SupervisionConfig, rec, t0: float) -> np.ndarray:
    """Wait until the measured joints stop changing; returns the last measurement."""
    start = clock.now()
    ref_q, ref_t = backend.joint_positions(), clock.now()
    q = ref_q
    while clock.now() - start < cfg.still_timeout:
        clock.sleep(1.0 / cfg.rate)
        q = backend.joint_positions()
        if q is None:
            continue
        rec.append((clock.now() - t0, q))
        if ref_q is None or np.abs(q - ref_q).max() > cfg.still_tolerance:
            ref_q, ref_t = q, clock.now()
        elif clock.now() - ref_t >= cfg.still_time:
            break
    return q


def execute_plan(
    plan: JointPlan,
    backend: ArmBackend,
    kin: PusherKinematics,
    limits: MotionLimits,
    cfg: SupervisionConfig = SupervisionConfig(),
    should_cancel: Callable[[], bool] = lambda: False,
    feedback: Callable[[float, np.ndarray], None] = lambda progress, tip: None,
    clock: Clock | None = None,
) -> Outcome:
    """Run ``plan`` on ``backend`` until it arrives, deviates, stalls, times out or is
    canceled (then: stop, wait still, lift). Returns the measured path."""
    clock = clock or Clock()
    tracker = PathTracker(plan)
    rec: list[tuple[float, np.ndarray]] = []
    deadline = plan.duration * cfg.time_factor + cfg.time_slack
    backend.start(plan)
    t0 = clock.now()
    period = 1.0 / cfg.rate
    while True:
        elapsed = clock.now() - t0
        backend.step(elapsed)
        q = backend.joint_positions()
        progress = plan.push_progress(tracker.index)
        if q is not None:
            rec.append((elapsed, q))
            tracker.update(q, elapsed)
            progress = plan.push_progress(tracker.index)
            feedback(progress, kin.tip(q)[0][0])
        if should_cancel():
            backend.stop(q if q is not None else plan.position_at(elapsed))
            q_still = _wait_still(backend, clock, cfg, rec, t0)
            msg = f"canceled at {progress * 100:.0f} % of the push; arm stopped"
            try:
                lift = plan_motion(kin, q_still, limits, lift_only=True)
            except PushRejected as exc:
                return _outcome(kin, "canceled", f"{msg}; lift refused: {exc}", rec, t0, progress)
            sub = execute_plan(lift, backend, kin, limits, cfg, clock=clock)
            rec += [(t + rec[-1][0] if rec else t, qq) for t, qq in zip(sub.times, sub.q)]
            lifted = sub.final_tip[2] if len(sub.tip) else float("nan")
            return _outcome(
                kin,
                "canceled",
                f"{msg}; pusher lifted to {lifted:.3f} m ({sub.status})",
                rec,
                t0,
                progress,
            )
        if q is not None and tracker.deviation > cfg.deviation_bound:
            backend.stop(q)
            return _outcome(
                kin,
                "failed",
                f"tracking error {tracker.deviation:.3f} rad exceeds the bound "
                f"{cfg.deviation_bound:.3f} rad at {progress * 100:.0f} % of the push; arm "
                "stopped",
                rec,
                t0,
                progress,
            )
        if tracker.stalled(elapsed, cfg.stall_timeout) or elapsed > deadline:
            backend.stop(q if q is not None else plan.position_at(elapsed))
            why = (
                f"no measured joint state for {elapsed:.1f} s"
                if q is None
                else f"the arm stalled (no progress for {cfg.stall_timeout:.1f} s)"
                if elapsed <= deadline
                else f"the motion exceeded its time limit {deadline:.1f} s"
            )
            return _outcome(
                kin,
                "failed",
                f"{why} at {progress * 100:.0f} % of the push; arm stopped",
                rec,
                t0,
                progress,
            )
        if (
            q is not None
            and tracker.at_end
            and elapsed >= plan.duration
            and np.abs(q - plan.q[-1]).max() < cfg.goal_tolerance
        ):
            return _outcome(kin, "succeeded", "trajectory executed", rec, t0, 1.0)
        clock.sleep(period)


def describe_push(plan: JointPlan, outcome: Outcome, kin: PusherKinematics) -> str:
    """One sentence on the executed push (measured tip path inside the push segment)."""
    if plan.push_segment < 0 or not len(outcome.times):
        return ""
    a, b = plan.push_window()
    t_a, t_b = plan.times[a], plan.times[b]
    # measured samples while the tip is at push height near the push line
    p0, p1 = plan.tip[a], plan.tip[b]
    d = (p1 - p0)[:2]
    u = d / max(np.linalg.norm(d), 1e-9)
    rel = outcome.tip[:, :2] - p0[:2]
    along = rel @ u
    off = np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0])  # horizontal distance to the line
    low = np.abs(outcome.tip[:, 2] - p0[2]) < 1e-3
    if not low.any():
        return "the tip never reached the push height"
    pts = outcome.tip[low]
    return (
        f"executed push ({pts[0][0]:.3f}, {pts[0][1]:.3f}) -> ({pts[-1][0]:.3f}, "
        f"{pts[-1][1]:.3f}) m at height {pts[:, 2].mean():.4f} m, "
        f"{np.clip(along[low], 0, None).max():.3f} m of {np.linalg.norm(d):.3f} m, "
        f"max {off[low].max() * 1000:.1f} mm off the line (planned {t_b - t_a:.2f} s)"
    )
