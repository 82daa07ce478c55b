"""Demo client of ``planner/plan``: straighten the rope with MPC, film it, score it.

Used by the bringup's demo (``make demo``)::

    from gs_evaluation.demo_client import straighten_rope
    result = straighten_rope(node, executor, out_dir="out/demo", oracle=False)

The client is what a user's robot code would be: it sends a ``straight_line`` goal with
``execute=True`` and waits for the result. Around that it records, for the user to see:

- ``demo.mp4``: one camera's view (``camera``) with the planner's observed state (green),
  the state the learned dynamics predicts at the end of the planned push (blue), the
  target line (white) and the planned push (red arrow) drawn over it (gs_viz.overlay);
- ``push_XX.png`` / ``final.png``: top-down views of every plan and of the end state;
- ``errors.png``: the error after every push, as the planner observed it and as the
  simulator's ground truth has it.

Ground truth (``sim/ground_truth/object_points``) is read only to SCORE the run ("true
error"); the planner observes whatever its ``oracle_state`` says, and ``oracle`` here only
tells the client which topic that is.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from rclpy.action import ActionClient
from sensor_msgs.msg import Image, PointCloud2

from gs_common.names import (
    CAMERAS_RIG,
    GT_POINTS_TOPIC,
    OBJECT_CLOUD,
    PLAN_ACTION,
    PLANNER_TARGET,
    PREDICTED_STATES,
    color_image_topic,
)
from gs_common.ros.image import image_to_numpy
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS, STATE_QOS
from gs_common.ros.rig import rig_from_msg
from gs_dynamics_interfaces.action import Plan
from gs_dynamics_interfaces.msg import CameraRig, PredictedStates
from gs_evaluation.plan_episode import task_error
from gs_mppi_planner.mpc import GoalLimits
from gs_mppi_planner.plots import plot_demo_errors, save_topdown
from gs_mppi_planner.targets import principal_yaw

STATUS_NAMES = {
    Plan.Result.STATUS_SUCCEEDED: "SUCCEEDED",
    Plan.Result.STATUS_MAX_PUSHES: "MAX_PUSHES",
    Plan.Result.STATUS_INVALID_GOAL: "INVALID_GOAL",
    Plan.Result.STATUS_CANCELED: "CANCELED",
    Plan.Result.STATUS_PREEMPTED: "PREEMPTED",
    Plan.Result.STATUS_FAILED: "FAILED",
}
LEGEND = "green: observed  blue: predicted  white: target  red: push"


def _spin_until(executor, predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.05)
    return predicate()


class _Film:
    """The demo video: frames of ``camera`` at most ``fps`` per second of wall time, each
    with the current layers drawn over it, streamed to ``path`` (gs_viz.overlay)."""

    def __init__(self, path: Path, camera: str, fps: float, speedup: float):
        from gs_viz.overlay import VideoWriter, overlay

        self._overlay = overlay
        self.camera, self.period = camera, 1.0 / fps
        self.writer = VideoWriter(path, fps * speedup)
        self.cam = None  # (intrinsics, world_from_camera)
        self.layers: dict = {}
        self.lines: list[str] = []
        self.last = -math.inf
        self.error = ""

    def on_rig(self, msg) -> None:
        try:
            names, intr, poses = rig_from_msg(msg)
        except ValueError as exc:
            self.error = f"{CAMERAS_RIG}: {exc}"
            return
        if self.camera not in names:
            self.error = f"camera {self.camera!r} is not in the rig {names}"
            return
        i = names.index(self.camera)
        self.cam = (intr[i], poses[i])

    def on_image(self, msg) -> None:
        now = time.monotonic()
        if self.cam is None or now - self.last < self.period:
            return
        self.last = now
        try:
            frame = self._overlay(image_to_numpy(msg), *self.cam, **self.layers, lines=self.lines)
        except ValueError as exc:  # e.g. an image of another size than the rig says
            self.error = f"{color_image_topic(self.camera)}: {exc}"
            return
        self.writer.write(frame)


def straighten_rope(
    node,
    executor,
    out_dir: str | Path = "out/demo",
    x: float = 0.0,
    y: float = 0.0,
    yaw: float | None = None,
    length: float = 0.0,
    max_pushes: int = 8,
    tolerance: float = 0.0,
    oracle: bool = False,
    state_topic: str = OBJECT_CLOUD,
    timeout: float = 600.0,
    log=print,
    camera: str = "cam0",
    video_fps: float = 5.0,
    video_speedup: float = 2.0,
) -> Plan.Result | None:
    """Send a ``straight_line`` goal (centre (x, y) [m]; yaw [rad], None: the rope's
    principal axis; length [m], <= 0: the rope's length) with ``execute=True`` and wait for
    the result, spinning ``executor`` (which must hold ``node``); film it from ``camera``
    (``video_fps`` frames per wall-clock second, played ``video_speedup`` times faster).
    ``oracle``: the planner observes the simulator's ground truth (its ``oracle_state``),
    else ``state_topic`` (its ``state_source``'s topic). Returns the result, or None when the
    server or the state did not come up in time."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tol = tolerance if tolerance > 0 else GoalLimits().default_tolerance  # the planner's
    topic = GT_POINTS_TOPIC if oracle else state_topic
    seen: dict[str, object] = {"state": None, "target": None, "truth": None}
    plans: list[tuple[PredictedStates, np.ndarray | None]] = []
    truth_at_plan: list[float] = []  # true error when each plan was made [m]
    film = _Film(out / "demo.mp4", camera, video_fps, video_speedup)

    def true_error() -> float:
        if seen["truth"] is None or seen["target"] is None:
            return math.nan
        return task_error(seen["truth"], seen["target"])

    def on_state(msg):
        seen["state"] = cloud_to_xyz(msg)
        film.layers["observed"] = seen["state"]

    def on_truth(msg):
        seen["truth"] = cloud_to_xyz(msg)

    def on_target(msg):
        seen["target"] = cloud_to_xyz(msg)
        film.layers["target"] = seen["target"]

    def on_plan(msg):
        plans.append((msg, None if seen["state"] is None else np.array(seen["state"])))
        truth_at_plan.append(true_error())
        pos = np.array(msg.positions, np.float32).reshape(-1, msg.num_particles, 3)
        film.layers["predicted"] = pos[-1]
        if msg.pushes:
            p = msg.pushes[0]
            film.layers["push"] = np.array([p.x, p.y, p.theta, p.length])
        film.lines = [
            f"push {len(plans)} of <= {max_pushes}: true error "
            f"{truth_at_plan[-1] * 1000:.1f} mm, predicted after it "
            f"{(msg.cost[-1] if len(msg.cost) else math.nan) * 1000:.1f} mm",
            LEGEND,
        ]

    def on_oracle_state(msg):  # the planner observes the ground truth: it also scores
        on_state(msg)
        on_truth(msg)

    subs = [
        node.create_subscription(
            PointCloud2, topic, on_oracle_state if oracle else on_state, SENSOR_QOS
        ),
        node.create_subscription(PointCloud2, PLANNER_TARGET, on_target, LATCHED_QOS),
        node.create_subscription(PredictedStates, PREDICTED_STATES, on_plan, STATE_QOS),
        node.create_subscription(CameraRig, CAMERAS_RIG, film.on_rig, LATCHED_QOS),
        node.create_subscription(Image, color_image_topic(camera), film.on_image, SENSOR_QOS),
    ]
    if not oracle:  # scoring only
        subs.append(node.create_subscription(PointCloud2, GT_POINTS_TOPIC, on_truth, SENSOR_QOS))
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
        film.lines = ["planning the first push ...", LEGEND]
        send = client.send_goal_async(goal)
        if not _spin_until(executor, send.done, 30.0) or not send.result().accepted:
            log("goal was not accepted")
            return None
        result_future = send.result().get_result_async()
        saved = 0
        deadline = time.monotonic() + timeout
        while not result_future.done() and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
            saved = _save_plans(plans, saved, seen, truth_at_plan, out, log)
        if not result_future.done():
            log(f"no result within {timeout:.0f} s")
            return None
        res = result_future.result().result
        status = STATUS_NAMES.get(res.status, str(res.status))
        film.layers.pop("push", None)
        film.layers.pop("predicted", None)
        film.lines = [f"{status}: {res.pushes_executed} pushes", LEGEND]
        _spin_until(executor, lambda: False, 1.5)  # the last state / frames of the end
        _save_plans(plans, saved, seen, truth_at_plan, out, log)
        final_truth = true_error()
        film.lines[0] += f", true error {final_truth * 1000:.1f} mm"
        _spin_until(executor, lambda: False, 1.0)
        _report(res, seen, truth_at_plan, final_truth, tol, topic, out, log)
        return res
    finally:
        for s in subs:
            node.destroy_subscription(s)
        client.destroy()
        video = film.writer.close()
        if film.error:
            log(f"video: {film.error}")
        if video is not None:
            log(f"video: {video} ({film.writer.frames} frames, {video_speedup:g}x speed)")


def _save_plans(plans, saved, seen, truth_at_plan, out: Path, log) -> int:
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
                f"true error before it {truth_at_plan[saved] * 1000:.1f} mm, predicted "
                f"after it {cost * 1000:.1f} mm"
            )
        saved += 1
    return saved


def _report(res, seen, truth_at_plan, final_truth, tolerance, topic, out: Path, log) -> None:
    status = STATUS_NAMES.get(res.status, str(res.status))
    observed = [float(c) for c in res.cost_per_push]
    # a plan is made on every settled state: plan k + 1 follows push k; the last push has none
    truth = [
        truth_at_plan[i + 1] if i + 1 < len(truth_at_plan) else final_truth
        for i in range(len(observed))
    ]
    for i, c in enumerate(observed):
        log(
            f"after push {i}: error {c * 1000:.1f} mm as the planner observed it, "
            f"{truth[i] * 1000:.1f} mm true (ground truth, scoring only)"
        )
    log(
        f"result {status}: {res.message}; {res.pushes_executed} pushes, final cost "
        f"{res.final_cost * 1000:.1f} mm (Chamfer distance of the observed centreline to "
        "the target line), observed via "
        f"{'simulator ground truth (ORACLE)' if res.used_oracle_state else topic}; "
        f"true final error {final_truth * 1000:.1f} mm"
    )
    if seen["state"] is not None and seen["target"] is not None:
        save_topdown(
            out / "final.png",
            seen["state"],
            seen["target"],
            f"{status}: {res.pushes_executed} pushes, cost {res.final_cost * 1000:.1f} mm",
        )
    if truth_at_plan:
        plot_demo_errors(
            out / "errors.png",
            [truth_at_plan[0], *truth],
            [math.nan, *observed],
            tolerance,
            f"{status}: {res.pushes_executed} pushes",
        )
