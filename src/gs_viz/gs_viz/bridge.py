"""ROS-free pieces of the Foxglove bridge: which topics to serve, their ros2msg schemas and
the subscription QoS that matches the topic's publishers.

The bridge serves each ROS topic as a Foxglove channel with message encoding ``cdr`` and a
``ros2msg`` schema named ``pkg/msg/Type`` whose text is the type's .msg definition followed
by every nested dependency (``====...`` + ``MSG: pkg/Type`` + text), as rosbag2's MCAP
storage and foxglove_bridge do. The .msg files come from the installed interface packages'
``share/<pkg>/msg/`` (gs_sim.msg_schemas, which the episode writer uses too).
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Sequence

from gs_sim.msg_schemas import schema_name, schema_text

CDR = "cdr"
ROS2MSG = "ros2msg"
DEFAULT_EXCLUDE = ("^/rosout$", "^/parameter_events$", "^/rosout_agg$")


class TopicFilter:
    """Serve a topic when it matches one of ``include`` and none of ``exclude`` (regular
    expressions over the fully qualified name, e.g. ``^/cameras/.*``)."""

    def __init__(self, include: Sequence[str], exclude: Sequence[str] = DEFAULT_EXCLUDE):
        self.include, self.exclude = [], []
        for attr, patterns in (("include", include), ("exclude", exclude)):
            for pattern in patterns:
                try:
                    getattr(self, attr).append(re.compile(pattern))
                except re.error as exc:
                    raise ValueError(f"{attr} pattern {pattern!r} is invalid: {exc}") from exc

    def __call__(self, topic: str) -> bool:
        return any(p.search(topic) for p in self.include) and not any(
            p.search(topic) for p in self.exclude
        )


@dataclasses.dataclass(frozen=True)
class ChannelSchema:
    """name: ``pkg/msg/Type``; encoding: ``ros2msg``; data: the concatenated definition."""

    name: str
    encoding: str
    data: bytes


def channel_schema(ros_type: str) -> ChannelSchema:
    """Schema of ``pkg/msg/Type``. Raises FileNotFoundError naming a missing .msg file."""
    if ros_type.count("/") != 2 or "/msg/" not in ros_type:
        raise ValueError(f"'{ros_type}' is not a message type of the form pkg/msg/Type")
    return ChannelSchema(schema_name(ros_type), ROS2MSG, schema_text(ros_type).encode())


def message_class(ros_type: str):
    """The Python class of ``pkg/msg/Type`` (for rclpy raw subscriptions). Raises
    ImportError naming the type when its package is not importable."""
    pkg, _, name = ros_type.split("/")
    try:
        return getattr(importlib.import_module(f"{pkg}.msg"), name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"message type {ros_type} is not importable: {exc}") from exc


@dataclasses.dataclass(frozen=True)
class PublisherQos:
    """The parts of a publisher's QoS that decide whether a subscription matches."""

    reliable: bool
    transient_local: bool
    depth: int


@dataclasses.dataclass(frozen=True)
class SubscriptionQos:
    reliable: bool
    transient_local: bool
    depth: int


def subscription_qos(publishers: Sequence[PublisherQos], default_depth: int = 10):
    """A subscription QoS compatible with every publisher that delivers all they can:
    reliable only when all publishers are reliable (a reliable reader does not match a
    best-effort writer); transient-local when all are (so latched topics such as
    ``planner/target`` reach late clients), then the depth covers every publisher's
    history."""
    if not publishers:
        return SubscriptionQos(False, False, default_depth)
    reliable = all(p.reliable for p in publishers)
    latched = all(p.transient_local for p in publishers)
    depth = sum(max(1, p.depth) for p in publishers) if latched else default_depth
    return SubscriptionQos(reliable, latched, max(1, depth))
