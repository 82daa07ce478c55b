"""Settings table of ``push_executor`` (name, default, unit, range or choices, description):
the node's ROS parameters and ``config/push_executor.yaml`` (a test checks that it agrees)
derive from it; :func:`build` converts settings to the core's objects. ROS-free.

The workspace box, arm base and push limits are the rows the simulator's table has too
(gs_common.push.PUSH_SETTINGS, defaults from gs_common.workcell), so the executor and the
simulated workcell agree out of the box; a real cell sets its own in
config/push_executor.yaml.
"""

from __future__ import annotations

import math
from typing import Any

from gs_common.names import ARM_TRAJECTORY_COMMAND, JOINT_STATES
from gs_common.push import PUSH_SETTINGS, push_limit_values, workspace_from_settings
from gs_common.settings import Setting, finite_vector, resolve
from gs_push_executor.backends import BACKENDS
from gs_push_executor.execution import SupervisionConfig
from gs_push_executor.motion import MotionLimits, Workspace
from gs_push_executor.robot import PRESETS, RobotDescription, load_robot

S = Setting
SETTINGS = [
    S("backend", "ros2_control", "", "arm interface", choices=BACKENDS),
    S("dry_run", False, "", "plan and check pushes but never move (result: rejected, 'dry run')"),
    S("robot", "xarm7", "", "URDF preset from example-robot-data (ignored with urdf_path)",
      choices=tuple(PRESETS)),
    S("urdf_path", "", "", "URDF file of your arm ('' = the preset)"),
    S("end_link", "", "", "link the pusher is mounted on ('' = the preset's flange)"),
    S("tool_length", 0.12, "m", "pusher tip distance from end_link along its z axis",
      range=(0.0, 1.0)),
    S("home", [0.0], "rad", "IK fallback posture ([0.0] = the preset's)", check=finite_vector()),
    *PUSH_SETTINGS,
    S("arm_base_z", 0.0, "m", "height of the arm base above the table", range=(-2.0, 2.0)),
    S("arm_base_yaw", 0.0, "rad", "rotation of the arm base about z", range=(-math.pi, math.pi)),
    S("transit_height", 0.15, "m", "tip height between pushes", range=(0.01, 1.0)),
    S("transit_speed", 0.25, "m/s", "tip speed of approach and retreat", range=(0.01, 1.0)),
    S("accel", 0.5, "m/s^2", "tip acceleration of every segment's ramps", range=(0.01, 10.0)),
    S("retreat", [-0.22, 0.0, 0.25], "m, world", "tip point after a push",
      check=finite_vector(3)),
    S("velocity_scale", 0.5, "", "fraction of the URDF joint velocity limits used",
      range=(0.01, 1.0)),
    S("table_clearance", 0.03, "m", "minimum height of every moving link origin",
      range=(0.0, 1.0)),
    S("self_margin", 0.05, "m", "minimum distance of link origins >= 3 apart in the chain",
      range=(0.0, 1.0)),
    S("deviation_bound", 0.2, "rad", "largest joint distance to the planned path",
      range=(0.001, 3.0)),
    S("stall_timeout", 3.0, "s", "stop when the arm makes no progress this long",
      range=(0.1, 60.0)),
    S("control_rate", 50.0, "Hz", "supervision / streaming rate", range=(1.0, 1000.0)),
    S("command_topic", ARM_TRAJECTORY_COMMAND, "", "ros2_control: JTC command topic"),
    S("joint_states_topic", JOINT_STATES, "", "measured joints (ros2_control backend)"),
    S("xarm_ip", "", "", "xarm: the controller's IP address"),
    S("xarm_mode", "servo", "", "xarm: SDK servo (mode 1) or position (mode 0) mode",
      choices=("servo", "position")),
    S("moveit_group", "arm", "", "moveit: planning group"),
]  # fmt: skip


def build(
    settings: dict[str, Any],
) -> tuple[RobotDescription, Workspace, MotionLimits, SupervisionConfig]:
    """Core objects from settings (missing names take defaults); ValueError names every
    invalid value."""
    s = resolve(SETTINGS, settings)
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
    ws = workspace_from_settings(s)
    limits = MotionLimits(
        **push_limit_values(s),
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
