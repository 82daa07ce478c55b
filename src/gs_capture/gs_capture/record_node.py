"""ROS 2 node ``recorder`` (also the ``gs-record`` command): record topics to one MCAP episode.

    gs-record --ros-args -p output:=data/real/ep_000.mcap -p duration:=30.0

Subscribes to every topic whose name matches ``topics`` (glob patterns; new publishers are
picked up while recording) and writes their serialized messages, unchanged, to an episode
in the simulator's rosbag2/MCAP layout (:mod:`gs_capture.bag`). The file appears under its
final name only when the recording ended cleanly (``duration`` reached, or Ctrl-C); a
summary of topics and counts is logged at the end.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from gs_capture.bag import RawEpisodeWriter, topic_matches
from gs_common import names
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.spin import run_node

#: Cameras, rig, robot state, executed pushes, TF; simulator ground truth when present
#: (never the simulator's masks under cameras/: those are ground truth, not camera data).
DEFAULT_TOPICS = [
    *(names.camera_topic("*", stream) for stream in ("color", "depth", "camera_info")),
    names.CAMERAS_RIG,
    names.JOINT_STATES,
    names.EE_POSE,
    names.EXECUTED_PUSH,
    names.TF_TOPIC.lstrip("/"),  # patterns match names without the leading slash
    names.TF_STATIC_TOPIC.lstrip("/"),
    f"{names.GT_PREFIX}/**",
]


def message_class(ros_type: str):
    """Python class of ``pkg/msg/Type``; raises ValueError naming a type not installed."""
    parts = ros_type.split("/")
    try:
        return getattr(importlib.import_module(f"{parts[0]}.msg"), parts[-1])
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"message type '{ros_type}' is not installed: {exc}") from exc


def subscription_qos(publisher_infos) -> QoSProfile:
    """Reliable / transient-local when every publisher offers it (lossless, latched topics
    reach a late recorder), otherwise best effort; deep queue so bursts are not dropped."""
    qos = [i.qos_profile for i in publisher_infos]
    reliable = bool(qos) and all(q.reliability == ReliabilityPolicy.RELIABLE for q in qos)
    latched = bool(qos) and all(q.durability == DurabilityPolicy.TRANSIENT_LOCAL for q in qos)
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=100,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
    )


PARAMS = [
    ParamSpec(
        "output",
        "episode.mcap",
        "episode file to write (.mcap; written as .tmp, renamed when complete)",
        check=lambda v: None if v.endswith(".mcap") else "must end in .mcap",
        read_only=True,
    ),
    ParamSpec(
        "topics",
        DEFAULT_TOPICS,
        "glob patterns of the topics to record (* one level, ** any)",
        read_only=True,
    ),
    ParamSpec(
        "duration",
        0.0,
        "stop and finalize after this many seconds from the first message (0: until Ctrl-C)",
        range=(0.0, 86400.0),
        read_only=True,
    ),
    ParamSpec(
        "shutdown_when_done",
        True,
        "end the process when 'duration' is reached (false inside a composed stack)",
        read_only=True,
    ),
    ParamSpec(
        "discovery_period",
        0.5,
        "look for new matching topics this often [s]",
        range=(0.05, 60.0),
        read_only=True,
    ),
]


class RecorderNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("recorder", **kwargs)
        p = self.params = declare_params(self, PARAMS)
        self.patterns = list(p["topics"])
        self.writer = RawEpisodeWriter(p["output"], {"recorder": "gs-record"})
        self._lock = threading.Lock()
        self._subs: dict = {}
        self._first_ns: int | None = None
        self._closed = False
        self._discover()
        self.create_timer(p["discovery_period"], self._discover)
        self.get_logger().info(f"recording {self.patterns} to {p['output']}")

    def _discover(self) -> None:
        if self._closed:
            return
        for topic, types in self.get_topic_names_and_types():
            if topic in self._subs or not topic_matches(topic, self.patterns) or not types:
                continue
            infos = self.get_publishers_info_by_topic(topic)
            if not infos:
                continue
            try:
                cls = message_class(types[0])
                with self._lock:
                    self.writer.add_topic(topic.lstrip("/"), types[0])
            except (ValueError, FileNotFoundError) as exc:
                self.get_logger().error(f"cannot record '{topic}': {exc}")
                self._subs[topic] = None
                continue
            self._subs[topic] = self.create_subscription(
                cls,
                topic,
                functools.partial(self._on_message, topic.lstrip("/")),
                subscription_qos(infos),
                raw=True,
            )
            self.get_logger().info(f"recording {topic} [{types[0]}]")

    def _on_message(self, topic: str, data: bytes) -> None:
        now = self.get_clock().now().nanoseconds
        with self._lock:
            if self._closed:
                return
            self._first_ns = self._first_ns or now
            try:
                self.writer.write(topic, data, now)
            except (OSError, ValueError) as exc:  # disk full, ...: say so, keep the node up
                self.get_logger().error(f"cannot write a message of '{topic}': {exc}")
                return
        duration = self.params["duration"]
        if duration > 0 and now - self._first_ns >= duration * 1e9:
            self.finish()
            if self.params["shutdown_when_done"]:
                self.context.try_shutdown()

    def finish(self) -> None:
        """Finalize the episode (idempotent) and log its summary."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self.writer.stats or not any(s.count for s in self.writer.stats.values()):
                self.writer.abort()
                self.get_logger().warning("nothing was recorded; no episode written")
                return
            path = self.writer.close()
        self.get_logger().info(f"episode complete: {path}\n{self.writer.summary()}")

    def close(self) -> None:
        self.finish()


def main(args=None) -> None:
    sys.exit(run_node(RecorderNode, args, num_threads=2))


if __name__ == "__main__":
    main()
