"""planner -> push_executor (ros2_control backend) -> the simulator as the controller, over DDS.

Three processes: the sim (its own robot/execute_push remapped to sim/execute_push; the arm
follows JointTrajectory on arm_controller/joint_trajectory), push_executor (serves
robot/execute_push: IK, checks, trajectory, supervision) and the planner (oracle state,
small MPPI budget). One planned push is executed through the whole path and the rope's
resulting motion is compared with the simulator's own push executor running the same push
on the same workcell (in this process). Then: a limit rejection over ROS, and a cancel
mid-push (the arm stops, the pusher is lifted, then the result arrives).
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")
pytest.importorskip("pytorch_kinematics", reason="pytorch-kinematics is not installed")
pytest.importorskip("trajectory_msgs", reason="ros-trajectory-msgs is not installed")

from geometry_msgs.msg import Point, PoseArray, PoseStamped
from rclpy.action import ActionClient
from sensor_msgs.msg import PointCloud2

from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import SENSOR_QOS, STATE_QOS
from gs_dynamics_interfaces.action import ExecutePush, Plan
from ros_harness import REPO, start_sim

pytestmark = pytest.mark.timeout(300)

SEED = 1001
SIM_OVERRIDES = {"seed": SEED, "num_cameras": 1, "image_width": 32, "image_height": 24}
XR = ExecutePush.Result


@pytest.fixture
def nodes(process_manager):
    paths = [os.environ.get("PYTHONPATH", "")]
    for pkg in ("gs_gnn_dynamics", "gs_mppi_planner", "gs_push_executor"):
        if importlib.util.find_spec(pkg) is None:  # not colcon-built yet
            paths.insert(0, str(REPO / "src" / pkg))
    env = {"PYTHONPATH": os.pathsep.join(paths), "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    sim = start_sim(
        process_manager, "-r", "robot/execute_push:=sim/execute_push",
        params_file=REPO / "config/sim.yaml", env=env, **SIM_OVERRIDES, publish_masks=False,
    )  # fmt: skip
    executor = process_manager.start(
        "push_executor",
        [sys.executable, "-m", "gs_push_executor.push_executor_node", "--ros-args",
         "--params-file", str(REPO / "config/push_executor.yaml"), "-p", "backend:=ros2_control"],
        env=env,
    )  # fmt: skip
    planner = process_manager.start(
        "planner",
        [sys.executable, "-m", "gs_mppi_planner.planner_node", "--ros-args",
         "--params-file", str(REPO / "config/planner.yaml"),
         "-p", "oracle_state:=true", "-p", "device:=cpu", "-p", "num_samples:=16",
         "-p", "iterations:=2", "-p", "torch_threads:=1"],
        env=env,
    )  # fmt: skip
    sim.wait_for_output("sim ready", timeout=90)
    executor.wait_for_output("push_executor ready", timeout=90)
    planner.wait_for_output("planner ready", timeout=90)
    return sim, executor, planner


class Watch:
    """Latest ground-truth rope points, the tip poses and the executed paths."""

    def __init__(self, t):
        self.points, self.tips, self.executed = None, [], []
        n = t.node
        n.create_subscription(PointCloud2, "sim/ground_truth/object_points", self._pts, SENSOR_QOS)
        n.create_subscription(PoseStamped, "robot/ee_pose", self._tip, SENSOR_QOS)
        n.create_subscription(
            PoseArray, "push_executor/executed_path", self.executed.append, STATE_QOS
        )

    def _pts(self, msg):
        self.points = cloud_to_xyz(msg)

    def _tip(self, msg):
        p = msg.pose.position
        self.tips.append((p.x, p.y, p.z))


def _own_executor_result(push):
    """The same push executed by the simulator's own push executor, in-process."""
    from gs_sim.push import validate_push
    from gs_sim.settings import workcell_config
    from gs_sim.workcell import Workcell

    wc = Workcell(workcell_config(SIM_OVERRIDES), seed=SEED)
    p0 = wc.object_points()
    start = (push.x, push.y)
    end = (push.x + push.length * math.cos(push.theta), push.y + push.length * math.sin(push.theta))
    cfg = wc.config
    wc.start_push(validate_push(start, end, 0.005, 0.08, cfg.workspace, cfg.limits))
    while wc.busy:
        wc.step_frame()
    for _ in range(30):
        wc.step_frame()
    return p0, wc.object_points()


def test_planner_push_executor_sim_controller(nodes, rclpy_node):
    sim, executor, planner = nodes
    t = rclpy_node
    watch = Watch(t)
    assert t.spin_until(lambda: watch.points is not None and watch.tips, 30), "no sim state"

    # 1) planner -> push_executor -> sim-as-controller: one push
    plan_client = ActionClient(t.node, Plan, "planner/plan")
    assert t.spin_until(plan_client.server_is_ready, 30)
    p_before = watch.points.copy()
    h = t.wait_future(
        plan_client.send_goal_async(
            Plan.Goal(target_preset="straight_line", execute=True, max_pushes=1, tolerance=1e-4)
        ),
        30,
    )
    res = t.wait_future(h.get_result_async(), 180).result
    assert res.pushes_executed == 1, res.message
    assert res.status in (Plan.Result.STATUS_MAX_PUSHES, Plan.Result.STATUS_SUCCEEDED), res.message
    assert "push succeeded" in executor.output() and "following a joint trajectory" in sim.output()
    t.spin_until(lambda: False, 2.0)  # let the rope settle
    p_after = watch.points.copy()
    push = res.pushes[0]

    # the executed push (measured tip path published by push_executor) is the planned one
    assert t.spin_until(lambda: bool(watch.executed), 10)
    tip = np.array([[q.position.x, q.position.y, q.position.z] for q in watch.executed[0].poses])
    low = tip[np.abs(tip[:, 2] - 0.005) < 1.5e-3]
    assert len(low) > 10
    u = np.array([math.cos(push.theta), math.sin(push.theta)])
    rel = low[:, :2] - [push.x, push.y]
    along = rel @ u
    assert np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0]).max() < 3e-3  # on the line
    assert along.min() == pytest.approx(0.0, abs=5e-3)
    assert along.max() == pytest.approx(push.length, abs=5e-3)

    # the rope moves as with the simulator's own executor
    p0_own, p1_own = _own_executor_result(push)
    assert np.linalg.norm(p_before - p0_own, axis=1).max() < 2e-3  # same initial rope
    moved = np.linalg.norm(p_after - p_before, axis=1).mean()
    moved_own = np.linalg.norm(p1_own - p0_own, axis=1).mean()
    diff = np.linalg.norm(p_after - p1_own, axis=1)
    print(
        f"rope moved {moved * 1000:.1f} mm (own executor {moved_own * 1000:.1f} mm); "
        f"difference mean {diff.mean() * 1000:.2f} mm, max {diff.max() * 1000:.2f} mm"
    )
    assert moved > 0.005
    assert diff.mean() < 0.25 * moved_own and diff.mean() < 5e-3

    # 2) a limit rejection over ROS names the value; nothing moves
    push_client = ActionClient(t.node, ExecutePush, "robot/execute_push")
    assert t.spin_until(push_client.server_is_ready, 10)
    goal = ExecutePush.Goal(start=Point(x=0.5, y=0.0), end=Point(x=0.1, y=0.0), height=0.005)
    gh = t.wait_future(push_client.send_goal_async(goal), 10)
    r = t.wait_future(gh.get_result_async(), 30).result
    assert r.status == XR.STATUS_REJECTED and "start = (0.500, 0.000) m is outside" in r.message

    # 3) cancel mid-push: the arm stops, the pusher is lifted, then the result
    feedback = []
    goal = ExecutePush.Goal(
        start=Point(x=-0.1, y=0.15), end=Point(x=0.1, y=0.15), height=0.01, speed=0.05
    )
    gh = t.wait_future(
        push_client.send_goal_async(goal, feedback_callback=lambda m: feedback.append(m.feedback)),
        10,
    )
    assert t.spin_until(lambda: feedback and feedback[-1].progress > 0.2, 60), "push never started"
    t.wait_future(gh.cancel_goal_async(), 10)
    r = t.wait_future(gh.get_result_async(), 60).result
    assert r.status == XR.STATUS_CANCELED, r.message
    assert "arm stopped" in r.message and "pusher lifted to 0.150 m" in r.message, r.message
    assert r.final_tip.z == pytest.approx(0.15, abs=3e-3)
    # at result time the simulated arm is already up and no longer moving
    n = len(watch.tips)
    t.spin_until(lambda: False, 1.0)
    after = np.array(watch.tips[n:])
    assert len(after) > 3 and np.abs(after[:, 2] - 0.15).max() < 3e-3
    assert np.ptp(after, axis=0).max() < 1e-3
    # the push was stopped partway: at push height the tip never got near the end
    tips = np.array(watch.tips)
    pushing = tips[(np.abs(tips[:, 2] - 0.01) < 2e-3) & (np.abs(tips[:, 1] - 0.15) < 2e-3)]
    assert len(pushing) > 3
    assert -0.1 + 0.02 < pushing[:, 0].max() < 0.1 - 0.02
    assert executor.alive() and sim.alive() and planner.alive()


def test_dry_run_and_bad_goals_keep_the_node_serving(rclpy_node):
    """push_executor in this process with dry_run: true and a joint state source: bad goals
    and dry runs are answered with STATUS_REJECTED and a message; nothing is commanded."""
    import threading

    from rclpy.executors import MultiThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import JointState
    from trajectory_msgs.msg import JointTrajectory

    from gs_push_executor.push_executor_node import PushExecutorNode

    t = rclpy_node
    node = PushExecutorNode(
        context=t.context, parameter_overrides=[Parameter("dry_run", value=True)]
    )
    executor = MultiThreadedExecutor(num_threads=3, context=t.context)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        q = node.kin.solve(np.array([node.limits.retreat]), node.kin.home, iterations=200).q[0]
        js = JointState(name=node.kin.joint_names, position=[float(v) for v in q])
        pub = t.node.create_publisher(JointState, "robot/joint_states", SENSOR_QOS)
        t.node.create_timer(0.05, lambda: pub.publish(js))
        commands = []
        t.node.create_subscription(
            JointTrajectory, "arm_controller/joint_trajectory", commands.append, 10
        )
        client = ActionClient(t.node, ExecutePush, "robot/execute_push")
        assert t.spin_until(client.server_is_ready, 10)

        def run(**fields):
            gh = t.wait_future(client.send_goal_async(ExecutePush.Goal(**fields)), 10)
            return t.wait_future(gh.get_result_async(), 60).result

        r = run(start=Point(x=float("nan")), end=Point(x=0.1))
        assert r.status == XR.STATUS_REJECTED and "start.x = nan is not finite" in r.message
        r = run(start=Point(x=0.0, y=0.0), end=Point(x=0.1, y=0.0), speed=0.9)
        assert r.status == XR.STATUS_REJECTED and "speed = 0.900 m/s exceeds" in r.message
        r = run(start=Point(x=0.0, y=-0.1), end=Point(x=0.1, y=0.05))
        assert r.status == XR.STATUS_REJECTED, r.message
        assert r.message.startswith("dry run (nothing moved): push (0.000, -0.100)"), r.message
        assert r.final_tip.z == pytest.approx(node.limits.retreat[2], abs=1e-3)
        t.spin_until(lambda: False, 0.5)
        assert commands == []
    finally:
        executor.shutdown()
        node.destroy_node()
