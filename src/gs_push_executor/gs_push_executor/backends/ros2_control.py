"""Backend for a ros2_control joint trajectory controller (or anything that accepts
``trajectory_msgs/JointTrajectory`` on a command topic, like gs_sim's trajectory
controller). ROS-free: the node passes the publish function and the latest joint state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gs_push_executor.motion import JointPlan

#: publish(joint_names, times (K,) [s], positions (K, n) [rad], velocities (K, n) [rad/s])
PublishFn = Callable[[list, np.ndarray, np.ndarray, np.ndarray], None]


class TrajectoryTopicBackend:
    """Sends the whole plan as one trajectory; stopping sends a one-point trajectory that
    holds the measured joints ``stop_time`` s from now (the controller replaces the running
    trajectory with it)."""

    name = "ros2_control"

    def __init__(
        self,
        publish: PublishFn,
        read_joints: Callable[[], np.ndarray | None],
        joint_names: list[str],
        stop_time: float = 0.1,
    ) -> None:
        self._publish = publish
        self._read = read_joints
        self.joint_names = list(joint_names)
        self.stop_time = stop_time

    def start(self, plan: JointPlan) -> None:
        self._publish(plan.joint_names, plan.times, plan.q, plan.qd)

    def step(self, elapsed: float) -> None:
        """The controller interpolates on its own: nothing to stream."""

    def stop(self, q_hold: np.ndarray) -> None:
        q = np.asarray(q_hold, float)[None]
        self._publish(self.joint_names, np.array([self.stop_time]), q, np.zeros_like(q))

    def joint_positions(self) -> np.ndarray | None:
        return self._read()
