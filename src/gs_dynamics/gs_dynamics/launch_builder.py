"""Build a ``ros2 launch`` description of a stack from config/stacks.yaml.

Every launch file in launch/ is a one-liner around :func:`stack_launch_description`, so a
launch file and the composed runner (gs_dynamics.runner) start the same nodes with the
same parameter files, argument-derived parameters and remappings.
"""

from __future__ import annotations

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from gs_dynamics.stacks import load_description, resolve, rviz_config
from launch import LaunchDescription


def _node_actions(context, stack: str):
    desc = load_description()
    overrides = {
        name: LaunchConfiguration(name).perform(context) for name in desc.get("arguments", {})
    }
    actions = []
    for spec in resolve(stack, overrides, desc):
        parameters = list(spec.parameter_files)
        if spec.parameters:
            parameters.append(dict(spec.parameters))
        actions.append(
            Node(
                package=spec.package,
                executable=spec.executable,
                name=spec.name,
                parameters=parameters,
                remappings=list(spec.remappings),
                output="screen",
                emulate_tty=True,
            )
        )
    if overrides.get("rviz") == "true":  # the markers come from the stack (viz_markers)
        actions.append(
            Node(
                package="rviz2",
                executable="rviz2",
                name="rviz2",
                arguments=["-d", str(rviz_config())],
                output="screen",
            )
        )
    return actions


def stack_launch_description(stack: str) -> LaunchDescription:
    desc = load_description()
    arguments = [
        DeclareLaunchArgument(
            name,
            default_value=str(spec["default"]),
            choices=[str(c) for c in spec.get("choices", [])] or None,
            description=spec.get("description", ""),
        )
        for name, spec in desc.get("arguments", {}).items()
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=_node_actions, args=[stack])])
