"""Node ``planner``: the ``planner/plan`` action (MPPI over the learned dynamics + MPC).

Serves ``planner/plan`` (gs_dynamics_interfaces/action/Plan); observes the object on
``perception/object_cloud`` (``state_source: cloud``, segmentation's fused object points) or
``tracking/particles`` (``state_source: tracking``) or, with ``oracle_state``, the
simulator's ``sim/ground_truth/object_points``; executes pushes with the
``robot/execute_push`` action; publishes every plan it executes (or returns) on
``dynamics/predicted_states`` (particles, tool path, pushes, predicted cost per push) and
the goal's target on ``planner/target``.

The MPC loop, goal checks and targets are gs_mppi_planner.mpc (ROS-free); this node is the
loop's environment and translates goals, feedback and results. Goal policy
(docs/interfaces.md): validation in the goal callback, invalid goals end INVALID_GOAL at
once without disturbing the running goal, one active goal, the newest valid goal wins.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time

import numpy as np
import rclpy
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2

from gs_common.names import (
    EXECUTE_PUSH_ACTION,
    GT_POINTS_TOPIC,
    PLAN_ACTION,
    PLANNER_TARGET,
    PREDICTED_STATES,
    WORLD_FRAME,
)
from gs_common.pointcloud import CloudFormatError
from gs_common.ros.params import declare_params, param_specs
from gs_common.ros.pointcloud2 import cloud_to_xyz, xyz_to_cloud
from gs_common.ros.qos import ACTION_SERVICE_QOS, LATCHED_QOS, SENSOR_QOS, STATE_QOS
from gs_common.ros.spin import run_node
from gs_dynamics_interfaces.action import ExecutePush, Plan
from gs_dynamics_interfaces.msg import PredictedStates
from gs_mppi_planner.messages import (
    feedback_msg,
    fill_result,
    goal_from_msg,
    plan_msg,
    push_goal,
)
from gs_mppi_planner.mpc import (
    GOAL_METRICS,
    Environment,
    Goal,
    MPCResult,
    Observations,
    Outcome,
    PushRejected,
    Stop,
    at_rest,
    check_goal,
    run_mpc,
    wait_until,
)
from gs_mppi_planner.mppi import make_planner
from gs_mppi_planner.push_model import PushModel
from gs_mppi_planner.settings import SETTINGS, STATE_SOURCES, configs

R = Plan.Result
PARAMS = param_specs(SETTINGS)  # gs_mppi_planner.settings: the one table


@dataclasses.dataclass
class GoalRun:
    """One accepted goal: its handle, the converted goal, the validation error (if any)."""

    handle: object
    goal: Goal
    invalid: Stop | None = None
    preempted: threading.Event = dataclasses.field(default_factory=threading.Event)
    result: Plan.Result = dataclasses.field(default_factory=Plan.Result)


class PlannerNode(Node):
    def __init__(self, **kwargs):
        super().__init__("planner", **kwargs)
        self.params = p = declare_params(self, PARAMS)
        if p["torch_threads"] > 0:
            import torch

            torch.set_num_threads(int(p["torch_threads"]))
        self.model = PushModel(p["checkpoint"], p["device"], p["num_particles"])
        cost_cfg, self.mppi_cfg, self.mpc_cfg = configs(p)
        self.planner = make_planner(p["planner"], self.model, cost_cfg, self.mppi_cfg)
        self.oracle = bool(p["oracle_state"])
        self.state_topic = GT_POINTS_TOPIC if self.oracle else STATE_SOURCES[p["state_source"]]
        self.observations = Observations(self.state_topic)
        group = ReentrantCallbackGroup()
        self.create_subscription(
            PointCloud2, self.state_topic, self._on_state, SENSOR_QOS, callback_group=group
        )
        self.pub_pred = self.create_publisher(PredictedStates, PREDICTED_STATES, STATE_QOS)
        self.pub_target = self.create_publisher(PointCloud2, PLANNER_TARGET, LATCHED_QOS)
        self.push_client = ActionClient(
            self, ExecutePush, EXECUTE_PUSH_ACTION, callback_group=group
        )
        self._runs_cv = threading.Condition()  # guards the three below; never held long
        self._checked: dict[int, tuple[Goal, Stop | None]] = {}  # id(goal msg) -> check
        self._runs: dict[bytes, GoalRun] = {}  # goal id -> accepted, not yet executing
        self._latest: GoalRun | None = None  # the newest valid goal
        self._active: GoalRun | None = None  # the goal running the MPC loop
        self.server = ActionServer(
            self,
            Plan,
            PLAN_ACTION,
            execute_callback=self._execute,
            goal_callback=self._on_goal,
            handle_accepted_callback=self._on_accepted,
            cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=group,
            goal_service_qos_profile=ACTION_SERVICE_QOS,  # bursts of goals: none dropped
            result_service_qos_profile=ACTION_SERVICE_QOS,
            cancel_service_qos_profile=ACTION_SERVICE_QOS,
        )
        self.get_logger().info(
            f"planner ready: {p['planner']} K={p['num_samples']} x {p['iterations']} iterations "
            f"(H={p['horizon']}, {self.mppi_cfg.budget} rollouts/decision), cost {p['cost']}, "
            f"device {self.model.device}, observing {self.state_topic}"
        )

    # --- observed state ---------------------------------------------------------------------
    def _on_state(self, msg: PointCloud2) -> None:
        try:
            pts = cloud_to_xyz(msg)
        except CloudFormatError as exc:
            self.observations.error = f"{self.state_topic}: {exc}"
            return
        if msg.header.frame_id not in (WORLD_FRAME, ""):
            self.observations.error = f"frame_id {msg.header.frame_id!r} != 'world'"
            return
        self.observations.put(pts, msg.header.stamp)

    # --- goals ------------------------------------------------------------------------------
    def _on_goal(self, msg) -> GoalResponse:
        """Validate before acceptance (no waiting here); see the module docstring."""
        goal, invalid = goal_from_msg(msg), None
        try:
            check_goal(goal, self.mpc_cfg.limits)
        except Stop as stop:
            invalid = stop
        with self._runs_cv:
            self._checked[id(msg)] = (goal, invalid)
        return GoalResponse.ACCEPT

    def _on_accepted(self, handle) -> None:
        with self._runs_cv:
            goal, invalid = self._checked.pop(id(handle.request))
            run = GoalRun(handle, goal, invalid)
            if invalid is None:  # the newest valid goal wins
                for old in (self._active, self._latest):
                    if old is not None:
                        old.preempted.set()
                self._latest = run
            self._runs[bytes(handle.goal_id.uuid)] = run
            self._runs_cv.notify_all()
        handle.execute()

    def check_stop(self, run: GoalRun) -> None:
        if run.preempted.is_set():
            raise Stop(Outcome.PREEMPTED, "preempted by a new goal")
        if run.handle.is_cancel_requested:
            raise Stop(Outcome.CANCELED, "canceled")
        if not rclpy.ok():
            raise Stop(Outcome.FAILED, "shutting down")

    def _execute(self, handle) -> Plan.Result:
        with self._runs_cv:
            run = self._runs.pop(bytes(handle.goal_id.uuid))
        if run.invalid is not None:
            return self._end(run, MPCResult().end(run.invalid.outcome, run.invalid.message))
        try:  # wait for the previous goal to stop (it was preempted by this one)
            with self._runs_cv:
                while self._active is not None:
                    self.check_stop(run)
                    self._runs_cv.wait(0.05)
                self.check_stop(run)
                self._active = run
        except Stop as stop:
            return self._end(run, MPCResult().end(stop.outcome, stop.message))
        try:
            res = run_mpc(
                NodeEnvironment(self, run), self.planner, run.goal, self.mpc_cfg,
                metric=GOAL_METRICS[self.mpc_cfg.goal_metric], log=self.get_logger().error,
            )  # fmt: skip
        finally:
            with self._runs_cv:
                self._active = None
                if self._latest is run:
                    self._latest = None
                self._runs_cv.notify_all()
        return self._end(run, res)

    def _end(self, run: GoalRun, res: MPCResult) -> Plan.Result:
        out = fill_result(run.result, res, self.oracle)
        text = f"goal ended: status {out.status}: {res.message}"
        if res.outcome == Outcome.SUCCEEDED:  # one call site per severity (an rclpy rule)
            self.get_logger().info(text)
        else:
            self.get_logger().warning(text)
        if res.outcome == Outcome.SUCCEEDED:
            run.handle.succeed()
        elif res.outcome == Outcome.CANCELED and run.handle.is_cancel_requested:
            run.handle.canceled()
        else:
            run.handle.abort()
        return out


class NodeEnvironment(Environment):
    """The MPC loop's world through ROS: the state subscription, robot/execute_push,
    feedback and publications of one goal."""

    def __init__(self, node: PlannerNode, run: GoalRun):
        self.node, self.run, self.stamp = node, run, None

    def check_stop(self) -> None:
        self.node.check_stop(self.run)

    def _wait_state(self, after: int):
        timeout = self.node.params["state_timeout"]
        return self.node.observations.wait_newer(after, timeout, self.check_stop)

    def observe(self) -> np.ndarray:
        _, points, self.stamp = self._wait_state(0)
        return points

    def settled(self) -> np.ndarray:
        """Wait until consecutive observations are at rest (mpc.at_rest, settle_threshold)."""
        p, t0, n, rest = self.node.params, time.monotonic(), 1, False
        seq, prev, stamp = self._wait_state(self.node.observations.latest_seq())
        deadline = time.monotonic() + p["settle_timeout"]
        while time.monotonic() < deadline:
            seq, cur, stamp = self._wait_state(seq)
            n, rest, prev = n + 1, at_rest(prev, cur, p["settle_threshold"]), cur
            if rest:
                break
        self.node.get_logger().info(
            f"observed {'at rest' if rest else 'still moving (settle_timeout)'} after "
            f"{time.monotonic() - t0:.1f} s, {n} observations on {self.node.state_topic}"
        )
        self.stamp = stamp
        return prev

    def on_target(self, target: np.ndarray) -> None:
        self.node.pub_target.publish(xyz_to_cloud(target, WORLD_FRAME, self.stamp))

    def on_feedback(self, push_index, iteration, best_cost, pushes, states) -> None:
        with_states = self.node.params["feedback_states"]
        fb = feedback_msg(push_index, iteration, best_cost, pushes, states, self.stamp, with_states)
        self.run.handle.publish_feedback(fb)

    def on_plan(self, push_index, plan) -> None:
        self.node.get_logger().info(
            f"push {push_index}: planned in {plan.seconds:.2f} s ({plan.rollouts} rollouts), "
            f"predicted cost {plan.shape_cost * 1000:.1f} mm"
        )
        msg = plan_msg(plan, self.stamp)
        self.run.result.predicted_states = msg
        self.node.pub_pred.publish(msg)

    def _wait(self, future, timeout: float, what: str, on_stop=None):
        wait_until(future.done, timeout, self.check_stop, what, on_stop)
        return future.result()

    def execute_push(self, push: np.ndarray) -> None:
        p, client = self.node.params, self.node.push_client
        if not client.wait_for_server(timeout_sec=min(5.0, p["execute_timeout"])):
            raise Stop(Outcome.FAILED, f"{EXECUTE_PUSH_ACTION} is not available")
        height = p["push_height"] if p["push_height"] > 0 else self.node.model.cfg.push_height
        goal = push_goal(push, height, p["push_speed"])
        gh = self._wait(client.send_goal_async(goal), 10.0, f"{EXECUTE_PUSH_ACTION} goal")
        if not gh.accepted:
            raise PushRejected(f"{EXECUTE_PUSH_ACTION} rejected the goal")
        result = self._wait(
            gh.get_result_async(), p["execute_timeout"], EXECUTE_PUSH_ACTION, gh.cancel_goal_async
        ).result
        if result.status != ExecutePush.Result.STATUS_SUCCEEDED:
            raise Stop(
                Outcome.FAILED,
                f"push ({push[0]:.3f}, {push[1]:.3f}, {push[2]:.3f} rad, {push[3]:.3f} m) "
                f"failed: {result.message}",
            )


def main(args=None) -> None:
    sys.exit(run_node(PlannerNode, args, num_threads=4))


if __name__ == "__main__":
    main()
