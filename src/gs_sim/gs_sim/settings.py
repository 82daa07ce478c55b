"""Settings table of the simulator: one row per setting (name, default, unit, range or
choices, description). The ROS parameters of ``sim_node``, ``config/sim.yaml`` (a test checks
that it agrees) and the options of ``gs-sim`` derive from it; :func:`workcell_config` turns
settings into a :class:`WorkcellConfig`. ROS-free.

:data:`SETTINGS` configure the workcell; :data:`PUBLISHING` only what the node publishes.
"""

from __future__ import annotations

from typing import Any

from gs_common.names import EE_POSE, GT_POINTS_TOPIC, gt_mask_topic
from gs_common.push import PUSH_SETTINGS, push_limit_values, workspace_from_settings
from gs_common.settings import Setting, resolve
from gs_sim.camera_rig import DEFAULT_FOVY_DEG, RigLayout
from gs_sim.objects import OBJECT_TYPES, ROPE_SHAPES, default_params
from gs_sim.push import PushLimits
from gs_sim.workcell import WorkcellConfig

S = Setting
SETTINGS = [
    S("object", "rope", "", "deformable object type", choices=OBJECT_TYPES),
    S("seed", 0, "", "seed of the object's shape / initial pose randomization",
      range=(0, 2**31 - 1)),
    S("randomize", True, "", "randomize object shape and initial pose (seeded)"),
    S("rope_shape", "random", "",
      "initial rope curve: random (seeded smooth curve), u (an arc turning 150 deg) or s "
      "(two opposite 120 deg arcs); position and yaw stay seeded", choices=ROPE_SHAPES),
    S("object_size", -1.0, "m",
      "object size (rope length, cloth side, toy diameter); <= 0: type default",
      range=(-1.0, 1.0)),
    S("object_stiffness", -1.0, "",
      "Young's modulus [Pa] (toy) / edge stiffness (rope); < 0: type default",
      range=(-1.0, 1e9)),
    S("object_damping", -1.0, "", "object damping; < 0: type default", range=(-1.0, 1e3)),
    S("object_friction", -1.0, "", "object friction coefficient; < 0: type default",
      range=(-1.0, 5.0)),
    S("object_mass", -1.0, "kg", "object mass; <= 0: type default", range=(-1.0, 10.0)),
    S("fps", 15.0, "Hz", "camera frame rate = physics frame / robot state rate",
      range=(1.0, 60.0)),
    S("timestep", 0.002, "s", "physics time step", range=(1e-4, 0.01)),
    S("image_width", 320, "px", "image width of every camera", range=(16, 4096)),
    S("image_height", 240, "px", "image height of every camera", range=(16, 4096)),
    S("fovy_deg", DEFAULT_FOVY_DEG, "deg", "vertical field of view (D400 colour ~42.5)",
      range=(5.0, 150.0)),
    S("num_cameras", 4, "", "number of cameras around the table (4 = corners)", range=(1, 8)),
    S("camera_half_extent", 0.42, "m", "|x| = |y| of the corner cameras", range=(0.05, 3.0)),
    S("camera_height", 0.55, "m", "camera height above the table", range=(0.05, 3.0)),
    S("depth_noise", False, "", "apply the RealSense-like depth noise / dropout model"),
    *PUSH_SETTINGS,
]  # fmt: skip

PUBLISHING = [
    S("depth_encoding", "16UC1", "", "depth image encoding: 16UC1 (mm) or 32FC1 (m)",
      choices=("16UC1", "32FC1")),
    S("publish_ground_truth", True, "",
      f"publish object vertices on {GT_POINTS_TOPIC} (oracle experiments and benchmarks "
      "only)"),
    S("publish_masks", True, "",
      f"publish ground-truth object and robot masks on {gt_mask_topic('<cam>', 'object')} "
      f"and {gt_mask_topic('<cam>', 'robot')} (mono8, 255 = set): for evaluation and "
      "explicit oracle options only"),
    S("publish_ee_pose", True, "",
      f"publish {EE_POSE} (pusher tip, world frame); false when the robot_model node "
      "publishes it from forward kinematics"),
    S("real_time", True, "", "pace the simulation to wall-clock time (false: as fast as "
      "possible)"),
]  # fmt: skip
"""Node-only settings: what ``sim_node`` publishes and how it paces; no effect on the
workcell."""

NODE_SETTINGS = SETTINGS + PUBLISHING
"""Every ROS parameter of ``sim_node`` (= ``config/sim.yaml``)."""


def workcell_config(settings: dict[str, Any]) -> WorkcellConfig:
    """WorkcellConfig from settings (names of :data:`SETTINGS`; missing names take
    defaults). Raises ValueError naming every unknown or invalid value."""
    s = resolve(SETTINGS, settings)
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
    limits = PushLimits(**push_limit_values(s))
    cfg = WorkcellConfig(
        obj=obj,
        rig=rig,
        workspace=workspace_from_settings(s),
        limits=limits,
        arm_base=(float(s["arm_base"][0]), float(s["arm_base"][1])),
        fps=float(s["fps"]),
        timestep=float(s["timestep"]),
        randomize=bool(s["randomize"]),
        rope_shape=str(s["rope_shape"]),
    )
    cfg.validate()
    return cfg
