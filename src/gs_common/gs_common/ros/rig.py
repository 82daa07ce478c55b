"""gs_dynamics_interfaces/CameraRig -> camera names, intrinsics, extrinsics."""

from __future__ import annotations

import math

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import make_transform, quat_to_matrix
from gs_common.ros.camera_info import camera_info_to_intrinsics

# A workcell camera is metres from the table; a rig placing one farther is corrupt (a
# finite 1e308 m became inf in the float32 view matrices and black renders, #11).
MAX_CAMERA_DISTANCE_M = 100.0


def rig_from_msg(msg) -> tuple[list[str], list[CameraIntrinsics], np.ndarray]:
    """(names, intrinsics, world_from_camera (C, 4, 4)) of a CameraRig message.

    Raises ValueError naming the field and value: empty rig, list lengths that differ
    (``depth_scale`` may be empty), camera names that cannot be part of a topic name,
    non-finite or non-positive intrinsics / depth scales, non-finite poses, cameras more
    than MAX_CAMERA_DISTANCE_M from the world origin, quaternions that are not unit length
    (1e-3), distorted cameras.
    """
    n = len(msg.names)
    if n == 0 or n != len(msg.world_from_camera) or n != len(msg.color_info):
        raise ValueError(
            f"rig has {n} names, {len(msg.world_from_camera)} poses and "
            f"{len(msg.color_info)} camera infos; need the same non-zero number"
        )
    for i, name in enumerate(msg.names):
        if not name or not name.replace("_", "").isalnum() or name[0].isdigit():
            raise ValueError(
                f"names[{i}] = {name!r} is not a valid camera name (letters, digits and '_', "
                "not starting with a digit: it becomes part of topic names)"
            )
    if len(set(msg.names)) != n:
        raise ValueError(f"names {list(msg.names)} contain duplicates")
    if len(msg.depth_scale) not in (0, n):
        raise ValueError(f"depth_scale has {len(msg.depth_scale)} values for {n} cameras")
    for i, v in enumerate(msg.depth_scale):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"depth_scale[{i}] = {v} must be finite and > 0")
    intrinsics = []
    for i, info in enumerate(msg.color_info):
        k = np.asarray(info.k, np.float64)
        if not np.isfinite(k).all() or k[0] <= 0 or k[4] <= 0:
            raise ValueError(f"color_info[{i}].k = {k.tolist()} must be finite with fx, fy > 0")
        if info.width <= 0 or info.height <= 0:
            raise ValueError(f"color_info[{i}] size {info.width} x {info.height} must be > 0")
        intrinsics.append(camera_info_to_intrinsics(info))
    poses = []
    for i, p in enumerate(msg.world_from_camera):
        q = np.array([p.orientation.w, p.orientation.x, p.orientation.y, p.orientation.z])
        t = np.array([p.position.x, p.position.y, p.position.z])
        if not (np.isfinite(q).all() and np.isfinite(t).all()):
            raise ValueError(f"world_from_camera[{i}] has non-finite values: {p}")
        if float(np.linalg.norm(t)) > MAX_CAMERA_DISTANCE_M:
            raise ValueError(
                f"world_from_camera[{i}].position {t.tolist()} is more than "
                f"{MAX_CAMERA_DISTANCE_M:g} m from the world origin"
            )
        norm = float(np.linalg.norm(q))
        if abs(norm - 1.0) > 1e-3:
            raise ValueError(
                f"world_from_camera[{i}].orientation has norm {norm:.6f}; need a unit quaternion"
            )
        poses.append(make_transform(quat_to_matrix(q / norm), t))
    return list(msg.names), intrinsics, np.stack(poses)
