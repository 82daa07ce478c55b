"""geometry_msgs/Pose from positions, quaternions and 4x4 transforms (metres, wxyz)."""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point, Pose, Quaternion

from gs_common.geometry import matrix_to_quat


def point_msg(xyz) -> Point:
    """geometry_msgs/Point of a 3-vector [m]."""
    return Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))


def pose_msg(position, quat_wxyz) -> Pose:
    """geometry_msgs/Pose of a position (3,) [m] and a unit quaternion (4,) w, x, y, z."""
    q = quat_wxyz
    return Pose(
        position=point_msg(position),
        orientation=Quaternion(w=float(q[0]), x=float(q[1]), y=float(q[2]), z=float(q[3])),
    )


def pose_from_matrix(t: np.ndarray) -> Pose:
    """geometry_msgs/Pose of a (4, 4) rigid transform [m]."""
    t = np.asarray(t, np.float64)
    return pose_msg(t[:3, 3], matrix_to_quat(t[:3, :3]))
