"""Parameters of ``push_executor`` (name -> default, description, range or choices) and
their conversion to the core's objects. ROS-free.

The workspace box and arm base default to the workcell's single source (gs_common.workcell,
which the simulator reads too), so the executor and the simulated workcell agree out of the
box; a real cell sets its own in config/push_executor.yaml.
"""

from __future__ import annotations

import math
from typing import Any

from gs_common.workcell import ARM_BASE, WORKSPACE_X, WORKSPACE_Y
from gs_push_executor.backends import BACKENDS
from gs_push_executor.execution import SupervisionConfig
from gs_push_executor.motion import MotionLimits, Workspace
from gs_push_executor.robot import PRESETS, RobotDescription, load_robot

SETTINGS: dict[str, tuple[Any, str, Any]] = {
    "backend": ("ros2_control", "arm interface", BACKENDS),
    "dry_run": (False, "plan and check pushes but never move (result: rejected, 'dry run')", None),
    "robot": (
        "xarm7",
        "URDF preset from example-robot-data (ignored with urdf_path)",
        tuple(PRESETS),
    ),
    "urdf_path": ("", "URDF file of your arm ('' = the preset)", None),
    "end_link": ("", "link the pusher is mounted on ('' = the preset's flange)", None),
    "tool_length": (0.12, "pusher tip distance from end_link along its z axis [m]", (0.0, 1.0)),
    "home": ([0.0], "IK fallback posture [rad] ([0.0] = the preset's)", None),
    "arm_base": (list(ARM_BASE), "xy of the arm base in world [m]", None),
    "arm_base_z": (0.0, "height of the arm base above the table [m]", (-2.0, 2.0)),
    "arm_base_yaw": (0.0, "rotation of the arm base about z [rad]", (-math.pi, math.pi)),
    "workspace_x": (list(WORKSPACE_X), "tip workspace x range [m]", None),
    "workspace_y": (list(WORKSPACE_Y), "tip workspace y range [m]", None),
    "workspace_z_max": (0.15, "maximum push height [m]", (0.001, 0.5)),
    "default_push_height": (0.005, "tip height when a goal gives <= 0 [m]", (0.0005, 0.2)),
    "default_push_speed": (0.05, "tip speed when a goal gives <= 0 [m/s]", (0.001, 0.5)),
    "max_push_speed": (0.3, "fastest accepted push [m/s]", (0.001, 2.0)),
    "transit_height": (0.15, "tip height between pushes [m]", (0.01, 1.0)),
    "transit_speed": (0.25, "tip speed of approach and retreat [m/s]", (0.01, 1.0)),
    "accel": (0.5, "tip acceleration of every segment's ramps [m/s^2]", (0.01, 10.0)),
    "retreat": ([-0.22, 0.0, 0.25], "tip point after a push [m, world]", None),
    "velocity_scale": (0.5, "fraction of the URDF joint velocity limits used", (0.01, 1.0)),
    "table_clearance": (0.03, "minimum height of every moving link origin [m]", (0.0, 1.0)),
    "self_margin": (
        0.05,
        "minimum distance of link origins >= 3 apart in the chain [m]",
        (0.0, 1.0),
    ),
    "deviation_bound": (0.2, "largest joint distance to the planned path [rad]", (0.001, 3.0)),
    "stall_timeout": (3.0, "stop when the arm makes no progress this long [s]", (0.1, 60.0)),
    "control_rate": (50.0, "supervision / streaming rate [Hz]", (1.0, 1000.0)),
    "command_topic": ("arm_controller/joint_trajectory", "ros2_control: JTC command topic", None),
    "joint_states_topic": ("robot/joint_states", "measured joints (ros2_control backend)", None),
    "xarm_ip": ("", "xarm: the controller's IP address", None),
    "xarm_mode": (
        "servo",
        "xarm: SDK servo (mode 1) or position (mode 0) mode",
        ("servo", "position"),
    ),
    "moveit_group": ("arm", "moveit: planning group", None),
}

_VECTORS = {"arm_base": 2, "workspace_x": 2, "workspace_y": 2, "retreat": 3}


def default_settings() -> dict[str, Any]:
    return {k: (list(v[0]) if isinstance(v[0], list) else v[0]) for k, v in SETTINGS.items()}


def check_setting(name: str, value: Any) -> str | None:
    """None if ``value`` is valid for ``name``, else a message naming both."""
    if name not in SETTINGS:
        return f"unknown setting '{name}'"
    default, _, constraint = SETTINGS[name]
    if isinstance(default, list):
        vals = list(value)
        if not all(math.isfinite(float(v)) for v in vals):
            return f"'{name}' = {value!r} must be finite numbers"
        if name in _VECTORS and len(vals) != _VECTORS[name]:
            return f"'{name}' = {value!r} must have {_VECTORS[name]} values"
        if name.startswith("workspace") and not vals[0] < vals[1]:
            return f"'{name}' = {value!r} must be [min, max] with min < max"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"'{name}' = {value!r} must be finite"
    if (
        isinstance(constraint, tuple)
        and len(constraint) == 2
        and not isinstance(constraint[0], str)
    ):
        if not constraint[0] <= value <= constraint[1]:
            return f"'{name}' = {value!r} is outside [{constraint[0]}, {constraint[1]}]"
    elif constraint is not None and value not in constraint:
        return f"'{name}' = {value!r} is not one of {list(constraint)}"
    return None


def build(
    settings: dict[str, Any],
) -> tuple[RobotDescription, Workspace, MotionLimits, SupervisionConfig]:
    """Core objects from settings (missing names take defaults); ValueError names every
    invalid value."""
    s = default_settings()
    s.update(settings)
    problems = [p for p in (check_setting(k, v) for k, v in s.items()) if p]
    if problems:
        raise ValueError("; ".join(problems))
    home = [float(v) for v in s["home"]]
    robot = load_robot(
        s["robot"],
        s["urdf_path"],
        s["end_link"],
        float(s["tool_length"]),
        (float(s["arm_base"][0]), float(s["arm_base"][1]), float(s["arm_base_z"])),
        float(s["arm_base_yaw"]),
        home=() if home == [0.0] else home,
    )
    ws = Workspace(
        *[float(v) for v in (*s["workspace_x"], *s["workspace_y"])], float(s["workspace_z_max"])
    )
    limits = MotionLimits(
        default_height=float(s["default_push_height"]),
        default_speed=float(s["default_push_speed"]),
        max_speed=float(s["max_push_speed"]),
        transit_height=float(s["transit_height"]),
        transit_speed=float(s["transit_speed"]),
        accel=float(s["accel"]),
        retreat=tuple(float(v) for v in s["retreat"]),
        velocity_scale=float(s["velocity_scale"]),
        table_clearance=float(s["table_clearance"]),
        self_margin=float(s["self_margin"]),
    )
    sup = SupervisionConfig(
        deviation_bound=float(s["deviation_bound"]),
        stall_timeout=float(s["stall_timeout"]),
        rate=float(s["control_rate"]),
    )
    return robot, ws, limits, sup
