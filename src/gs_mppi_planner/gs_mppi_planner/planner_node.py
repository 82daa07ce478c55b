"""Node ``planner``: the ``planner/plan`` action (MPPI over the learned dynamics + MPC).

Serves ``planner/plan`` (gs_dynamics_interfaces/action/Plan); observes the object on
``tracking/particles`` or, with ``oracle_state``, the simulator's
``sim/ground_truth/object_points``; executes pushes with the ``robot/execute_push`` action;
publishes every plan it executes (or returns) on ``dynamics/predicted_states`` (particles,
tool path, pushes, predicted cost per push) and the goal's target on ``planner/target``.

A new goal preempts the running one (STATUS_PREEMPTED); cancel is honoured between MPPI
iterations and during a push (the push is canceled too). Bad goals end with
STATUS_INVALID_GOAL and a message naming the value; the node keeps serving.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
import time
import traceback

import numpy as np
import rclpy
from geometry_msgs.msg import Point
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2

from gs_common.device import DEVICE_CHOICES
from gs_common.pointcloud import CloudFormatError
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pointcloud2 import cloud_to_xyz, xyz_to_cloud
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS, STATE_QOS
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import make_header
from gs_dynamics_interfaces.action import ExecutePush, Plan
from gs_dynamics_interfaces.msg import PredictedStates, Push
from gs_mppi_planner.costs import COST_KINDS, MAX_COST_POINTS, CostConfig, make_problem, shape_cost
from gs_mppi_planner.mppi import PLANNERS, MPPIConfig, PlanCanceled, PlanResult, make_planner
from gs_mppi_planner.push_model import PushModel, push_end
from gs_mppi_planner.targets import (
    PRESETS,
    InvalidTargetError,
    check_target,
    preset_target,
)

GROUND_TRUTH_TOPIC = "sim/ground_truth/object_points"
TRACKING_TOPIC = "tracking/particles"
R = Plan.Result


def _pair(v) -> str | None:
    vals = list(v)
    if len(vals) != 2 or not all(math.isfinite(float(x)) for x in vals):
        return "must be two finite numbers"
    return None


def _min_max(v) -> str | None:
    return _pair(v) or (None if float(v[0]) < float(v[1]) else "must be [min, max], min < max")


def _noise(v) -> str | None:
    vals = list(v)
    if len(vals) != 4 or not all(math.isfinite(float(x)) and float(x) >= 0 for x in vals):
        return "must be 4 finite values >= 0 (aim x [m], aim y [m], theta [rad], depth [m])"
    return None


RO = {"read_only": True}
PARAMS = [
    ParamSpec(
        "device",
        "auto",
        "torch device: auto (CUDA when present), cpu or cuda",
        choices=DEVICE_CHOICES,
        **RO,
    ),
    ParamSpec(
        "oracle_state",
        False,
        f"observe the simulator's ground truth ({GROUND_TRUTH_TOPIC}) "
        f"instead of {TRACKING_TOPIC} (sim only)",
        **RO,
    ),
    ParamSpec("checkpoint", "", "dynamics checkpoint stem; empty: the shipped rope model", **RO),
    ParamSpec(
        "num_particles",
        0,
        "control particles per state (0: the model's max)",
        range=(0, 2000),
        **RO,
    ),
    ParamSpec("torch_threads", 0, "torch CPU threads (0: torch's default)", range=(0, 256), **RO),
    ParamSpec(
        "planner",
        "mppi",
        "planner: mppi | shooting (best of N) | pytorch_mppi",
        choices=list(PLANNERS),
        **RO,
    ),
    ParamSpec("num_samples", 64, "MPPI samples per iteration (K)", range=(2, 100000), **RO),
    ParamSpec("iterations", 4, "MPPI iterations per push decision", range=(1, 1000), **RO),
    ParamSpec("horizon", 1, "pushes per plan (H)", range=(1, 10), **RO),
    ParamSpec(
        "temperature",
        0.02,
        "MPPI lambda relative to the cost spread (median - min)",
        range=(1e-4, 100.0),
        **RO,
    ),
    ParamSpec(
        "noise",
        [0.02, 0.02, 0.35, 0.03],
        "initial std of the action perturbation (aim x [m], aim y [m], theta [rad], depth [m])",
        check=_noise,
        **RO,
    ),
    ParamSpec("noise_decay", 0.7, "noise factor per MPPI iteration", range=(0.01, 1.0), **RO),
    ParamSpec(
        "explore_fraction",
        0.9,
        "share of the first iteration's samples drawn from the object-aware proposal",
        range=(0.0, 0.95),
        **RO,
    ),
    ParamSpec(
        "explore_later",
        0.5,
        "share of the later iterations' samples drawn from the object-aware proposal",
        range=(0.0, 0.95),
        **RO,
    ),
    ParamSpec("seed", 0, "planner random seed (reset at every goal)", range=(0, 2**31 - 1), **RO),
    ParamSpec("cost", "chamfer", "shape cost: chamfer | matched", choices=list(COST_KINDS), **RO),
    ParamSpec(
        "clearance", 0.025, "push start distance from the object [m]", range=(0.0, 0.2), **RO
    ),
    ParamSpec(
        "contact",
        0.008,
        "the push path must pass this close to the object [m]",
        range=(0.0, 0.2),
        **RO,
    ),
    ParamSpec(
        "max_gap",
        0.03,
        "push start at most this far beyond the clearance [m]",
        range=(0.0, 0.5),
        **RO,
    ),
    ParamSpec("workspace_x", [-0.22, 0.22], "pusher workspace x range [m]", check=_min_max, **RO),
    ParamSpec("workspace_y", [-0.25, 0.25], "pusher workspace y range [m]", check=_min_max, **RO),
    ParamSpec(
        "workspace_margin",
        0.005,
        "keep pushes this far inside the workspace [m]",
        range=(0.0, 0.1),
        **RO,
    ),
    ParamSpec("arm_base", [-0.40, 0.0], "xy of the arm base [m]", check=_pair, **RO),
    ParamSpec(
        "max_reach",
        0.70,
        "largest xy distance of a push point from the arm base [m]",
        range=(0.05, 5.0),
        **RO,
    ),
    ParamSpec("min_push_length", 0.05, "shortest push [m]", range=(0.005, 0.5), **RO),
    ParamSpec("max_push_length", 0.20, "longest push [m]", range=(0.01, 0.5), **RO),
    ParamSpec(
        "w_collision", 10.0, "weight of the start-inside-object penalty", range=(0.0, 1e6), **RO
    ),
    ParamSpec("w_contact", 10.0, "weight of the missing-contact penalty", range=(0.0, 1e6), **RO),
    ParamSpec("w_workspace", 10.0, "weight of the workspace penalty", range=(0.0, 1e6), **RO),
    ParamSpec("w_reach", 10.0, "weight of the reach penalty", range=(0.0, 1e6), **RO),
    ParamSpec(
        "w_smooth",
        0.0,
        "weight of the push-to-push change penalty (0: off)",
        range=(0.0, 1e6),
        **RO,
    ),
    ParamSpec(
        "target_margin",
        0.03,
        "target points may lie this far outside the workspace [m]",
        range=(0.0, 1.0),
        **RO,
    ),
    ParamSpec(
        "default_max_pushes", 8, "pushes of a goal with max_pushes = 0", range=(1, 1000), **RO
    ),
    ParamSpec(
        "max_pushes_limit", 100, "largest max_pushes a goal may ask for", range=(1, 100000), **RO
    ),
    ParamSpec(
        "default_tolerance",
        0.015,
        "cost tolerance [m] of a goal with tolerance <= 0",
        range=(1e-6, 10.0),
        **RO,
    ),
    ParamSpec(
        "push_speed",
        0.08,
        "pusher speed [m/s] sent with robot/execute_push",
        range=(0.001, 1.0),
        **RO,
    ),
    ParamSpec(
        "push_height",
        0.0,
        "pusher height [m] sent with robot/execute_push (<= 0: the model's push height)",
        range=(-1.0, 0.2),
        **RO,
    ),
    ParamSpec(
        "state_timeout", 10.0, "wait this long for an observed state [s]", range=(0.01, 600.0), **RO
    ),
    ParamSpec(
        "settle_timeout",
        5.0,
        "wait at most this long for the object to come to rest after a push [s]",
        range=(0.0, 600.0),
        **RO,
    ),
    ParamSpec(
        "settle_threshold",
        0.001,
        "at rest: no point moves more than this between consecutive observations [m]",
        range=(0.0, 1.0),
        **RO,
    ),
    ParamSpec(
        "execute_timeout",
        120.0,
        "longest wait for one robot/execute_push [s]",
        range=(1.0, 3600.0),
        **RO,
    ),
    ParamSpec("feedback_states", True, "include the predicted states in every feedback", **RO),
]


class Stop(Exception):  # noqa: N818 - control flow: cancel / preemption of a goal
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclasses.dataclass
class GoalRun:
    """Book-keeping of one executing goal."""

    handle: object
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
        self.workspace = (*p["workspace_x"], *p["workspace_y"])
        self.cost_cfg = CostConfig(
            kind=p["cost"],
            clearance=p["clearance"],
            workspace=tuple(float(v) for v in self.workspace),
            margin=p["workspace_margin"],
            arm_base=tuple(float(v) for v in p["arm_base"]),
            max_reach=p["max_reach"],
            min_length=p["min_push_length"],
            max_length=p["max_push_length"],
            contact=p["contact"],
            max_gap=p["max_gap"],
            w_collision=p["w_collision"],
            w_contact=p["w_contact"],
            w_workspace=p["w_workspace"],
            w_reach=p["w_reach"],
            w_smooth=p["w_smooth"],
        )
        self.mppi_cfg = MPPIConfig(
            num_samples=p["num_samples"],
            iterations=p["iterations"],
            horizon=p["horizon"],
            temperature=p["temperature"],
            noise=tuple(float(v) for v in p["noise"]),
            noise_decay=p["noise_decay"],
            explore_fraction=p["explore_fraction"],
            explore_later=p["explore_later"],
            seed=p["seed"],
        )
        self.planner = make_planner(p["planner"], self.model, self.cost_cfg, self.mppi_cfg)
        self.oracle = bool(p["oracle_state"])
        self.state_topic = GROUND_TRUTH_TOPIC if self.oracle else TRACKING_TOPIC
        self._state_cv = threading.Condition()
        self._state: tuple[int, np.ndarray, object] | None = None  # (seq, points, stamp)
        self._state_seq = 0
        self._state_error = ""
        group = ReentrantCallbackGroup()
        self.create_subscription(
            PointCloud2, self.state_topic, self._on_state, SENSOR_QOS, callback_group=group
        )
        self.pub_pred = self.create_publisher(
            PredictedStates, "dynamics/predicted_states", STATE_QOS
        )
        self.pub_target = self.create_publisher(PointCloud2, "planner/target", LATCHED_QOS)
        self.push_client = ActionClient(
            self, ExecutePush, "robot/execute_push", callback_group=group
        )
        self._goal_lock = threading.Lock()  # one goal plans / executes at a time
        self._active: GoalRun | None = None
        self._active_lock = threading.Lock()
        self.server = ActionServer(
            self,
            Plan,
            "planner/plan",
            execute_callback=self._execute,
            goal_callback=lambda _g: GoalResponse.ACCEPT,
            handle_accepted_callback=self._on_accepted,
            cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=group,
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
            self._state_error = f"{self.state_topic}: {exc}"
            return
        if msg.header.frame_id not in ("world", ""):
            self._state_error = f"{self.state_topic} frame_id {msg.header.frame_id!r} != 'world'"
            return
        with self._state_cv:
            self._state_seq += 1
            self._state = (self._state_seq, pts, msg.header.stamp)
            self._state_cv.notify_all()

    def _wait_state(self, run: GoalRun, after: int, timeout: float):
        """The first observed state newer than sequence number ``after`` (bounded wait)."""
        deadline = time.monotonic() + timeout
        with self._state_cv:
            while self._state is None or self._state[0] <= after:
                self._check_stop(run)
                left = deadline - time.monotonic()
                if left <= 0:
                    extra = f" ({self._state_error})" if self._state_error else ""
                    raise Stop(
                        R.STATUS_FAILED,
                        f"no observed state on {self.state_topic} within {timeout:.1f} s{extra}",
                    )
                self._state_cv.wait(min(left, 0.1))
            return self._state

    def _settled_state(self, run: GoalRun):
        """Wait until consecutive observations differ by less than settle_threshold."""
        p = self.params
        seq, prev, stamp = self._wait_state(run, self._state_seq, p["state_timeout"])
        deadline = time.monotonic() + p["settle_timeout"]
        while time.monotonic() < deadline:
            seq, cur, stamp = self._wait_state(run, seq, p["state_timeout"])
            if cur.shape == prev.shape and float(np.abs(cur - prev).max()) < p["settle_threshold"]:
                break
            prev = cur
        return seq, prev, stamp

    # --- goals ------------------------------------------------------------------------------
    def _on_accepted(self, handle) -> None:
        with self._active_lock:
            if self._active is not None:
                self._active.preempted.set()
        handle.execute()

    def _check_stop(self, run: GoalRun) -> None:
        if run.preempted.is_set():
            raise Stop(R.STATUS_PREEMPTED, "preempted by a new goal")
        if run.handle.is_cancel_requested:
            raise Stop(R.STATUS_CANCELED, "canceled")
        if not rclpy.ok():
            raise Stop(R.STATUS_FAILED, "shutting down")

    def _execute(self, handle) -> Plan.Result:
        run = GoalRun(handle)
        with self._active_lock:
            if self._active is not None:
                self._active.preempted.set()
        # the preempted goal ends at its next check (an MPPI iteration or push feedback)
        if not self._goal_lock.acquire(timeout=self.params["execute_timeout"]):
            return self._end(run, R.STATUS_FAILED, "previous goal did not stop in time")
        try:
            with self._active_lock:
                self._active = run
            run.result.used_oracle_state = self.oracle
            try:
                status, message = self._run_goal(run)
            except Stop as stop:
                status, message = stop.status, stop.message
            except Exception as exc:  # keep serving; report the failure
                self.get_logger().error(traceback.format_exc())
                status, message = R.STATUS_FAILED, f"planner error: {exc}"
            return self._end(run, status, message)
        finally:
            with self._active_lock:
                if self._active is run:
                    self._active = None
            self._goal_lock.release()

    def _end(self, run: GoalRun, status: int, message: str) -> Plan.Result:
        res = run.result
        res.status, res.message = int(status), message
        text = f"goal ended: status {status}: {message}"
        if status == R.STATUS_SUCCEEDED:  # one call site per severity (an rclpy rule)
            self.get_logger().info(text)
        else:
            self.get_logger().warning(text)
        if status == R.STATUS_SUCCEEDED:
            run.handle.succeed()
        elif status == R.STATUS_CANCELED and run.handle.is_cancel_requested:
            run.handle.canceled()
        else:
            run.handle.abort()
        return res

    def _target(self, goal, dense: np.ndarray | None) -> np.ndarray:
        """The goal's validated target (M, 3); presets need the observed state ``dense``."""
        margin = self.params["target_margin"]
        try:
            if goal.target_preset:
                pts = preset_target(
                    goal.target_preset,
                    dense,
                    goal.preset_x,
                    goal.preset_y,
                    goal.preset_yaw,
                    goal.preset_length,
                    min(len(dense), MAX_COST_POINTS),
                )
                return check_target(pts, self.workspace, margin)
            try:
                pts = cloud_to_xyz(goal.target_cloud)
            except CloudFormatError as exc:
                raise InvalidTargetError(f"target_cloud: {exc}") from exc
            return check_target(pts, self.workspace, margin, goal.target_cloud.header.frame_id)
        except InvalidTargetError as exc:
            raise Stop(R.STATUS_INVALID_GOAL, f"invalid goal: {exc}") from exc

    def _check_goal(self, goal) -> tuple[int, float]:
        p = self.params
        if goal.target_preset and goal.target_preset not in PRESETS:
            raise Stop(
                R.STATUS_INVALID_GOAL,
                f"invalid goal: target_preset = {goal.target_preset!r} is not one of "
                f"{['', *PRESETS]}",
            )
        if not math.isfinite(goal.tolerance):
            raise Stop(R.STATUS_INVALID_GOAL, f"invalid goal: tolerance = {goal.tolerance}")
        if goal.max_pushes > p["max_pushes_limit"]:
            raise Stop(
                R.STATUS_INVALID_GOAL,
                f"invalid goal: max_pushes = {goal.max_pushes} exceeds the limit "
                f"{p['max_pushes_limit']}",
            )
        if not goal.target_preset and goal.target_cloud.width * goal.target_cloud.height == 0:
            raise Stop(R.STATUS_INVALID_GOAL, "invalid goal: target_cloud is empty (0 points)")
        max_pushes = goal.max_pushes or p["default_max_pushes"]
        tol = goal.tolerance if goal.tolerance > 0 else p["default_tolerance"]
        return max_pushes, tol

    def _run_goal(self, run: GoalRun) -> tuple[int, str]:
        goal = run.handle.request
        res = run.result
        max_pushes, tol = self._check_goal(goal)
        target = None if goal.target_preset else self._target(goal, None)
        _, dense, stamp = self._wait_state(run, 0, self.params["state_timeout"])
        if target is None:
            target = self._target(goal, dense)
        self.pub_target.publish(xyz_to_cloud(target, "world", stamp))
        self.planner.reset(self.params["seed"])
        prev_push = None
        for k in range(max_pushes + 1):
            try:
                particles = self.model.control_particles(dense)
            except ValueError as exc:
                return R.STATUS_FAILED, f"observed state on {self.state_topic} unusable: {exc}"
            problem = make_problem(particles, dense, target, self.model.device, prev_push)
            observed = float(shape_cost(problem.particles[None], problem, self.cost_cfg.kind)[0])
            res.final_cost = observed
            if goal.execute:
                if observed <= tol:
                    return R.STATUS_SUCCEEDED, (
                        f"cost {observed:.4f} m <= tolerance {tol:.4f} m after {k} pushes"
                    )
                if k == max_pushes:
                    return R.STATUS_MAX_PUSHES, (
                        f"cost {observed:.4f} m > tolerance {tol:.4f} m after {k} pushes"
                    )
            plan = self._plan(run, problem, k, stamp)
            res.predicted_states = self._states_msg(plan, stamp)
            self.pub_pred.publish(res.predicted_states)
            if not goal.execute:
                res.pushes = [_push_msg(v) for v in plan.pushes]
                res.final_cost = plan.shape_cost
                return R.STATUS_SUCCEEDED, (
                    f"planned {len(plan.pushes)} push(es): predicted cost {plan.shape_cost:.4f} m "
                    f"(observed {observed:.4f} m), {plan.rollouts} rollouts in "
                    f"{plan.seconds:.2f} s"
                )
            push = plan.pushes[0]
            res.pushes.append(_push_msg(push))
            self._execute_push(run, push)
            res.pushes_executed += 1
            prev_push = push
            _, dense, stamp = self._settled_state(run)
            after = make_problem(
                self.model.control_particles(dense), dense, target, self.model.device
            )
            res.cost_per_push.append(
                float(shape_cost(after.particles[None], after, self.cost_cfg.kind)[0])
            )
        return R.STATUS_MAX_PUSHES, "push budget spent"  # not reached

    def _plan(self, run: GoalRun, problem, k: int, stamp) -> PlanResult:
        self._check_stop(run)

        def progress(it, best_cost, pushes, states) -> bool:
            fb = Plan.Feedback(push_index=k, mppi_iteration=it, best_cost=float(best_cost))
            if self.params["feedback_states"] and states.ndim == 3 and states.shape[1] > 1:
                fb.predicted_states = PredictedStates(
                    header=make_header("world", stamp),
                    num_steps=states.shape[0] - 1,
                    num_particles=states.shape[1],
                    positions=states.astype(np.float32).ravel().tolist(),
                    pushes=[_push_msg(v) for v in pushes],
                )
            run.handle.publish_feedback(fb)
            try:
                self._check_stop(run)
            except Stop:
                return True
            return False

        try:
            return self.planner.plan(problem, progress)
        except PlanCanceled:
            self._check_stop(run)  # raises the Stop with the reason
            raise

    def _states_msg(self, plan: PlanResult, stamp) -> PredictedStates:
        return PredictedStates(
            header=make_header("world", stamp),
            num_steps=plan.states.shape[0] - 1,
            num_particles=plan.states.shape[1],
            positions=plan.states.astype(np.float32).ravel().tolist(),
            ee_positions=plan.tool.astype(np.float32).ravel().tolist(),
            push_start_step=[int(s) for s in plan.push_start_step],
            pushes=[_push_msg(v) for v in plan.pushes],
            cost=[float(c) for c in plan.cost_per_push],
        )

    def _wait_future(self, run: GoalRun, future, timeout: float, what: str, on_stop=None):
        done = threading.Event()
        future.add_done_callback(lambda _f: done.set())
        deadline = time.monotonic() + timeout
        while not done.wait(0.05):
            try:
                self._check_stop(run)
            except Stop:
                if on_stop is not None:
                    on_stop()
                raise
            if time.monotonic() > deadline:
                raise Stop(R.STATUS_FAILED, f"{what}: no answer within {timeout:.0f} s")
        return future.result()

    def _execute_push(self, run: GoalRun, push: np.ndarray) -> None:
        p = self.params
        if not self.push_client.wait_for_server(timeout_sec=min(5.0, p["execute_timeout"])):
            raise Stop(R.STATUS_FAILED, "robot/execute_push is not available")
        ex, ey = push_end(push)
        height = p["push_height"] if p["push_height"] > 0 else self.model.cfg.push_height
        goal = ExecutePush.Goal(
            start=Point(x=float(push[0]), y=float(push[1]), z=0.0),
            end=Point(x=ex, y=ey, z=0.0),
            height=float(height),
            speed=float(p["push_speed"]),
        )
        gh = self._wait_future(
            run, self.push_client.send_goal_async(goal), 10.0, "robot/execute_push goal"
        )
        if not gh.accepted:
            raise Stop(R.STATUS_FAILED, "robot/execute_push rejected the goal")
        result = self._wait_future(
            run,
            gh.get_result_async(),
            p["execute_timeout"],
            "robot/execute_push",
            on_stop=gh.cancel_goal_async,
        ).result
        if result.status != ExecutePush.Result.STATUS_SUCCEEDED:
            raise Stop(
                R.STATUS_FAILED,
                f"push ({push[0]:.3f}, {push[1]:.3f}, {push[2]:.3f} rad, {push[3]:.3f} m) "
                f"failed: {result.message}",
            )


def _push_msg(v) -> Push:
    return Push(x=float(v[0]), y=float(v[1]), theta=float(v[2]), length=float(v[3]))


def main(args=None) -> None:
    sys.exit(run_node(PlannerNode, args, num_threads=4))


if __name__ == "__main__":
    main()
