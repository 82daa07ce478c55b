"""Flat, named settings of the simulator (ROS parameters of ``sim_node``, CLI options,
``config/sim.yaml``) and their conversion to a :class:`WorkcellConfig`. ROS-free.

Each entry: name -> (default, description, range or choices or None).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from gs_common.workcell import ARM_BASE, WORKSPACE_X, WORKSPACE_Y
from gs_sim.camera_rig import DEFAULT_FOVY_DEG, RigLayout
from gs_sim.objects import OBJECT_TYPES, default_params
from gs_sim.push import PushLimits
from gs_sim.scene import Workspace
from gs_sim.workcell import WorkcellConfig

SETTINGS: dict[str, tuple[Any, str, Any]] = {
    "object": ("rope", "deformable object type", OBJECT_TYPES),
    "seed": (0, "seed of the object's shape / initial pose randomization", (0, 2**31 - 1)),
    "randomize": (True, "randomize object shape and initial pose (seeded)", None),
    "object_size": (
        -1.0,
        "object size [m] (rope length, cloth side, toy diameter); <= 0: type default",
        (-1.0, 1.0),
    ),
    "object_stiffness": (
        -1.0,
        "Young's modulus [Pa] (toy) / edge stiffness (rope); < 0: type default",
        (-1.0, 1e9),
    ),
    "object_damping": (-1.0, "object damping; < 0: type default", (-1.0, 1e3)),
    "object_friction": (-1.0, "object friction coefficient; < 0: type default", (-1.0, 5.0)),
    "object_mass": (-1.0, "object mass [kg]; <= 0: type default", (-1.0, 10.0)),
    "fps": (15.0, "camera frame rate = physics frame / robot state rate [Hz]", (1.0, 60.0)),
    "timestep": (0.002, "physics time step [s]", (1e-4, 0.01)),
    "image_width": (320, "image width of every camera [px]", (16, 4096)),
    "image_height": (240, "image height of every camera [px]", (16, 4096)),
    "fovy_deg": (
        DEFAULT_FOVY_DEG,
        "vertical field of view [deg] (D400 colour ~42.5)",
        (5.0, 150.0),
    ),
    "num_cameras": (4, "number of cameras around the table (4 = corners)", (1, 8)),
    "camera_half_extent": (0.42, "|x| = |y| of the corner cameras [m]", (0.05, 3.0)),
    "camera_height": (0.55, "camera height above the table [m]", (0.05, 3.0)),
    "depth_noise": (False, "apply the RealSense-like depth noise / dropout model", None),
    "workspace_x": (list(WORKSPACE_X), "workspace x range of the pusher tip [m]", None),
    "workspace_y": (list(WORKSPACE_Y), "workspace y range of the pusher tip [m]", None),
    "workspace_z_max": (0.15, "maximum push height [m]", (0.001, 0.5)),
    "arm_base": (list(ARM_BASE), "xy of the xArm7 base on the table [m]", None),
    "default_push_height": (0.005, "tip height when a goal gives height <= 0 [m]", (0.0005, 0.2)),
    "default_push_speed": (0.05, "tip speed when a goal gives speed <= 0 [m/s]", (0.001, 0.5)),
    "max_push_speed": (0.3, "fastest accepted push [m/s]", (0.001, 2.0)),
}


def default_settings() -> dict[str, Any]:
    return {k: (list(v[0]) if isinstance(v[0], list) else v[0]) for k, v in SETTINGS.items()}


def check_setting(name: str, value: Any) -> str | None:
    """None if ``value`` is valid for ``name``, else a message naming both."""
    if name not in SETTINGS:
        return f"unknown setting '{name}'"
    default, _, constraint = SETTINGS[name]
    if isinstance(default, list):
        vals = list(value)
        if len(vals) != 2 or not all(math.isfinite(float(v)) for v in vals):
            return f"'{name}' = {value!r} must be two finite numbers"
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


def workcell_config(settings: dict[str, Any]) -> WorkcellConfig:
    """WorkcellConfig from settings (missing names take defaults). Raises ValueError naming
    every invalid value."""
    s = default_settings()
    s.update(settings)
    problems = [p for p in (check_setting(k, v) for k, v in s.items()) if p]
    if problems:
        raise ValueError("; ".join(problems))
    overrides = {}
    for key, field in (("object_size", "size"), ("object_mass", "mass")):
        if s[key] > 0:
            overrides[field] = float(s[key])
    for key, field in (
        ("object_stiffness", "stiffness"),
        ("object_damping", "damping"),
        ("object_friction", "friction"),
    ):
        if s[key] >= 0:
            overrides[field] = float(s[key])
    obj = default_params(s["object"], **overrides)
    rig = RigLayout(
        num_cameras=int(s["num_cameras"]),
        half_extent=float(s["camera_half_extent"]),
        height=float(s["camera_height"]),
        width_px=int(s["image_width"]),
        height_px=int(s["image_height"]),
        fovy_deg=float(s["fovy_deg"]),
    )
    ws = Workspace(
        float(s["workspace_x"][0]),
        float(s["workspace_x"][1]),
        float(s["workspace_y"][0]),
        float(s["workspace_y"][1]),
        float(s["workspace_z_max"]),
    )
    limits = dataclasses.replace(
        PushLimits(),
        default_height=float(s["default_push_height"]),
        default_speed=float(s["default_push_speed"]),
        max_speed=float(s["max_push_speed"]),
    )
    cfg = WorkcellConfig(
        obj=obj,
        rig=rig,
        workspace=ws,
        limits=limits,
        arm_base=(float(s["arm_base"][0]), float(s["arm_base"][1])),
        fps=float(s["fps"]),
        timestep=float(s["timestep"]),
        randomize=bool(s["randomize"]),
    )
    cfg.validate()
    return cfg
