"""The simulated arm as a joint trajectory controller (like ros2_control's
``joint_trajectory_controller``): it accepts ``trajectory_msgs/JointTrajectory`` commands and
the arm follows them in the physics, so an external executor (gs_push_executor's
ros2_control backend) drives the whole push: IK -> trajectory -> execution -> observed push.

Semantics follow the controller's topic interface: a new trajectory replaces the running
one; time_from_start counts from reception (simulation time); when the first point is not
at time 0 the arm moves from its current joints to it; joints are interpolated linearly
between points; after the last point the arm holds it. ``robot/execute_push`` of the
simulator keeps working: starting one of its pushes drops the trajectory being followed,
and trajectories are rejected while one of its pushes runs.

:class:`TrajectoryFollower` is ROS-free; :func:`attach` adds the subscription to the sim node.
"""

from __future__ import annotations

import mujoco
import numpy as np

from gs_common.names import ARM_TRAJECTORY_COMMAND
from gs_sim.workcell import Workcell

COMMAND_TOPIC = ARM_TRAJECTORY_COMMAND


class TrajectoryRejected(ValueError):  # noqa: N818 - reads as the outcome
    """A trajectory command is invalid (names, sizes, non-finite, limits, timing)."""


class TrajectoryFollower:
    """Follows joint trajectories on a :class:`Workcell` (call :meth:`step_frame` in place of
    ``Workcell.step_frame``, under the same lock)."""

    def __init__(self, workcell: Workcell) -> None:
        self.wc = workcell
        jnt = [
            int(np.nonzero(workcell.model.jnt_qposadr == a)[0][0])
            for a in workcell.scene.arm_qpos_adr
        ]
        self.lower = workcell.model.jnt_range[jnt, 0].copy()
        self.upper = workcell.model.jnt_range[jnt, 1].copy()
        self._times: np.ndarray | None = None  # (K,) sim time [s]
        self._q: np.ndarray | None = None  # (K, 7) [rad]

    @property
    def active(self) -> bool:
        return self._times is not None

    def set_trajectory(self, names, times, positions) -> int:
        """Validate and start a trajectory: ``names`` (7 joint names, any order), ``times``
        (K,) [s from now], ``positions`` (K, 7) [rad]. Returns K; raises
        :class:`TrajectoryRejected` naming the offending value."""
        names = list(names)
        wc_names = self.wc.joint_names
        if sorted(names) != sorted(wc_names):
            raise TrajectoryRejected(f"joint_names = {names} must be the arm's {wc_names}")
        times = np.asarray(times, float).reshape(-1)
        q = np.asarray(positions, float)
        if times.size == 0:
            self._times = None  # an empty trajectory stops following (the arm holds)
            return 0
        if q.shape != (times.size, len(names)):
            raise TrajectoryRejected(
                f"positions have shape {q.shape}, expected ({times.size}, {len(names)})"
            )
        if not (np.isfinite(times).all() and np.isfinite(q).all()):
            raise TrajectoryRejected("non-finite time_from_start or position")
        if times[0] < 0 or (np.diff(times) <= 0).any():
            raise TrajectoryRejected("time_from_start must be >= 0 and strictly increasing")
        order = [names.index(n) for n in wc_names]
        q = q[:, order]
        bad = (q < self.lower - 1e-6) | (q > self.upper + 1e-6)
        if bad.any():
            k, j = np.argwhere(bad)[0]
            raise TrajectoryRejected(
                f"{wc_names[j]} = {q[k, j]:.3f} rad at point {k} is outside "
                f"[{self.lower[j]:.3f}, {self.upper[j]:.3f}]"
            )
        if self.wc.busy:
            raise TrajectoryRejected("the simulator's own robot/execute_push push is running")
        now = self.wc.time
        q_now = self.wc.joint_positions()
        if times[0] > 0:
            times = np.concatenate([[0.0], times])
            q = np.vstack([q_now[None], q])
        self._times = now + times
        self._q = q
        return int(times.size)

    def target(self, t: float) -> np.ndarray:
        """(7,) joint set-point at simulation time ``t`` [s]."""
        times, q = self._times, self._q
        if t >= times[-1]:
            return q[-1].copy()
        if t <= times[0]:
            return q[0].copy()
        i = int(np.searchsorted(times, t, side="right") - 1)
        a = (t - times[i]) / (times[i + 1] - times[i])
        return q[i] + a * (q[i + 1] - q[i])

    def step_frame(self) -> None:
        """Advance the workcell one frame: follow the trajectory when one is active (and the
        simulator's own push executor is idle), else the workcell's own stepping."""
        wc = self.wc
        if self._times is None or wc.busy:
            self._times = None if wc.busy else self._times
            wc.step_frame()
            return
        t1 = wc.time + wc.frame_dt
        q0 = wc._q
        q1 = self.target(t1)
        qd = (q1 - q0) / wc.frame_dt
        for k in range(1, wc.substeps + 1):
            wc._set_arm(q0 + (q1 - q0) * (k / wc.substeps), qd)
            mujoco.mj_step(wc.model, wc.data)
        wc._q = q1
        done = t1 >= self._times[-1] - 1e-9
        wc._set_arm(q1, np.zeros(7) if done else qd)
        mujoco.mj_forward(wc.model, wc.data)
        wc.frame_index += 1
        if done:
            self._times = None


def attach(node, workcell: Workcell, lock) -> TrajectoryFollower:
    """Subscribe ``node`` to :data:`COMMAND_TOPIC`; returns the follower whose
    :meth:`TrajectoryFollower.step_frame` the simulation loop calls."""
    from trajectory_msgs.msg import JointTrajectory

    follower = TrajectoryFollower(workcell)

    def on_command(msg: JointTrajectory) -> None:
        times = [p.time_from_start.sec + 1e-9 * p.time_from_start.nanosec for p in msg.points]
        try:
            positions = np.array([list(p.positions) for p in msg.points], float)
            with lock:
                n = follower.set_trajectory(
                    msg.joint_names, times, positions.reshape(len(times), -1)
                )
        except (TrajectoryRejected, ValueError) as exc:
            node.get_logger().warning(f"joint trajectory rejected: {exc}")
            return
        dur = times[-1] if times else 0.0
        node.get_logger().info(
            f"following a joint trajectory of {n} points, {dur:.2f} s"
            if n
            else "joint trajectory cleared; holding"
        )

    node.create_subscription(JointTrajectory, COMMAND_TOPIC, on_command, 10)
    return follower
