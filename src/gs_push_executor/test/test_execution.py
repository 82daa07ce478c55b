"""Supervised execution on a simulated arm (a kinematic fake on a fake clock): success,
deviation and stall detection, and cancel mid-push (stop, wait still, lift, then result)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gs_push_executor.backends.ros2_control import TrajectoryTopicBackend
from gs_push_executor.execution import SupervisionConfig, describe_push, execute_plan
from gs_push_executor.motion import MotionLimits, Workspace, plan_motion, validate_push


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class FakeArm:
    """A joint trajectory controller in miniature: follows the last trajectory published on
    the backend's topic by linear interpolation (with ``lag`` s delay and ``slowdown``
    factor); ``freeze_at`` stops it (a stalled arm); ``offset`` adds a tracking error."""

    def __init__(self, clock, q0, lag=0.05, slowdown=1.0, freeze_at=None, offset=None) -> None:
        self.clock, self.q = clock, np.asarray(q0, float).copy()
        self.lag, self.slowdown, self.freeze_at, self.offset = lag, slowdown, freeze_at, offset
        self.traj = None
        self.log: list[tuple[float, str, int]] = []  # (time, "traj", points)

    def publish(self, names, times, q, qd) -> None:
        self._advance()
        t, pos = np.asarray(times, float), np.asarray(q, float)
        if t[0] > 0:
            t, pos = np.concatenate([[0.0], t]), np.vstack([self.q[None], pos])
        self.traj = (self.clock.t, t, pos)
        self.log.append((self.clock.t, "traj", len(times)))

    def _advance(self) -> None:
        if self.traj is None:
            return
        if self.freeze_at is not None and self.clock.t >= self.freeze_at:
            return
        t0, t, pos = self.traj
        s = max(0.0, (self.clock.t - t0 - self.lag) / self.slowdown)
        self.q = np.array([np.interp(s, t, pos[:, j]) for j in range(pos.shape[1])])

    def read(self):
        self._advance()
        return self.q + (0.0 if self.offset is None else self.offset(self.clock.t))


@pytest.fixture(scope="module")
def push_plan(kin, q_rest):
    limits, workspace = MotionLimits(), Workspace()
    goal = validate_push((0.0, -0.1), (0.1, 0.05), 0.005, 0.05, workspace, limits)
    return plan_motion(kin, q_rest, limits, goal)


def _run(kin, limits, plan, arm, clock, **kw):
    backend = TrajectoryTopicBackend(arm.publish, arm.read, kin.joint_names)
    return execute_plan(plan, backend, kin, limits, SupervisionConfig(), clock=clock, **kw)


def test_success_reports_the_measured_path(kin, q_rest, limits, push_plan):
    clock = FakeClock()
    arm = FakeArm(clock, q_rest, slowdown=1.3)  # a controller 30 % slower than planned
    progress = []
    out = _run(kin, limits, push_plan, arm, clock, feedback=lambda p, tip: progress.append(p))
    assert out.status == "succeeded", out.message
    assert np.allclose(out.final_tip, limits.retreat, atol=2e-3)
    assert progress[0] == 0.0 and progress[-1] == 1.0 and np.all(np.diff(progress) >= 0)
    text = describe_push(push_plan, out, kin)
    assert "executed push (0.000, -0.100) -> (0.100, 0.050) m at height 0.005" in text, text


def test_deviation_stops_the_arm(kin, q_rest, limits, push_plan):
    clock = FakeClock()
    bump = np.zeros(kin.n)
    bump[3] = 0.5
    arm = FakeArm(clock, q_rest, offset=lambda t: bump if t > 3.0 else 0.0)
    out = _run(kin, limits, push_plan, arm, clock)
    assert out.status == "failed", out.message
    assert re.search(r"tracking error 0\.[2-5]\d+ rad exceeds the bound 0\.200 rad", out.message)
    assert arm.log[-1][2] == 1  # the stop: a one-point hold trajectory
    assert out.duration == pytest.approx(3.0, abs=0.1)


def test_stalled_arm_is_stopped(kin, q_rest, limits, push_plan):
    clock = FakeClock()
    arm = FakeArm(clock, q_rest, freeze_at=2.0)
    out = _run(kin, limits, push_plan, arm, clock)
    assert out.status == "failed" and "stalled" in out.message, out.message
    assert out.duration < 2.0 + SupervisionConfig().stall_timeout + 1.0
    assert arm.log[-1][2] == 1


def test_cancel_mid_push_stops_lifts_then_reports(kin, q_rest, limits, push_plan):
    clock = FakeClock()
    arm = FakeArm(clock, q_rest)
    a, b = push_plan.push_window()
    t_cancel = 0.5 * (push_plan.times[a] + push_plan.times[b])
    out = _run(kin, limits, push_plan, arm, clock, should_cancel=lambda: clock.t >= t_cancel)
    assert out.status == "canceled", out.message
    assert "pusher lifted to 0.150 m (succeeded)" in out.message, out.message
    assert 0.3 < out.push_progress < 0.7
    # order of commands: the push, the hold (stop), the lift
    assert [e[2] for e in arm.log][:2] == [len(push_plan.times), 1] and len(arm.log) == 3
    t_stop, t_lift = arm.log[1][0], arm.log[2][0]
    assert t_stop == pytest.approx(t_cancel, abs=0.05) and t_lift > t_stop
    # the arm stopped where the cancel found it: the tip stayed on the push line, at push
    # height, between the stop and the lift; the result came after the lift ended
    k = (out.times >= t_stop - push_plan.times[0]) & (out.times <= t_lift)
    assert np.abs(out.tip[k, 2] - 0.005).max() < 1e-3
    assert np.ptp(out.tip[k, :2], axis=0).max() < 0.01
    assert out.final_tip[2] == pytest.approx(limits.transit_height, abs=2e-3)
    assert np.allclose(out.final_tip[:2], out.tip[k][-1, :2], atol=1e-3)
