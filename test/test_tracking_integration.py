"""The online tracking node tracks a live simulator stream (two node processes + this one)."""

import sys

import numpy as np
import pytest
from sensor_msgs.msg import PointCloud2

from gs_common.pointsets import chamfer_distance
from gs_common.ros.pointcloud2 import cloud_to_gaussians, cloud_to_xyz
from gs_common.ros.qos import SENSOR_QOS
from ros_harness import start_sim

pytestmark = pytest.mark.timeout(300)


def test_tracking_node_follows_the_simulated_rope(process_manager, rclpy_node):
    sim = start_sim(
        process_manager, object="rope", seed=5, image_width=160, image_height=120, fps=10.0
    )
    tracking = process_manager.start(
        "tracking",
        [
            sys.executable,
            "-m",
            "gs_tracking.tracking_node",
            "--ros-args",
            "-p",
            "first_frame_iterations:=30",
            "-p",
            "iterations:=3",
            "-p",
            "scale:=0.5",
            "-p",
            "particles:=40",
            "-p",
            "report_period:=1.0",
            "-p",
            "device:=cpu",
            "-p",
            "exclude:=robot",  # the (remapped) robot masks: no segmentation runs here
            # oracle: the simulator's ground-truth masks (sim/ground_truth/<cam>/...) stand in
            # for segmentation and the robot model here (see test_segmentation_integration.py)
            *[
                arg
                for cam in ("cam0", "cam1", "cam2", "cam3")
                for mask in ("object_mask", "robot_mask")
                for arg in ("-r", f"cameras/{cam}/{mask}:=sim/ground_truth/{cam}/{mask}")
            ],
        ],
    )
    sim.wait_for_output("sim ready", timeout=90)
    tracking.wait_for_output("rig received", timeout=60)
    tracking.wait_for_output("ORACLE: tracking reads ground-truth masks", timeout=10)

    got = {"tracking/particles": [], "tracking/gaussians": [], "sim/ground_truth/object_points": []}
    for topic, msgs in got.items():
        rclpy_node.node.create_subscription(PointCloud2, topic, msgs.append, SENSOR_QOS)
    assert rclpy_node.spin_until(lambda: len(got["tracking/particles"]) >= 3, 180), (
        "tracking/particles did not arrive"
    )
    tracking.wait_for_output(r"initialized \d+ Gaussians", timeout=5)
    tracking.wait_for_output(r"tracked \d+ frames; dropped \d+", timeout=10)

    particles = cloud_to_xyz(got["tracking/particles"][-1])
    truth = cloud_to_xyz(got["sim/ground_truth/object_points"][-1])
    assert 10 <= len(particles) <= 40
    # the rope lies still: tracked particles stay on it (rope radius 8 mm)
    assert float(chamfer_distance(particles, truth)) < 0.03
    gaussians = cloud_to_gaussians(got["tracking/gaussians"][-1])
    assert gaussians.shape[1] == 14 and np.isfinite(gaussians).all()
    assert np.allclose(np.linalg.norm(gaussians[:, 3:7], axis=1), 1.0, atol=1e-4)
    assert got["tracking/particles"][-1].header.frame_id == "world"


def test_tracking_node_rejects_wrong_sizes_and_future_stamps_at_its_edge(
    process_manager, rclpy_node
):
    """Images of the wrong size and images stamped far in the future are rejected with a
    message naming camera, stream and value; the node keeps running (issue #11, item 5)."""
    from geometry_msgs.msg import Pose
    from sensor_msgs.msg import Image

    from gs_common.camera import CameraIntrinsics
    from gs_common.ros.camera_info import intrinsics_to_camera_info
    from gs_common.ros.image import numpy_to_image
    from gs_common.ros.qos import LATCHED_QOS
    from gs_dynamics_interfaces.msg import CameraRig

    tracking = process_manager.start(
        "tracking",
        [sys.executable, "-m", "gs_tracking.tracking_node", "--ros-args", "-p", "device:=cpu"],
    )
    tracking.wait_for_output("tracking ready", timeout=60)
    node = rclpy_node.node
    rig = CameraRig()
    rig.header.frame_id = "world"
    rig.names = ["cam0"]
    pose = Pose()
    pose.orientation.w = 1.0
    rig.world_from_camera = [pose]
    rig.color_info = [
        intrinsics_to_camera_info(
            CameraIntrinsics(32, 24, 30.0, 30.0, 15.5, 11.5), rig.header.stamp, "cam0"
        )
    ]
    rig.depth_scale = [0.001]
    node.create_publisher(CameraRig, "cameras/rig", LATCHED_QOS).publish(rig)
    tracking.wait_for_output("rig received", timeout=30)
    color = node.create_publisher(Image, "cameras/cam0/color/image_raw", SENSOR_QOS)
    mask = node.create_publisher(Image, "cameras/cam0/object_mask", SENSOR_QOS)

    def publish_until(pattern, make):
        for _ in range(40):
            make()
            rclpy_node.spin_until(lambda: False, 0.25)
            if pattern.search(tracking.output()):
                return True
        return False

    import re

    big = np.zeros((30, 40, 3), np.uint8)
    size_msg = re.compile(
        r"dropping cameras/cam0 color: color size \(height, width\) = \(30, 40\) "
        r"differs from the rig's \(24, 32\)"
    )
    assert publish_until(size_msg, lambda: color.publish(numpy_to_image(big, "rgb8")))
    now = node.get_clock().now().nanoseconds
    future = numpy_to_image(np.zeros((24, 32), np.uint8), "mono8")
    future.header.stamp.sec = now // 1_000_000_000 + 3600
    stamp_msg = re.compile(r"dropping cameras/cam0 object_mask: .*ahead of the clock")
    assert publish_until(stamp_msg, lambda: mask.publish(future))
    assert tracking.alive()
