"""gs_sim end to end: the sim node in its own process, observed from this process over DDS.

Receives every topic of DESIGN.md section 4 that the simulator publishes, executes a push
through ``robot/execute_push``, sees the rope move (ground truth) and the images change, and
sees a bad push rejected with a clear message while the node keeps running.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from geometry_msgs.msg import Point, PoseStamped
from rclpy.action import ActionClient
from sensor_msgs.msg import CameraInfo, Image, JointState, PointCloud2

from gs_common.ros.image import image_to_numpy
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_dynamics_interfaces.action import ExecutePush
from gs_dynamics_interfaces.msg import CameraRig
from ros_harness import start_sim

pytestmark = pytest.mark.timeout(240)

CAMS = ["cam0", "cam1", "cam2", "cam3"]


@pytest.fixture
def sim(process_manager):
    proc = start_sim(
        process_manager,
        object="rope",
        seed=3,
        image_width=160,
        image_height=120,
        publish_ground_truth=True,
    )
    proc.wait_for_output("sim ready", timeout=90)
    return proc


class Latest:
    """Keeps the latest message and a count per topic."""

    def __init__(self):
        self.msgs, self.counts = {}, {}

    def __call__(self, topic):
        def cb(msg):
            self.msgs[topic] = msg
            self.counts[topic] = self.counts.get(topic, 0) + 1

        return cb


def _push_goal(start, end, height=0.0, speed=0.15):
    goal = ExecutePush.Goal()
    goal.start = Point(x=float(start[0]), y=float(start[1]), z=0.0)
    goal.end = Point(x=float(end[0]), y=float(end[1]), z=0.0)
    goal.height, goal.speed = float(height), float(speed)
    return goal


def _run_goal(t, client, goal, timeout):
    feedback = []
    handle = t.wait_future(client.send_goal_async(goal, feedback_callback=feedback.append), 20)
    assert handle.accepted
    result = t.wait_future(handle.get_result_async(), timeout).result
    return result, feedback


def test_sim_topics_push_and_rejection(sim, rclpy_node):
    t = rclpy_node
    latest = Latest()
    topics = {
        "cameras/rig": (CameraRig, LATCHED_QOS),
        "robot/joint_states": (JointState, SENSOR_QOS),
        "robot/ee_pose": (PoseStamped, SENSOR_QOS),
        "sim/ground_truth/object_points": (PointCloud2, SENSOR_QOS),
    }
    for cam in CAMS:
        topics[f"cameras/{cam}/color/image_raw"] = (Image, SENSOR_QOS)
        topics[f"cameras/{cam}/depth/image_raw"] = (Image, SENSOR_QOS)
        topics[f"cameras/{cam}/color/camera_info"] = (CameraInfo, SENSOR_QOS)
    for topic, (msg_type, qos) in topics.items():
        t.node.create_subscription(msg_type, topic, latest(topic), qos)
    want = {k: (1 if k == "cameras/rig" else 2) for k in topics}  # the rig is latched, once
    assert t.spin_until(lambda: all(latest.counts.get(k, 0) >= n for k, n in want.items()), 60), (
        f"missing topics: {sorted(k for k, n in want.items() if latest.counts.get(k, 0) < n)}"
    )

    rig = latest.msgs["cameras/rig"]
    assert list(rig.names) == CAMS and len(rig.world_from_camera) == 4
    assert all(p.position.z > 0.3 for p in rig.world_from_camera)
    assert rig.color_info[0].width == 160 and list(rig.depth_scale) == pytest.approx([0.001] * 4)
    color = image_to_numpy(latest.msgs["cameras/cam1/color/image_raw"])
    depth = image_to_numpy(latest.msgs["cameras/cam1/depth/image_raw"])
    assert color.shape == (120, 160, 3) and depth.shape == (120, 160)
    assert latest.msgs["cameras/cam1/depth/image_raw"].encoding == "16UC1"
    assert 300 < np.median(depth[depth > 0]) < 2000  # table ~0.5-1 m away, in mm
    js = latest.msgs["robot/joint_states"]
    assert list(js.name) == [f"joint{i}" for i in range(1, 8)]
    rope_before = cloud_to_xyz(latest.msgs["sim/ground_truth/object_points"])
    img_before = {c: image_to_numpy(latest.msgs[f"cameras/{c}/color/image_raw"]) for c in CAMS}

    client = ActionClient(t.node, ExecutePush, "robot/execute_push")
    assert t.spin_until(client.server_is_ready, 20)

    # a push outside the workspace is rejected with a message naming the value
    result, _ = _run_goal(t, client, _push_goal((1.5, 0.0), (1.6, 0.0)), 20)
    assert result.status == ExecutePush.Result.STATUS_REJECTED
    assert "start" in result.message and "outside the workspace" in result.message
    result, _ = _run_goal(t, client, _push_goal((0.0, float("nan")), (0.1, 0.0)), 20)
    assert result.status == ExecutePush.Result.STATUS_REJECTED and "not finite" in result.message

    # push through the rope's centre, perpendicular to its main axis
    centre = rope_before.mean(axis=0)
    axis = np.linalg.svd(rope_before[:, :2] - centre[:2])[2][0]
    normal = np.array([-axis[1], axis[0]])
    start, end = centre[:2] - 0.10 * normal, centre[:2] + 0.06 * normal
    result, feedback = _run_goal(t, client, _push_goal(start, end), 120)
    assert result.status == ExecutePush.Result.STATUS_SUCCEEDED, result.message
    assert feedback and max(f.feedback.progress for f in feedback) == pytest.approx(1.0)
    assert result.duration > 0

    # fresh frames after the push
    counts = dict(latest.counts)
    assert t.spin_until(
        lambda: all(
            latest.counts.get(k, 0) > counts.get(k, 0) + 1 for k in topics if k != "cameras/rig"
        ),
        30,
    )
    rope_after = cloud_to_xyz(latest.msgs["sim/ground_truth/object_points"])
    moved = np.linalg.norm(rope_after - rope_before, axis=1)
    assert moved.max() > 0.02, f"rope moved at most {moved.max():.4f} m"
    changed = [
        np.abs(
            image_to_numpy(latest.msgs[f"cameras/{c}/color/image_raw"]).astype(int) - img_before[c]
        ).mean()
        for c in CAMS
    ]
    assert max(changed) > 0.5, f"images did not change: {changed}"

    # the node keeps running and still serves pushes after rejections
    result, _ = _run_goal(t, client, _push_goal((0.0, 0.0), (0.0, 0.0005)), 20)
    assert result.status == ExecutePush.Result.STATUS_REJECTED and "length" in result.message
    assert sim.alive()


def test_invalid_parameter_exits_with_a_message(process_manager):
    proc = start_sim(process_manager, name="sim_bad", fps=500.0)
    assert proc.proc.wait(timeout=60) == 2
    assert "parameter 'fps' = 500.0" in proc.output() and "Traceback" not in proc.output()
