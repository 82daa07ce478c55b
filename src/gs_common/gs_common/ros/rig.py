"""gs_dynamics_interfaces/CameraRig -> camera names, intrinsics, extrinsics."""

from __future__ import annotations

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import make_transform, quat_to_matrix
from gs_common.ros.camera_info import camera_info_to_intrinsics


def rig_from_msg(msg) -> tuple[list[str], list[CameraIntrinsics], np.ndarray]:
    """(names, intrinsics, world_from_camera (C, 4, 4)) of a CameraRig message.

    Raises ValueError naming the inconsistency (empty rig, list lengths that differ,
    distorted cameras).
    """
    n = len(msg.names)
    if n == 0 or n != len(msg.world_from_camera) or n != len(msg.color_info):
        raise ValueError(
            f"rig has {n} names, {len(msg.world_from_camera)} poses and "
            f"{len(msg.color_info)} camera infos; need the same non-zero number"
        )
    intrinsics = [camera_info_to_intrinsics(info) for info in msg.color_info]
    poses = []
    for p in msg.world_from_camera:
        q = np.array([p.orientation.w, p.orientation.x, p.orientation.y, p.orientation.z])
        poses.append(make_transform(quat_to_matrix(q), [p.position.x, p.position.y, p.position.z]))
    return list(msg.names), intrinsics, np.stack(poses)
