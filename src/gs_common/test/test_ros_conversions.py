"""Message-class conversions (need the ROS 2 message packages, not a running graph)."""

import numpy as np
import pytest

pytest.importorskip("sensor_msgs.msg", reason="ROS 2 message packages not installed")

from gs_common.camera import CameraIntrinsics
from gs_common.pointcloud import CloudFormatError
from gs_common.ros.camera_info import (
    camera_info_to_intrinsics,
    intrinsics_to_camera_info,
)
from gs_common.ros.image import image_to_depth_metres, image_to_numpy, numpy_to_image
from gs_common.ros.pointcloud2 import (
    cloud_to_gaussians,
    cloud_to_xyz,
    gaussians_to_cloud,
    xyz_to_cloud,
)
from gs_common.ros.stamp import seconds_to_stamp, stamp_to_seconds


def test_cloud_messages_round_trip():
    pts = np.random.default_rng(0).normal(size=(11, 3)).astype(np.float32)
    msg = xyz_to_cloud(pts, stamp=1.25)
    assert msg.header.frame_id == "world" and msg.width == 11
    assert np.array_equal(cloud_to_xyz(msg), pts)
    g = np.random.default_rng(1).random((5, 14)).astype(np.float32)
    assert np.array_equal(cloud_to_gaussians(gaussians_to_cloud(g)), g)
    with pytest.raises(CloudFormatError, match="lacks fields"):
        cloud_to_gaussians(msg)


def test_image_messages_round_trip():
    rgb = np.random.default_rng(0).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    msg = numpy_to_image(rgb, "rgb8", stamp=2.0, frame_id="cam0_color_optical_frame")
    assert (msg.height, msg.width, msg.step) == (6, 8, 24)
    assert np.array_equal(image_to_numpy(msg), rgb)
    depth = numpy_to_image(np.array([[0, 500]], np.uint16), "16UC1")
    d = image_to_depth_metres(depth)
    assert np.isnan(d[0, 0]) and d[0, 1] == pytest.approx(0.5)


def test_camera_info_round_trip():
    cam = CameraIntrinsics.from_fov(320, 240, 58.0)
    back = camera_info_to_intrinsics(intrinsics_to_camera_info(cam, frame_id="c"))
    assert back == cam


def test_stamps():
    assert stamp_to_seconds(seconds_to_stamp(12.000000001)) == pytest.approx(12.000000001)
    with pytest.raises(ValueError, match="non-negative"):
        seconds_to_stamp(float("nan"))
