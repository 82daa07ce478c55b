"""gs_viz.bridge: topic filter, ros2msg schemas, QoS choice."""

from __future__ import annotations

import pytest

from gs_viz.bridge import (
    PublisherQos,
    TopicFilter,
    channel_schema,
    message_class,
    subscription_qos,
)


def test_topic_filter():
    f = TopicFilter([".*"])
    assert f("/cameras/cam0/color/image_raw") and not f("/rosout")
    assert not f("/parameter_events")
    g = TopicFilter(["^/viz/", "^/cameras/"], ["depth"])
    assert g("/viz/plan") and not g("/cameras/cam0/depth/image_raw") and not g("/tracking/x")
    with pytest.raises(ValueError, match="include pattern"):
        TopicFilter(["("])


def test_schema_of_marker_array_contains_every_dependency():
    s = channel_schema("visualization_msgs/msg/MarkerArray")
    assert s.name == "visualization_msgs/msg/MarkerArray" and s.encoding == "ros2msg"
    text = s.data.decode()
    assert text.startswith("Marker[] markers")
    for dep in (
        "visualization_msgs/Marker",
        "std_msgs/Header",
        "builtin_interfaces/Time",
        "builtin_interfaces/Duration",
        "geometry_msgs/Pose",
        "geometry_msgs/Point",
        "std_msgs/ColorRGBA",
        "sensor_msgs/CompressedImage",
        "visualization_msgs/MeshFile",
    ):
        assert f"\nMSG: {dep}\n" in text, dep


def test_schema_parses_and_decodes_a_real_cdr_message():
    """The schema text is what a ros2msg reader (mcap-ros2-support, like Foxglove) needs
    to decode the CDR bytes rclpy produces."""
    from mcap_ros2._dynamic import generate_dynamic
    from rclpy.serialization import serialize_message
    from visualization_msgs.msg import Marker, MarkerArray

    s = channel_schema("visualization_msgs/msg/MarkerArray")
    decoders = generate_dynamic("visualization_msgs/msg/MarkerArray", s.data.decode())
    msg = MarkerArray(markers=[Marker(ns="push", id=3, type=Marker.ARROW)])
    msg.markers[0].header.frame_id = "world"
    decoded = decoders["visualization_msgs/msg/MarkerArray"](serialize_message(msg))
    assert decoded.markers[0].ns == "push" and decoded.markers[0].id == 3
    assert decoded.markers[0].header.frame_id == "world"


def test_schema_of_project_message():
    text = channel_schema("gs_dynamics_interfaces/msg/PredictedStates").data.decode()
    assert "\nMSG: gs_dynamics_interfaces/Push\n" in text and "float32[] positions" in text


def test_bad_types_are_named():
    with pytest.raises(ValueError, match="not a message type"):
        channel_schema("std_msgs/String")
    with pytest.raises(ValueError, match="not a message type"):
        channel_schema("gs_dynamics_interfaces/action/Plan_Goal")
    with pytest.raises(FileNotFoundError, match="nope_msgs"):
        channel_schema("nope_msgs/msg/Thing")
    with pytest.raises(ImportError, match="nope_msgs/msg/Thing"):
        message_class("nope_msgs/msg/Thing")


def test_subscription_qos_matches_publishers():
    latched = PublisherQos(reliable=True, transient_local=True, depth=1)
    sensor = PublisherQos(reliable=False, transient_local=False, depth=2)
    state = PublisherQos(reliable=True, transient_local=False, depth=5)
    q = subscription_qos([latched])
    assert q.reliable and q.transient_local and q.depth == 1
    q = subscription_qos([sensor, state])
    assert not q.reliable and not q.transient_local
    q = subscription_qos([state])
    assert q.reliable and not q.transient_local
    assert not subscription_qos([]).reliable


def test_action_feedback_schema_decodes_a_real_feedback_message():
    """planner/plan/_action/feedback carries MPPI progress and the best plan's prediction."""
    from mcap_ros2._dynamic import generate_dynamic
    from rclpy.serialization import serialize_message

    from gs_dynamics_interfaces.msg import Push

    ros_type = "gs_dynamics_interfaces/action/Plan_FeedbackMessage"
    schema = channel_schema(ros_type)
    text = schema.data.decode()
    assert text.startswith("unique_identifier_msgs/UUID goal_id\n")
    for dep in (
        "unique_identifier_msgs/UUID",
        "gs_dynamics_interfaces/Plan_Feedback",
        "gs_dynamics_interfaces/PredictedStates",
        "gs_dynamics_interfaces/Push",
        "std_msgs/Header",
    ):
        assert f"\nMSG: {dep}\n" in text, dep
    cls = message_class(ros_type)
    msg = cls()
    msg.goal_id.uuid = list(range(16))
    msg.feedback.mppi_iteration = 3
    msg.feedback.best_cost = 0.021
    msg.feedback.predicted_states.pushes = [Push(x=0.1, y=-0.2, theta=1.0, length=0.05)]
    # mcap_ros2's vendored rosidl parser refuses "_" in type names (rosidl's own action
    # types have them); the same definitions under names without "_" check the layout
    plain = text.replace("Plan_FeedbackMessage", "PlanFeedbackMessage")
    plain = plain.replace("Plan_Feedback", "PlanFeedback")
    name = "gs_dynamics_interfaces/action/PlanFeedbackMessage"
    decoded = generate_dynamic(name, plain)[name](serialize_message(msg))
    assert list(decoded.goal_id.uuid) == list(range(16))
    assert decoded.feedback.mppi_iteration == 3 and decoded.feedback.best_cost == 0.021
    assert decoded.feedback.predicted_states.pushes[0].y == -0.2
