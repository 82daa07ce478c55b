"""Backend for UFACTORY xArm arms through the xArm Python SDK (``xarm-python-sdk``).

Servo mode (SDK mode 1, the default): every control tick sends the plan's joint set-point
at the elapsed time with ``set_servo_angle_j`` (the controller expects a steady stream of
small steps). Position mode (mode 0): the plan is decimated to waypoints queued with
``set_servo_angle(wait=False)`` and blended by the controller. Stop: servo mode sends the
measured joints once and stops streaming; position mode stops the queued motion with
``set_state(4)`` and re-enables motion.

Tested only against a recorded fake of the SDK interface (test/test_xarm_backend.py), not
against a real arm; see the README's hardware checklist.
"""

from __future__ import annotations

import numpy as np

from gs_push_executor.backends import BackendError
from gs_push_executor.motion import JointPlan

SERVO_MODE = 1
POSITION_MODE = 0
STATE_READY = 0
STATE_STOP = 4


def connect_xarm(ip: str):
    """A connected ``xarm.wrapper.XArmAPI`` (imported here: the SDK is optional)."""
    try:
        from xarm.wrapper import XArmAPI
    except ImportError as exc:  # pragma: no cover - the SDK is in requirements.txt
        raise BackendError("the xArm SDK is not installed: pip install xarm-python-sdk") from exc
    if not ip:
        raise BackendError("parameter xarm_ip is empty: give the arm controller's IP address")
    return XArmAPI(ip, is_radian=True)


def _check(code, what: str) -> None:
    code = code[0] if isinstance(code, tuple | list) else code
    if code != 0:
        raise BackendError(f"xArm SDK {what} returned error code {code}")


class XArmBackend:
    """``arm``: an ``XArmAPI`` (or an object with the same methods); ``n``: number of arm
    joints (the SDK reports angles of all servos, the first ``n`` are the arm);
    ``mode``: "servo" or "position"; ``waypoint_dt``: position-mode waypoint spacing [s]."""

    name = "xarm"

    def __init__(self, arm, n: int = 7, mode: str = "servo", waypoint_dt: float = 0.2) -> None:
        if mode not in ("servo", "position"):
            raise BackendError(f"xarm_mode = {mode!r} is not one of ['servo', 'position']")
        self.arm = arm
        self.n = n
        self.mode = mode
        self.waypoint_dt = waypoint_dt
        self._plan: JointPlan | None = None
        self._enable()

    def _enable(self) -> None:
        self.arm.clean_error()
        self.arm.clean_warn()
        _check(self.arm.motion_enable(enable=True), "motion_enable")
        _check(self.arm.set_mode(SERVO_MODE if self.mode == "servo" else POSITION_MODE), "set_mode")
        _check(self.arm.set_state(state=STATE_READY), "set_state(0)")

    def start(self, plan: JointPlan) -> None:
        self._plan = plan
        if self.mode == "position":
            t = np.arange(self.waypoint_dt, plan.duration + self.waypoint_dt, self.waypoint_dt)
            q_prev = plan.q[0]
            for ti in np.minimum(t, plan.duration):
                q = plan.position_at(float(ti))
                speed = float(np.abs(q - q_prev).max() / self.waypoint_dt)
                _check(
                    self.arm.set_servo_angle(
                        angle=[float(v) for v in q],
                        speed=max(speed, 1e-3),
                        is_radian=True,
                        wait=False,
                    ),
                    "set_servo_angle",
                )
                q_prev = q

    def step(self, elapsed: float) -> None:
        if self.mode != "servo" or self._plan is None:
            return
        q = self._plan.position_at(elapsed)
        _check(
            self.arm.set_servo_angle_j(angles=[float(v) for v in q], is_radian=True),
            "set_servo_angle_j",
        )

    def stop(self, q_hold: np.ndarray) -> None:
        self._plan = None
        if self.mode == "servo":
            _check(
                self.arm.set_servo_angle_j(angles=[float(v) for v in q_hold], is_radian=True),
                "set_servo_angle_j (hold)",
            )
        else:
            self.arm.set_state(state=STATE_STOP)
            _check(self.arm.set_mode(POSITION_MODE), "set_mode")
            _check(self.arm.set_state(state=STATE_READY), "set_state(0)")

    def joint_positions(self) -> np.ndarray | None:
        code, angles = self.arm.get_servo_angle(is_radian=True)
        if code != 0 or angles is None:
            return None
        return np.asarray(angles[: self.n], float)

    def close(self) -> None:
        self._plan = None
        self.arm.disconnect()
