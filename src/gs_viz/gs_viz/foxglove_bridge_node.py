"""Node ``foxglove_bridge``: the stack's topics in the Foxglove app, without ROS on the viewer.

A Foxglove WebSocket server (foxglove-sdk) on ``ws://<host>:<port>`` (default
``127.0.0.1:8765``). Every ``discovery_period`` the node lists the ROS graph's topics; each
topic that passes the ``topics`` / ``exclude_topics`` filters becomes a channel with message
encoding ``cdr`` and a ``ros2msg`` schema (gs_viz.bridge). The node subscribes to a topic
only while a client is subscribed to its channel, with ``raw=True`` (serialized CDR,
never deserialized here) and a QoS that matches the topic's publishers; every message is
forwarded unchanged, stamped with its receive time.
"""

from __future__ import annotations

import time

import foxglove
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.spin import run_node
from gs_viz.bridge import (
    CDR,
    DEFAULT_EXCLUDE,
    PublisherQos,
    TopicFilter,
    channel_schema,
    message_class,
    subscription_qos,
)


def _patterns_check(value) -> str | None:
    try:
        TopicFilter(list(value), [])
    except ValueError as exc:
        return str(exc)
    return None


PARAMS = [
    ParamSpec("host", "127.0.0.1", "address to bind (0.0.0.0: every interface)", read_only=True),
    ParamSpec("port", 8765, "WebSocket port (0: any free port)", (0, 65535), read_only=True),
    ParamSpec(
        "topics", [".*"], "regexes of the topics to serve", check=_patterns_check, read_only=True
    ),
    ParamSpec(
        "exclude_topics",
        list(DEFAULT_EXCLUDE),
        "regexes of topics never served",
        check=_patterns_check,
        read_only=True,
    ),
    ParamSpec("discovery_period", 1.0, "seconds between topic discoveries", (0.05, 60.0)),
    ParamSpec("server_name", "gs_dynamics", "name shown by the Foxglove app", read_only=True),
]


class FoxgloveBridgeNode(Node):
    def __init__(self, **kwargs):
        super().__init__("foxglove_bridge", **kwargs)
        self.p = declare_params(self, PARAMS)
        self.filter = TopicFilter(self.p["topics"], self.p["exclude_topics"])
        self.channels: dict[str, foxglove.Channel] = {}  # topic -> channel
        self.types: dict[str, str] = {}  # topic -> pkg/msg/Type
        self.subs: dict[str, object] = {}  # topic -> rclpy subscription
        self._refused: set[tuple[str, str]] = set()
        try:
            self.server = foxglove.start_server(
                name=self.p["server_name"],
                host=self.p["host"],
                port=self.p["port"],
                supported_encodings=[CDR],
            )
        except Exception as exc:  # the SDK raises RuntimeError subclasses (port in use, ...)
            raise ValueError(
                f"foxglove bridge cannot listen on ws://{self.p['host']}:{self.p['port']} "
                f"(parameters host, port): {exc}"
            ) from exc
        self._discover()
        self.create_timer(self.p["discovery_period"], self._discover)
        self.get_logger().info(
            f"foxglove bridge listening on ws://{self.p['host']}:{self.server.port} "
            "(Foxglove app: Open connection -> Foxglove WebSocket)"
        )

    # -- discovery: channels for new topics, subscriptions for watched channels ----------
    def _discover(self) -> None:
        for topic, types in self.get_topic_names_and_types():
            if topic in self.channels or not self.filter(topic):
                continue
            if len(types) != 1:
                self._refuse(topic, ",".join(types), "has more than one type")
                continue
            self._advertise(topic, types[0])
        for topic, channel in list(self.channels.items()):
            watched = channel.has_sinks()
            if watched and topic not in self.subs:
                self._subscribe(topic)
            elif not watched and topic in self.subs:
                self.destroy_subscription(self.subs.pop(topic))

    def _refuse(self, topic: str, ros_type: str, why: str) -> None:
        if (topic, ros_type) not in self._refused:
            self._refused.add((topic, ros_type))
            self.get_logger().warning(f"not serving {topic} ({ros_type}): {why}")

    def _advertise(self, topic: str, ros_type: str) -> None:
        try:
            schema = channel_schema(ros_type)
            message_class(ros_type)
        except (ValueError, FileNotFoundError, ImportError) as exc:
            self._refuse(topic, ros_type, str(exc))
            return
        self.channels[topic] = foxglove.Channel(
            topic,
            schema=foxglove.Schema(name=schema.name, encoding=schema.encoding, data=schema.data),
            message_encoding=CDR,
        )
        self.types[topic] = ros_type
        self.get_logger().info(f"serving {topic} ({ros_type})")

    def _subscribe(self, topic: str) -> None:
        infos = self.get_publishers_info_by_topic(topic)
        qos = subscription_qos(
            [
                PublisherQos(
                    reliable=i.qos_profile.reliability == ReliabilityPolicy.RELIABLE,
                    transient_local=i.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL,
                    depth=int(i.qos_profile.depth),
                )
                for i in infos
            ]
        )
        profile = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=qos.depth,
            reliability=ReliabilityPolicy.RELIABLE
            if qos.reliable
            else ReliabilityPolicy.BEST_EFFORT,
            durability=(
                DurabilityPolicy.TRANSIENT_LOCAL
                if qos.transient_local
                else DurabilityPolicy.VOLATILE
            ),
        )
        channel = self.channels[topic]

        def forward(data: bytes, channel=channel) -> None:
            channel.log(bytes(data), log_time=time.time_ns())

        self.subs[topic] = self.create_subscription(
            message_class(self.types[topic]), topic, forward, profile, raw=True
        )

    def close(self) -> None:
        """Stop forwarding before the node is destroyed: subscriptions, channels, server."""
        for topic in list(self.subs):
            self.destroy_subscription(self.subs.pop(topic))
        for channel in self.channels.values():
            channel.close()
        self.server.stop()


def main(args=None) -> int:
    return run_node(FoxgloveBridgeNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
