"""Stack monitor node: which topics of the interface contract (DESIGN.md §4) are alive.

Subscribes to every contract topic, logs a rate table every ``report_period`` seconds and
prints a final summary when closed. Useful to check a bringup at a glance; `make demo`
uses it to report what actually ran.
"""

from __future__ import annotations

import sys
import time

from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image, JointState, PointCloud2

from gs_common.names import (
    CAMERAS_RIG,
    EE_POSE,
    JOINT_STATES,
    OBJECT_CLOUD,
    PREDICTED_STATES,
    TRACKING_GAUSSIANS,
    TRACKING_PARTICLES,
    camera_info_topic,
    color_image_topic,
    depth_image_topic,
)
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_common.ros.spin import run_node
from gs_dynamics.topic_stats import TopicStats, format_table
from gs_dynamics_interfaces.msg import CameraRig, PredictedStates

PARAMS = [
    ParamSpec(
        "report_period",
        5.0,
        "seconds between rate reports in the log (0: never)",
        range=(0.0, 3600.0),
    ),
    ParamSpec(
        "cameras",
        ["cam0", "cam1", "cam2", "cam3"],
        "camera names whose topics cameras/<cam>/... are watched",
        check=lambda v: None if len(v) > 0 else "needs at least one camera",
    ),
]


def contract_topics(cameras: list[str]) -> list[tuple[str, type, object]]:
    """(topic, type, QoS) of every topic in the interface contract."""
    topics = []
    for cam in cameras:
        topics += [
            (color_image_topic(cam), Image, SENSOR_QOS),
            (depth_image_topic(cam), Image, SENSOR_QOS),
            (camera_info_topic(cam), CameraInfo, SENSOR_QOS),
        ]
    topics += [
        (CAMERAS_RIG, CameraRig, LATCHED_QOS),
        (OBJECT_CLOUD, PointCloud2, SENSOR_QOS),
        (TRACKING_GAUSSIANS, PointCloud2, SENSOR_QOS),
        (TRACKING_PARTICLES, PointCloud2, SENSOR_QOS),
        (PREDICTED_STATES, PredictedStates, SENSOR_QOS),
        (JOINT_STATES, JointState, SENSOR_QOS),
        (EE_POSE, PoseStamped, SENSOR_QOS),
    ]
    return topics


class StackMonitor(Node):
    def __init__(self, **kwargs):
        super().__init__("stack_monitor", **kwargs)
        params = declare_params(self, PARAMS)
        self.stats: dict[str, TopicStats] = {}
        self._subs = []
        for topic, msg_type, qos in contract_topics(list(params["cameras"])):
            self.stats[topic] = TopicStats()
            self._subs.append(
                self.create_subscription(
                    msg_type, topic, lambda _msg, t=topic: self.stats[t].add(time.monotonic()), qos
                )
            )
        if params["report_period"] > 0:
            self.create_timer(params["report_period"], self.report)

    def report(self) -> None:
        self.get_logger().info("\n" + format_table(self.stats, time.monotonic()))

    def close(self) -> None:
        alive = sum(1 for s in self.stats.values() if s.count)
        print(f"stack_monitor: {alive} of {len(self.stats)} contract topics received messages")
        print(format_table(self.stats, time.monotonic()), flush=True)


def main(args=None) -> None:
    sys.exit(run_node(StackMonitor, args, num_threads=1))


if __name__ == "__main__":
    main()
