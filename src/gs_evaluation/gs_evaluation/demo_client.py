"""Demo client of ``planner/plan``: straighten the rope with MPC and save an image sequence.

Used by the bringup's demo (``make demo``)::

    from gs_evaluation.demo_client import straighten_rope
    result = straighten_rope(node, executor, out_dir="out/demo/planning", oracle=True)

Every plan the planner publishes on ``dynamics/predicted_states`` (one per push) becomes a
top-down image ``push_XX.png`` (observed points, target line, planned push, predicted
particles); ``final.png`` shows the end state. Prints the pushes, the cost after each push
and the final cost.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from rclpy.action import ActionClient
from sensor_msgs.msg import PointCloud2

from gs_common.names import (
    GT_POINTS_TOPIC,
    PLAN_ACTION,
    PLANNER_TARGET,
    PREDICTED_STATES,
    TRACKING_PARTICLES,
)
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS, STATE_QOS
from gs_dynamics_interfaces.action import Plan
from gs_dynamics_interfaces.msg import PredictedStates
from gs_mppi_planner.plots import save_topdown
from gs_mppi_planner.targets import principal_yaw

STATUS_NAMES = {
    Plan.Result.STATUS_SUCCEEDED: "SUCCEEDED",
    Plan.Result.STATUS_MAX_PUSHES: "MAX_PUSHES",
    Plan.Result.STATUS_INVALID_GOAL: "INVALID_GOAL",
    Plan.Result.STATUS_CANCELED: "CANCELED",
    Plan.Result.STATUS_PREEMPTED: "PREEMPTED",
    Plan.Result.STATUS_FAILED: "FAILED",
}


def _spin_until(executor, predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.05)
    return predicate()


def straighten_rope(
    node,
    executor,
    out_dir: str | Path = "out/demo/planning",
    x: float = 0.0,
    y: float = 0.0,
    yaw: float | None = None,
    length: float = 0.0,
    max_pushes: int = 8,
    tolerance: float = 0.0,
    oracle: bool = False,
    timeout: float = 600.0,
    log=print,
) -> Plan.Result | None:
    """Send a ``straight_line`` goal (centre (x, y) [m]; yaw [rad], None: the rope's
    principal axis; length [m], <= 0: the rope's length) with ``execute=True`` and wait for
    the result, spinning ``executor`` (which must hold ``node``). ``oracle`` selects which
    observed topic the images show (the planner's own choice is its ``oracle_state``).
    Returns the result, or None when the server or the state did not come up in time."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    topic = GT_POINTS_TOPIC if oracle else TRACKING_PARTICLES
    seen: dict[str, object] = {"state": None, "target": None}
    plans: list[tuple[PredictedStates, np.ndarray | None]] = []

    def on_state(msg):
        seen["state"] = cloud_to_xyz(msg)

    def on_target(msg):
        seen["target"] = cloud_to_xyz(msg)

    def on_plan(msg):
        plans.append((msg, None if seen["state"] is None else np.array(seen["state"])))

    subs = [
        node.create_subscription(PointCloud2, topic, on_state, SENSOR_QOS),
        node.create_subscription(PointCloud2, PLANNER_TARGET, on_target, LATCHED_QOS),
        node.create_subscription(PredictedStates, PREDICTED_STATES, on_plan, STATE_QOS),
    ]
    client = ActionClient(node, Plan, PLAN_ACTION)
    try:
        if not _spin_until(executor, client.server_is_ready, 60.0):
            log(f"{PLAN_ACTION} is not available")
            return None
        if yaw is None:
            if not _spin_until(executor, lambda: seen["state"] is not None, 30.0):
                log(f"no observed state on {topic}")
                return None
            yaw = principal_yaw(seen["state"])
        goal = Plan.Goal(
            target_preset="straight_line",
            preset_x=float(x),
            preset_y=float(y),
            preset_yaw=float(yaw),
            preset_length=float(length),
            max_pushes=int(max_pushes),
            tolerance=float(tolerance),
            execute=True,
        )
        log(
            f"goal: straight line at ({x:.3f}, {y:.3f}) m, yaw {math.degrees(yaw):.0f} deg, "
            f"max {max_pushes} pushes"
        )
        send = client.send_goal_async(goal)
        if not _spin_until(executor, send.done, 30.0) or not send.result().accepted:
            log("goal was not accepted")
            return None
        result_future = send.result().get_result_async()
        saved = 0
        deadline = time.monotonic() + timeout
        while not result_future.done() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
            saved = _save_plans(plans, saved, seen, out, log)
        if not result_future.done():
            log(f"no result within {timeout:.0f} s")
            return None
        _spin_until(executor, lambda: False, 0.3)  # the last prediction / state messages
        _save_plans(plans, saved, seen, out, log)
        res = result_future.result().result
        _report(res, seen, out, log)
        return res
    finally:
        for s in subs:
            node.destroy_subscription(s)
        client.destroy()


def _save_plans(plans, saved, seen, out: Path, log) -> int:
    target = seen["target"]
    while saved < len(plans) and target is not None:
        msg, observed = plans[saved]
        if observed is None:
            observed = np.zeros((0, 3))
        pos = np.array(msg.positions, np.float32).reshape(-1, msg.num_particles, 3)
        push = msg.pushes[0] if msg.pushes else None
        cost = msg.cost[-1] if len(msg.cost) else float("nan")
        save_topdown(
            out / f"push_{saved:02d}.png",
            observed,
            target,
            f"push {saved}: predicted cost {cost * 1000:.1f} mm",
            None if push is None else (push.x, push.y, push.theta, push.length),
            pos[-1],
        )
        if push is not None:
            log(
                f"push {saved}: ({push.x:+.3f}, {push.y:+.3f}) m, theta "
                f"{math.degrees(push.theta):+.0f} deg, {push.length * 100:.1f} cm; "
                f"predicted cost {cost * 1000:.1f} mm"
            )
        saved += 1
    return saved


def _report(res, seen, out: Path, log) -> None:
    status = STATUS_NAMES.get(res.status, str(res.status))
    for i, c in enumerate(res.cost_per_push):
        log(f"cost after push {i}: {c * 1000:.1f} mm")
    log(
        f"result {status}: {res.message}; {res.pushes_executed} pushes, final cost "
        f"{res.final_cost * 1000:.1f} mm (Chamfer distance to the target line), observed via "
        f"{'simulator ground truth' if res.used_oracle_state else 'tracking'}"
    )
    if seen["state"] is not None and seen["target"] is not None:
        save_topdown(
            out / "final.png",
            seen["state"],
            seen["target"],
            f"{status}: {res.pushes_executed} pushes, cost {res.final_cost * 1000:.1f} mm",
        )
