"""TF (``/tf``, ``/tf_static``) messages: camera optical frames of a rig and robot links.

``tf2_msgs/TFMessage`` comes from ROS's tf2_msgs, or in the PyPI install from the stand-in
package ``src/tf2_msgs`` (identical definition, so the wire type is the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from geometry_msgs.msg import TransformStamped

from gs_common.geometry import matrix_to_quat
from gs_common.names import WORLD_FRAME, camera_optical_frame
from gs_common.ros.qos import LATCHED_QOS
from tf2_msgs.msg import TFMessage

#: /tf_static: reliable, transient-local (late joiners get it), as tf2_ros publishes it.
TF_STATIC_QOS = LATCHED_QOS


optical_frame = camera_optical_frame
"""TF frame of a camera's colour optical frame (OpenCV: x right, y down, z forward)."""


def rig_frames(
    names: Sequence[str], world_from_camera: np.ndarray
) -> list[tuple[str, str, np.ndarray]]:
    """(parent, child, parent_from_child (4, 4)) of world -> every camera optical frame."""
    return [
        (WORLD_FRAME, optical_frame(n), np.asarray(t, np.float64))
        for n, t in zip(names, world_from_camera)
    ]


def transform_stamped(parent: str, child: str, parent_from_child: np.ndarray, stamp):
    """geometry_msgs/TransformStamped of a (4, 4) rigid transform [m]."""
    t = np.asarray(parent_from_child, np.float64)
    q = matrix_to_quat(t[:3, :3])  # wxyz
    msg = TransformStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = parent
    msg.child_frame_id = child
    msg.transform.translation.x, msg.transform.translation.y, msg.transform.translation.z = (
        float(v) for v in t[:3, 3]
    )
    r = msg.transform.rotation
    r.w, r.x, r.y, r.z = (float(v) for v in q)
    return msg


def tf_message(frames: Iterable[tuple[str, str, np.ndarray]], stamp) -> TFMessage:
    """TFMessage of (parent, child, parent_from_child) triples, all with ``stamp``."""
    return TFMessage(transforms=[transform_stamped(p, c, t, stamp) for p, c, t in frames])
