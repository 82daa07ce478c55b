"""gs_robot_model end to end: the simulator and the robot_model node in their own processes.

The node renders robot masks for the simulator's cameras from robot/joint_states and
cameras/rig; they are compared with the simulator's ground-truth robot masks (IoU, matched by
stamp), and its robot/ee_pose with the simulator's pusher-tip pose.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import Image, JointState

from gs_common.ros.image import image_to_numpy, numpy_to_image
from gs_common.ros.qos import SENSOR_QOS
from gs_dynamics_interfaces.srv import EstimateRobotPose
from ros_harness import start_sim

pytestmark = pytest.mark.timeout(300)

CAMS = ["cam0", "cam1", "cam2", "cam3"]
#: Where the simulator publishes its ground-truth robot masks (evaluation only).
GT_ROBOT_MASK_TOPIC = "sim/ground_truth/{cam}/robot_mask"
#: Where the node under test publishes (kept apart from the simulator's topic).
MODEL_MASK_TOPIC = "robot_model/{cam}/robot_mask"
MIN_MEAN_IOU = 0.85


@pytest.fixture
def sim_and_model(process_manager):
    env = {"MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    sim = start_sim(
        process_manager,
        object="rope",
        seed=3,
        image_width=160,
        image_height=120,
        fps=5.0,
        publish_ground_truth=False,
    )
    model = process_manager.start(
        "robot_model",
        [
            sys.executable,
            "-m",
            "gs_robot_model.robot_model_node",
            "--ros-args",
            "-p",
            f"mask_topic:={MODEL_MASK_TOPIC}",
            "-p",
            "device:=cpu",
            "-r",
            "robot/ee_pose:=robot_model/ee_pose",
        ],
        env=env,
    )
    sim.wait_for_output("sim ready", timeout=120)
    model.wait_for_output("robot_model ready", timeout=120)
    return sim, model


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def test_node_masks_and_ee_pose_match_the_simulator(sim_and_model, rclpy_node):
    sim, model = sim_and_model
    t = rclpy_node
    gt, pred = {}, {}  # (cam, stamp ns) -> mask
    poses = {"sim": {}, "model": {}}

    def stamp_ns(msg):
        return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec

    def mask_cb(store, cam):
        return lambda m: store.__setitem__((cam, stamp_ns(m)), image_to_numpy(m) > 127)

    for cam in CAMS:
        t.node.create_subscription(
            Image, GT_ROBOT_MASK_TOPIC.format(cam=cam), mask_cb(gt, cam), SENSOR_QOS
        )
        t.node.create_subscription(
            Image, MODEL_MASK_TOPIC.format(cam=cam), mask_cb(pred, cam), SENSOR_QOS
        )
    joints = []
    t.node.create_subscription(JointState, "robot/joint_states", joints.append, SENSOR_QOS)
    for who, topic in (("sim", "robot/ee_pose"), ("model", "robot_model/ee_pose")):
        t.node.create_subscription(
            PoseStamped,
            topic,
            lambda m, w=who: poses[w].__setitem__(stamp_ns(m), m.pose.position),
            SENSOR_QOS,
        )

    def matched():
        return [k for k in pred if k in gt]

    ok = t.spin_until(
        lambda: len({c for c, _ in matched()}) == len(CAMS) and len(matched()) >= 8, 150
    )
    assert ok, f"matched masks {len(matched())} (node published {len(pred)}, sim {len(gt)})"
    ious = {}
    for cam, s in matched():
        assert pred[(cam, s)].shape == (120, 160)
        ious.setdefault(cam, []).append(_iou(pred[(cam, s)], gt[(cam, s)]))
    per_cam = {c: float(np.mean(v)) for c, v in ious.items()}
    mean_iou = float(np.mean([x for v in ious.values() for x in v]))
    print(f"robot mask IoU vs simulator ground truth: mean {mean_iou:.4f}, per camera {per_cam}")
    assert mean_iou >= MIN_MEAN_IOU, f"mean IoU {mean_iou:.4f} per camera {per_cam}"

    assert t.spin_until(lambda: len(set(poses["sim"]) & set(poses["model"])) >= 3, 30)
    for s in set(poses["sim"]) & set(poses["model"]):
        a, b = poses["sim"][s], poses["model"][s]
        err = np.linalg.norm([a.x - b.x, a.y - b.y, a.z - b.z])
        assert err < 1e-3, f"EE position differs by {err * 1000:.2f} mm"

    # pose estimation service: the simulator's robot masks of one frame, a perturbed guess
    stamp = max(s for c, s in matched() if all((cam, s) in gt for cam in CAMS))
    q_true = np.array(joints[-1].position[:7])  # the arm rests (no push in this test)
    noise = np.array([0.06, -0.05, 0.05, -0.06, 0.05, -0.05, 0.04])
    client = t.node.create_client(EstimateRobotPose, "robot_model/estimate_pose")
    assert client.wait_for_service(timeout_sec=30)
    req = EstimateRobotPose.Request(
        cameras=CAMS,
        images=[
            numpy_to_image(gt[(c, stamp)].astype(np.uint8) * 255, "mono8", None, c) for c in CAMS
        ],
        initial_positions=list(q_true + noise),
        iterations=60,
    )
    res = t.wait_future(client.call_async(req), 240)
    assert res.success, res.message
    err = np.degrees(np.abs(np.array(res.positions) - q_true))
    print(f"estimate_pose from 4 simulator masks: {res.message}; error per joint {err} deg")
    assert err[:6].mean() < np.degrees(np.abs(noise[:6])).mean()
    bad_req = EstimateRobotPose.Request(cameras=["nope"], images=req.images[:1])
    bad = t.wait_future(client.call_async(bad_req), 30)
    assert not bad.success and "'nope'" in bad.message
    assert sim.alive() and model.alive()


def test_invalid_parameter_exits_with_a_message(process_manager):
    proc = process_manager.start(
        "robot_model_bad",
        [sys.executable, "-m", "gs_robot_model.robot_model_node", "--ros-args",
         "-p", "mask_topic:=masks/robot"],
    )  # fmt: skip
    assert proc.proc.wait(timeout=90) == 2
    out = proc.output()
    assert "mask_topic" in out and "masks/robot" in out and "Traceback" not in out
