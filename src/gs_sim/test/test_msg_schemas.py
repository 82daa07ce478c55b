from gs_sim.msg_schemas import schema_name, schema_text


def test_nested_definitions_are_concatenated():
    text = schema_text("gs_dynamics_interfaces/CameraRig")
    for dep in (
        "std_msgs/Header",
        "builtin_interfaces/Time",
        "geometry_msgs/Pose",
        "sensor_msgs/CameraInfo",
        "sensor_msgs/RegionOfInterest",
    ):
        assert f"MSG: {dep}\n" in text
    assert schema_name("sensor_msgs/Image") == "sensor_msgs/msg/Image"
    assert "MSG:" not in schema_text("gs_dynamics_interfaces/Push")
