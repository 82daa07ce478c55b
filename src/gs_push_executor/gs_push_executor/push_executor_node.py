"""ROS 2 node ``push_executor``: serves ``robot/execute_push`` on a real (or simulated) arm.

Each goal is validated, planned and checked (gs_push_executor.motion) from the latest
measured joints, then executed on the configured backend under supervision
(gs_push_executor.execution). Publishes the planned and the measured tip path
(``push_executor/planned_path``, ``push_executor/executed_path``, geometry_msgs/PoseArray,
world frame); the result message describes the executed push.

Backends: ``ros2_control`` (trajectory_msgs/JointTrajectory on ``command_topic``, joints from
``joint_states_topic``), ``xarm`` (xArm SDK), ``moveit`` (moveit_py; untested here).
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, Pose, PoseArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from gs_common.names import EXECUTED_PATH, PLANNED_PATH, WORLD_FRAME
from gs_common.ros.execute_push import serve_execute_push
from gs_common.ros.params import declare_params, param_specs
from gs_common.ros.qos import SENSOR_QOS, STATE_QOS
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import make_header
from gs_dynamics_interfaces.action import ExecutePush
from gs_push_executor import settings as cfg
from gs_push_executor.backends import BackendError
from gs_push_executor.execution import describe_push, execute_plan
from gs_push_executor.kinematics import PusherKinematics
from gs_push_executor.motion import PushRejected, plan_motion, validate_push

R = ExecutePush.Result
STATUS = {"succeeded": R.STATUS_SUCCEEDED, "failed": R.STATUS_FAILED, "canceled": R.STATUS_CANCELED}


def _point(p) -> Point:
    return Point(x=float(p[0]), y=float(p[1]), z=float(p[2]))


def trajectory_msg(names, times, q, qd) -> JointTrajectory:
    """JointTrajectory starting on reception (zero stamp)."""
    msg = JointTrajectory(joint_names=list(names))
    for t, pos, vel in zip(times, q, qd):
        sec = int(t)
        msg.points.append(
            JointTrajectoryPoint(
                positions=[float(v) for v in pos],
                velocities=[float(v) for v in vel],
                time_from_start=Duration(sec=sec, nanosec=min(round((t - sec) * 1e9), 999_999_999)),
            )
        )
    return msg


class PushExecutorNode(Node):
    """Thin ROS adapter around the push executor core."""

    def __init__(self, **kwargs) -> None:
        super().__init__("push_executor", **kwargs)
        self.params = declare_params(self, param_specs(cfg.SETTINGS))
        self.robot, self.workspace, self.limits, self.supervision = cfg.build(self.params)
        self.kin = PusherKinematics(self.robot)
        self._joints_lock = threading.Lock()
        self._joints: tuple[float, np.ndarray] | None = None  # (monotonic time, (n,) rad)
        self._busy = threading.Lock()
        sub_group = MutuallyExclusiveCallbackGroup()
        self.pub_planned = self.create_publisher(PoseArray, PLANNED_PATH, STATE_QOS)
        self.pub_executed = self.create_publisher(PoseArray, EXECUTED_PATH, STATE_QOS)
        try:
            self.backend = self._make_backend(sub_group)
        except BackendError as exc:
            raise ValueError(f"backend '{self.params['backend']}': {exc}") from exc
        self.action_server = serve_execute_push(self, self._execute)
        self.get_logger().info(
            f"push_executor ready: backend={self.params['backend']} "
            f"robot={self.params['urdf_path'] or self.params['robot']} "
            f"joints={self.kin.joint_names}" + (" (dry run)" if self.params["dry_run"] else "")
        )

    # --- backends -----------------------------------------------------------------------------
    def _make_backend(self, group):
        name = self.params["backend"]
        if name == "ros2_control":
            from gs_push_executor.backends.ros2_control import TrajectoryTopicBackend

            self.create_subscription(
                JointState, self.params["joint_states_topic"], self._on_joints, SENSOR_QOS,
                callback_group=group,
            )  # fmt: skip
            pub = self.create_publisher(JointTrajectory, self.params["command_topic"], 10)
            return TrajectoryTopicBackend(
                lambda *a: pub.publish(trajectory_msg(*a)),
                self._latest_joints,
                self.kin.joint_names,
            )
        if name == "xarm":
            from gs_push_executor.backends.xarm_sdk import XArmBackend, connect_xarm

            return XArmBackend(
                connect_xarm(self.params["xarm_ip"]), self.kin.n, self.params["xarm_mode"]
            )
        from gs_push_executor.backends.moveit import MoveItBackend

        return MoveItBackend(
            self.params["moveit_group"],
            lambda plan: trajectory_msg(plan.joint_names, plan.times, plan.q, plan.qd),
        )

    def _on_joints(self, msg: JointState) -> None:
        try:
            idx = [list(msg.name).index(n) for n in self.kin.joint_names]
            q = np.array([msg.position[i] for i in idx], float)
        except (ValueError, IndexError):
            self.get_logger().warning(
                f"joint state without all of {self.kin.joint_names}: {list(msg.name)}",
                throttle_duration_sec=10.0,
            )
            return
        if np.isfinite(q).all():
            with self._joints_lock:
                self._joints = (time.monotonic(), q)

    def _latest_joints(self, max_age: float = 1.0) -> np.ndarray | None:
        with self._joints_lock:
            j = self._joints
        return None if j is None or time.monotonic() - j[0] > max_age else j[1].copy()

    def _current_joints(self, timeout: float = 2.0) -> np.ndarray | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            q = self.backend.joint_positions()
            if q is not None:
                return q
            time.sleep(0.05)
        return None

    # --- action -------------------------------------------------------------------------------
    def _poses(self, points) -> PoseArray:
        msg = PoseArray(header=make_header(WORLD_FRAME, self.get_clock().now().to_msg()))
        msg.poses = [Pose(position=_point(p)) for p in points]
        return msg

    def _reject(self, goal_handle, message: str) -> ExecutePush.Result:
        q = self.backend.joint_positions()
        result = R(status=R.STATUS_REJECTED, message=message)
        if q is not None:
            result.final_tip = _point(self.kin.tip(q)[0][0])
        self.get_logger().warning(message)
        goal_handle.abort()
        return result

    def _execute(self, goal_handle) -> ExecutePush.Result:
        if not self._busy.acquire(blocking=False):
            return self._reject(goal_handle, "push rejected: a push is already being executed")
        try:
            return self._execute_locked(goal_handle)
        finally:
            self._busy.release()

    def _execute_locked(self, goal_handle) -> ExecutePush.Result:
        g = goal_handle.request
        q_now = self._current_joints()
        if q_now is None:
            return self._reject(goal_handle, "push rejected: no joint state from the arm")
        try:
            goal = validate_push(
                (g.start.x, g.start.y), (g.end.x, g.end.y), g.height, g.speed,
                self.workspace, self.limits,
            )  # fmt: skip
            plan = plan_motion(self.kin, q_now, self.limits, goal)
        except PushRejected as exc:
            return self._reject(goal_handle, f"push rejected: {exc}")
        self.pub_planned.publish(self._poses(plan.tip))
        head = (
            f"push ({goal.start[0]:.3f}, {goal.start[1]:.3f}) -> ({goal.end[0]:.3f}, "
            f"{goal.end[1]:.3f}) m, height {goal.height:.3f} m, speed {goal.speed:.3f} m/s: "
            f"{len(plan.times)} samples, {plan.duration:.2f} s"
        )
        if self.params["dry_run"]:
            return self._reject(goal_handle, f"dry run (nothing moved): {head} planned and checked")
        self.get_logger().info(head)
        try:
            outcome = execute_plan(
                plan, self.backend, self.kin, self.limits, self.supervision,
                should_cancel=lambda: goal_handle.is_cancel_requested,
                feedback=lambda progress, tip: goal_handle.publish_feedback(
                    ExecutePush.Feedback(progress=float(progress), tip=_point(tip))
                ),
            )  # fmt: skip
        except BackendError as exc:
            result = R(status=R.STATUS_FAILED, message=f"push failed: {exc}")
            self.get_logger().error(result.message)
            goal_handle.abort()
            return result
        self.pub_executed.publish(self._poses(outcome.tip))
        summary = describe_push(plan, outcome, self.kin)
        result = R(
            status=STATUS[outcome.status],
            message=f"{outcome.message}; {summary}" if summary else outcome.message,
            duration=float(outcome.duration),
        )
        if len(outcome.tip):
            result.final_tip = _point(outcome.final_tip)
        if outcome.status == "succeeded":
            self.get_logger().info(f"push succeeded: {result.message}")
        else:
            self.get_logger().warning(f"push {outcome.status}: {result.message}")
        {"succeeded": goal_handle.succeed, "canceled": goal_handle.canceled}.get(
            outcome.status, goal_handle.abort
        )()
        return result

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()


def main(args=None) -> None:
    sys.exit(run_node(PushExecutorNode, args, num_threads=4))


if __name__ == "__main__":
    main()
