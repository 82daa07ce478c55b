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

from gs_sim.msg_schemas import (
    SEPARATOR,
    _dependencies,  # the .msg field parser of the episode writer's schemas (same rules)
    _search_roots,
    msg_text,
    schema_name,
    schema_text,
)

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
    """Schema of ``pkg/msg/Type`` or of an action's ``pkg/action/Name_FeedbackMessage`` (the
    type of ``<action>/_action/feedback``). Raises FileNotFoundError naming a missing file."""
    parts = ros_type.split("/")
    if len(parts) == 3 and parts[1] == "action" and parts[2].endswith(FEEDBACK):
        return ChannelSchema(ros_type, ROS2MSG, feedback_schema_text(ros_type).encode())
    if len(parts) != 3 or parts[1] != "msg":
        raise ValueError(
            f"'{ros_type}' is not a message type of the form pkg/msg/Type "
            "(or pkg/action/Name_FeedbackMessage)"
        )
    return ChannelSchema(schema_name(ros_type), ROS2MSG, schema_text(ros_type).encode())


FEEDBACK = "_FeedbackMessage"


def action_sections(pkg: str, action: str) -> tuple[str, str, str]:
    """(goal, result, feedback) texts of ``share/<pkg>/action/<action>.action``."""
    for root in _search_roots():
        path = root / pkg / "action" / f"{action}.action"
        if path.is_file():
            sections = re.split(r"^---[ \t]*$", path.read_text(), flags=re.MULTILINE)
            if len(sections) != 3:
                raise ValueError(f"{path} does not have three sections separated by ---")
            return tuple(sec.strip("\n") + "\n" for sec in sections)
    raise FileNotFoundError(f"action definition {pkg}/action/{action} not found")


def feedback_schema_text(ros_type: str) -> str:
    """``ros2msg`` text of ``pkg/action/Name_FeedbackMessage`` as rosidl defines it
    (``goal_id`` + ``feedback``), with the feedback section and every nested type."""
    pkg, _, name = ros_type.split("/")
    action = name[: -len(FEEDBACK)]
    feedback = action_sections(pkg, action)[2]
    main = f"unique_identifier_msgs/UUID goal_id\n{pkg}/{action}_Feedback feedback\n"
    blocks = [("unique_identifier_msgs/UUID", msg_text("unique_identifier_msgs/UUID"))]
    blocks.append((f"{pkg}/{action}_Feedback", feedback))
    seen = {b[0] for b in blocks}
    stack = _dependencies(pkg, feedback)
    while stack:
        dep = stack.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        text = msg_text(dep)
        blocks.append((dep, text))
        stack.extend(_dependencies(dep.split("/")[0], text))
    out = [main.rstrip("\n")]
    out += [f"{SEPARATOR}\nMSG: {dep}\n{text.rstrip(chr(10))}" for dep, text in blocks]
    return "\n".join(out) + "\n"


def message_class(ros_type: str):
    """The Python class of ``pkg/msg/Type`` or ``pkg/action/Name_FeedbackMessage`` (for
    rclpy raw subscriptions). Raises ImportError naming the type when not importable."""
    pkg, kind, name = ros_type.split("/")
    try:
        if kind == "action" and name.endswith(FEEDBACK):
            action = getattr(importlib.import_module(f"{pkg}.action"), name[: -len(FEEDBACK)])
            return action.Impl.FeedbackMessage
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
