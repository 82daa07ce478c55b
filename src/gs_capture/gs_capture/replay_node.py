"""ROS 2 node ``replay``: publish a recorded (or simulated) episode like ``ros2 bag play``.

    ros2 run gs_capture replay_node --ros-args -p file:=data/real/ep_000.mcap -p rate:=0.5
    gs-stack planning source:=replay file:=<episode.mcap>      (see config/stacks.yaml)

Messages are published serialized, byte for byte as recorded, paced by their log times
divided by ``rate``, from ``start_offset`` seconds into the episode, once or in a ``loop``.
Configuration topics (``cameras/rig``, ``/tf_static``) are published first and latched
(transient-local) whatever the start offset, so the live stack sees the rig at once.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from gs_capture.bag import episode_topics, iter_raw, playback_plan, topic_matches
from gs_capture.record_node import message_class
from gs_common.names import CAMERAS_RIG, TF_STATIC_TOPIC
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.qos import LATCHED_QOS
from gs_common.ros.spin import run_node

LATCHED_TOPICS = (CAMERAS_RIG, TF_STATIC_TOPIC.lstrip("/"))  # as recorded: no leading /
STREAM_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=50,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

PARAMS = [
    ParamSpec(
        "file",
        "",
        "episode to play (.mcap)",
        check=lambda v: None if v.endswith(".mcap") else "must name an .mcap episode",
        read_only=True,
    ),
    ParamSpec("rate", 1.0, "playback speed factor", range=(0.01, 100.0), read_only=True),
    ParamSpec("loop", False, "start again at the end", read_only=True),
    ParamSpec(
        "start_offset",
        0.0,
        "start this many seconds into the episode",
        range=(0.0, 1e6),
        read_only=True,
    ),
    ParamSpec(
        "delay",
        0.0,
        "wait this long before publishing [s] (lets recorders and subscribers connect)",
        range=(0.0, 3600.0),
        read_only=True,
    ),
    ParamSpec(
        "topics",
        ["**"],
        "glob patterns of the topics to publish (* one level, ** any)",
        read_only=True,
    ),
]


class ReplayNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("replay", **kwargs)
        p = self.params = declare_params(self, PARAMS)
        self.path = Path(p["file"]).expanduser()
        if not self.path.is_file():
            raise ValueError(f"parameter 'file' = '{p['file']}': no such episode")
        try:
            topics = episode_topics(self.path)
        except Exception as exc:
            raise ValueError(
                f"parameter 'file' = '{p['file']}': not a readable episode: {exc}"
            ) from exc
        self.pubs = {}
        for topic, schema in sorted(topics.items()):
            if not topic_matches(topic, p["topics"]):
                continue
            name = "/" + topic.lstrip("/") if topic.lstrip("/") in ("tf", "tf_static") else topic
            qos = LATCHED_QOS if topic.lstrip("/") in LATCHED_TOPICS else STREAM_QOS
            self.pubs[topic] = self.create_publisher(message_class(schema), name, qos)
        if not self.pubs:
            raise ValueError(f"no topic of {sorted(topics)} matches 'topics' = {p['topics']}")
        self.published = 0
        self.passes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, name="replay", daemon=True)
        self._thread.start()
        self.get_logger().info(
            f"replaying {self.path} ({len(self.pubs)} topics) at rate {p['rate']}, "
            f"from {p['start_offset']} s{', looping' if p['loop'] else ''}"
        )

    def _play(self) -> None:
        p = self.params
        if self._stop.wait(p["delay"]):
            return
        latched = [t for t in self.pubs if t.lstrip("/") in LATCHED_TOPICS]
        for msg in iter_raw(self.path, latched):  # configuration first, whatever the offset
            self.pubs[msg.topic].publish(msg.data)
        streams = [t for t in self.pubs if t not in latched]
        while not self._stop.is_set():
            wall0 = time.monotonic()
            for after_s, msg in playback_plan(self.path, streams, p["start_offset"], p["rate"]):
                if self._stop.wait(max(0.0, wall0 + after_s - time.monotonic())):
                    return
                try:
                    self.pubs[msg.topic].publish(msg.data)
                except Exception as exc:  # context shut down while publishing
                    if self._stop.is_set():
                        return
                    self.get_logger().error(f"publishing {msg.topic} failed: {exc}")
                self.published += 1
            self.passes += 1
            self.get_logger().info(f"replay pass {self.passes} done ({self.published} messages)")
            if not p["loop"]:
                break

    def close(self) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()
            self._thread.join(timeout=5.0)


def main(args=None) -> None:
    sys.exit(run_node(ReplayNode, args, num_threads=2))


if __name__ == "__main__":
    main()
