"""sensor_msgs/CameraInfo <-> CameraIntrinsics."""

from __future__ import annotations

from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo

from gs_common.camera import CameraIntrinsics
from gs_common.ros.stamp import make_header


def intrinsics_to_camera_info(
    intr: CameraIntrinsics, stamp: Time | float | None = None, frame_id: str = ""
) -> CameraInfo:
    """CameraInfo of an undistorted pinhole camera (plumb_bob with zero distortion)."""
    k = intr.K
    msg = CameraInfo(
        header=make_header(frame_id, stamp),
        width=intr.width,
        height=intr.height,
        distortion_model="plumb_bob",
    )
    msg.d = [0.0] * 5
    msg.k = k.flatten().tolist()
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def camera_info_to_intrinsics(msg: CameraInfo) -> CameraIntrinsics:
    """CameraIntrinsics from the K matrix of a CameraInfo (distortion must be zero)."""
    if any(abs(d) > 1e-9 for d in msg.d):
        raise ValueError(
            f"camera '{msg.header.frame_id}' has non-zero distortion {list(msg.d)}; "
            "rectify the images first"
        )
    return CameraIntrinsics.from_matrix(list(msg.k), msg.width, msg.height)
