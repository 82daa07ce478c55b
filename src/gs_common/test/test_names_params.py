"""gs_common.names spells the ROS contract of DESIGN.md §4 / docs/interfaces.md exactly (the
names on the wire); gs_common.ros.params names a start-up value rclpy refused in the settings
table's words."""

from __future__ import annotations

import pytest

from gs_common import names


def test_contract_names_on_the_wire():
    cam = "cam2"
    assert [names.camera_topic(cam, s) for s in names.CAMERA_STREAMS] == [
        "cameras/cam2/color/image_raw",
        "cameras/cam2/depth/image_raw",
        "cameras/cam2/color/camera_info",
        "cameras/cam2/object_mask",
        "cameras/cam2/robot_mask",
    ]
    assert names.color_image_topic(cam) == "cameras/cam2/color/image_raw"
    assert names.depth_image_topic(cam) == "cameras/cam2/depth/image_raw"
    assert names.camera_info_topic(cam) == "cameras/cam2/color/camera_info"
    assert names.object_mask_topic(cam) == "cameras/cam2/object_mask"
    assert names.robot_mask_topic("{cam}") == "cameras/{cam}/robot_mask"  # a template
    assert names.occluder_mask_topic(cam) == "segmentation/cam2/occluder_mask"
    assert names.gt_mask_topic(cam, "object") == "sim/ground_truth/cam2/object_mask"
    assert names.gt_mask_topic(cam, "robot") == "sim/ground_truth/cam2/robot_mask"
    with pytest.raises(ValueError, match="'table' is not one of"):
        names.gt_mask_topic(cam, "table")
    assert names.GT_POINTS_TOPIC == "sim/ground_truth/object_points"
    assert names.camera_optical_frame(cam) == "cam2_color_optical_frame"
    assert names.predicted_image_topic(cam) == "dynamics/predicted_image/cam2"
    assert (names.WORLD_FRAME, names.TF_TOPIC, names.TF_STATIC_TOPIC) == (
        "world", "/tf", "/tf_static"
    )  # fmt: skip
    assert (names.JOINT_STATES, names.EE_POSE, names.EXECUTE_PUSH_ACTION) == (
        "robot/joint_states", "robot/ee_pose", "robot/execute_push"
    )  # fmt: skip
    assert names.ARM_TRAJECTORY_COMMAND == "arm_controller/joint_trajectory"


def test_refused_start_up_values_are_named_in_the_tables_words():
    rclpy = pytest.importorskip("rclpy", reason="ROS 2 (rclpy) is not installed")
    from rclpy.parameter import Parameter

    from gs_common.ros.params import ParameterError, ParamSpec, declare_params

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        overrides = [
            Parameter("fps", value=500.0),  # refused by rclpy (descriptor range)
            Parameter("count", value=2),
            Parameter("scale", value=3),  # wrong type: rclpy's own message
        ]
        node = rclpy.create_node("params_test", context=context, parameter_overrides=overrides)
        specs = [
            ParamSpec("fps", 15.0, "frame rate", range=(1.0, 60.0), read_only=True),
            ParamSpec("count", 4, "count", range=(3, 8)),
            ParamSpec("scale", 1.0, "scale", range=(0.0, 2.0)),
        ]
        with pytest.raises(ParameterError) as exc:
            declare_params(node, specs)
        text = str(exc.value)
        assert "parameter 'fps' = 500.0 is outside [1.0, 60.0]" in text
        assert "parameter 'count' = 2 is outside [3, 8]" in text
        assert "parameter 'scale': " in text and "DOUBLE" in text
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
