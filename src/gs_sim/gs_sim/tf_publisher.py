"""TF of the simulated workcell: ``/tf_static`` world -> every camera optical frame and
world -> the robot base (``link_base``), ``/tf`` for the arm's links (each relative to its
parent link, as robot_state_publisher does), at the camera frame rate."""

from __future__ import annotations

import numpy as np

from gs_common.geometry import make_transform, quat_to_matrix
from gs_common.names import TF_STATIC_TOPIC, TF_TOPIC
from gs_common.ros.qos import SENSOR_QOS
from gs_common.ros.tf import TF_STATIC_QOS, WORLD_FRAME, rig_frames, tf_message
from gs_sim.robot_xarm import ARM_PREFIX
from tf2_msgs.msg import TFMessage

BASE_LINK = "link_base"


def _body_pose(data, b: int) -> np.ndarray:
    return make_transform(quat_to_matrix(np.array(data.xquat[b])), np.array(data.xpos[b]))


def link_frames(model, data) -> list[tuple[str, str, np.ndarray]]:
    """(parent, child, parent_from_child) of every arm link below ``link_base``."""
    frames = []
    for b in range(model.nbody):
        name = model.body(b).name
        parent = int(model.body_parentid[b])
        if not name.startswith(ARM_PREFIX) or name == ARM_PREFIX + BASE_LINK:
            continue
        p_from_c = np.linalg.inv(_body_pose(data, parent)) @ _body_pose(data, b)
        frames.append(
            (
                model.body(parent).name.removeprefix(ARM_PREFIX),
                name.removeprefix(ARM_PREFIX),
                p_from_c,
            )
        )
    return frames


class SimTf:
    """Publishers of the workcell's TF; ``node`` is the sim node, ``workcell`` its Workcell."""

    def __init__(self, node, workcell) -> None:
        self.node, self.wc = node, workcell
        self.pub_static = node.create_publisher(TFMessage, TF_STATIC_TOPIC, TF_STATIC_QOS)
        self.pub = node.create_publisher(TFMessage, TF_TOPIC, SENSOR_QOS)
        base = next(
            b
            for b in range(workcell.model.nbody)
            if workcell.model.body(b).name == ARM_PREFIX + BASE_LINK
        )
        self.world_from_base = _body_pose(workcell.data, base)

    def static_frames(self) -> list[tuple[str, str, np.ndarray]]:
        cams = self.wc.cameras
        frames = rig_frames([c.name for c in cams], [c.world_from_camera for c in cams])
        return [*frames, (WORLD_FRAME, BASE_LINK, self.world_from_base)]

    def publish_static(self) -> None:
        self.pub_static.publish(
            tf_message(self.static_frames(), self.node.get_clock().now().to_msg())
        )

    def publish_links(self, stamp) -> None:
        """Arm links now (call from the thread that steps the simulation)."""
        self.publish_frames(link_frames(self.wc.model, self.wc.data), stamp)

    def watched(self) -> bool:
        """Whether anybody subscribes to /tf (the link frames need not be computed else)."""
        return self.pub.get_subscription_count() > 0

    def publish_frames(self, frames: list[tuple[str, str, np.ndarray]], stamp) -> None:
        """Link frames taken earlier by :func:`link_frames` (any thread)."""
        self.pub.publish(tf_message(frames, stamp))
