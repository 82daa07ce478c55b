"""The xArm backend's command sequence against a RECORDED FAKE of the xArm SDK interface
(not a real arm). The fake records every call; each recorded call is bound against the
signature of the real ``xarm.wrapper.XArmAPI`` method of the same name (xarm-python-sdk
1.18.4), so a renamed method or parameter fails here."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from gs_push_executor.backends import BackendError
from gs_push_executor.backends.xarm_sdk import XArmBackend
from gs_push_executor.execution import SupervisionConfig, execute_plan
from gs_push_executor.motion import plan_motion, validate_push

xarm_wrapper = pytest.importorskip("xarm.wrapper", reason="xarm-python-sdk is not installed")


class RecordedXArm:
    """Records calls like ``XArmAPI``; a perfect servo: the reported joints are the last
    commanded ones (7 arm joints, as get_servo_angle returns them)."""

    def __init__(self, q0, fail: dict[str, int] | None = None) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.q = list(q0)
        self.fail = fail or {}

    def _rec(self, name, args, kwargs):
        self.calls.append((name, args, kwargs))
        return self.fail.get(name, 0)

    def clean_error(self):
        return self._rec("clean_error", (), {})

    def clean_warn(self):
        return self._rec("clean_warn", (), {})

    def motion_enable(self, enable=True, servo_id=None):
        return self._rec("motion_enable", (), {"enable": enable})

    def set_mode(self, mode=0):
        return self._rec("set_mode", (mode,), {})

    def set_state(self, state=0):
        return self._rec("set_state", (), {"state": state})

    def set_servo_angle_j(self, angles, speed=None, mvacc=None, mvtime=None, is_radian=None):
        self.q = list(angles)
        return self._rec("set_servo_angle_j", (), {"angles": angles, "is_radian": is_radian})

    def set_servo_angle(self, angle=None, speed=None, is_radian=None, wait=False):
        self.q = list(angle)
        kw = {"angle": angle, "speed": speed, "is_radian": is_radian, "wait": wait}
        return self._rec("set_servo_angle", (), kw)

    def get_servo_angle(self, servo_id=None, is_radian=None):
        self._rec("get_servo_angle", (), {"is_radian": is_radian})
        return 0, list(self.q)

    def disconnect(self):
        return self._rec("disconnect", (), {})


class Clock:
    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep(self, s):
        self.t += s


def _bind_all_to_real_sdk(calls):
    for name, args, kwargs in calls:
        method = getattr(xarm_wrapper.XArmAPI, name)  # AttributeError: not in the SDK
        inspect.signature(method).bind(None, *args, **kwargs)


@pytest.fixture
def plan(kin, q_rest, limits, workspace):
    goal = validate_push((0.05, -0.05), (0.1, 0.0), 0.01, 0.1, workspace, limits)
    return plan_motion(kin, q_rest, limits, goal)


def test_servo_mode_sequence(kin, q_rest, limits, plan):
    arm = RecordedXArm(q_rest)
    backend = XArmBackend(arm, kin.n, "servo")
    clock = Clock()
    out = execute_plan(plan, backend, kin, limits, SupervisionConfig(rate=100.0), clock=clock)
    assert out.status == "succeeded", out.message
    names = [c[0] for c in arm.calls]
    assert names[:5] == ["clean_error", "clean_warn", "motion_enable", "set_mode", "set_state"]
    assert arm.calls[3][1] == (1,) and arm.calls[4][2] == {"state": 0}  # servo mode, ready
    servo = [c[2] for c in arm.calls if c[0] == "set_servo_angle_j"]
    assert all(c["is_radian"] is True and len(c["angles"]) == kin.n for c in servo)
    # one set-point per 10 ms tick, consecutive steps small (a smooth stream)
    assert len(servo) >= plan.duration * 100 * 0.95
    steps = np.abs(np.diff(np.array([c["angles"] for c in servo]), axis=0)).max()
    assert steps < 0.02
    assert np.allclose(servo[-1]["angles"], plan.q[-1], atol=1e-9)
    _bind_all_to_real_sdk(arm.calls)


def test_servo_cancel_holds_then_lifts(kin, q_rest, limits, plan):
    arm = RecordedXArm(q_rest)
    backend = XArmBackend(arm, kin.n, "servo")
    clock = Clock()
    a, b = plan.push_window()
    t_cancel = 0.5 * (plan.times[a] + plan.times[b])
    out = execute_plan(
        plan, backend, kin, limits, SupervisionConfig(rate=100.0), clock=clock,
        should_cancel=lambda: clock.t >= t_cancel,
    )  # fmt: skip
    assert out.status == "canceled" and "lifted to 0.150 m" in out.message, out.message
    q_last = np.array(arm.calls[-2][2]["angles"] if arm.calls[-1][0] == "get_servo_angle"
                      else arm.calls[-1][2]["angles"])  # fmt: skip
    assert kin.tip(q_last)[0][0, 2] == pytest.approx(limits.transit_height, abs=2e-3)
    _bind_all_to_real_sdk(arm.calls)


def test_position_mode_sequence(kin, q_rest, limits, plan):
    arm = RecordedXArm(q_rest)
    backend = XArmBackend(arm, kin.n, "position", waypoint_dt=0.2)
    backend.start(plan)
    assert arm.calls[3][1] == (0,)  # position mode
    moves = [c[2] for c in arm.calls if c[0] == "set_servo_angle"]
    assert len(moves) == pytest.approx(plan.duration / 0.2, abs=1.5)
    assert all(m["wait"] is False and m["is_radian"] is True and m["speed"] > 0 for m in moves)
    assert np.allclose(moves[-1]["angle"], plan.q[-1], atol=1e-9)
    backend.stop(np.asarray(arm.q))
    assert [c[0] for c in arm.calls[-3:]] == ["set_state", "set_mode", "set_state"]
    assert arm.calls[-3][2] == {"state": 4}
    backend.close()
    _bind_all_to_real_sdk(arm.calls)


def test_sdk_error_codes_are_reported(kin, q_rest):
    with pytest.raises(BackendError, match="set_mode returned error code 9"):
        XArmBackend(RecordedXArm(q_rest, fail={"set_mode": 9}), kin.n)
    with pytest.raises(BackendError, match="xarm_mode = 'torque'"):
        XArmBackend(RecordedXArm(q_rest), kin.n, "torque")
