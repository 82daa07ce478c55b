"""The MuJoCo workcell: table, workspace outline, lights, corner cameras, xArm7 + pusher and
one deformable object. World = table frame (table surface at z = 0), z up, metres."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from gs_common.push import Workspace
from gs_common.workcell import ARM_BASE
from gs_sim.camera_rig import RigCamera
from gs_sim.objects import FLEX_NAME, ObjectInstance, object_mjcf
from gs_sim.robot_xarm import ARM_PREFIX, JOINT_NAMES, TIP_SITE, PusherTool, xarm7_spec
from gs_sim.table_texture import TableTexture

# the toy's colours are its TOY_FABRIC texture's
OBJECT_RGBA = {"rope": "0.9 0.4 0.1 1", "cloth": "0.15 0.35 0.8 1", "toy": "1 1 1 1"}
# The toy's fabric: dark brown and cream patches, fixed to its surface (flex texcoords).
# A uniformly coloured, near-symmetric toy would hide its rotation about the vertical axis
# from colour, silhouette and depth alike; real stuffed toys carry seams, patches and faces.
TOY_FABRIC = (
    '<texture name="toy_fabric" type="2d" builtin="checker" rgb1="0.50 0.30 0.18" '
    'rgb2="0.90 0.85 0.75" width="64" height="64"/>'
    '<material name="toy_fabric" texture="toy_fabric" texrepeat="1 1"/>'
)


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    """Everything that shapes the compiled model. ``arm_base``: (x, y) of the arm base [m]."""

    cameras: tuple[RigCamera, ...]
    obj: ObjectInstance
    workspace: Workspace = dataclasses.field(default_factory=Workspace)
    arm_base: tuple[float, float] = ARM_BASE
    tool: PusherTool = dataclasses.field(default_factory=PusherTool)
    timestep: float = 0.002
    table_half: tuple[float, float] = (0.45, 0.5)
    table_texture: TableTexture | None = None  # e.g. a ChArUco board lying on the table


@dataclasses.dataclass
class SceneModel:
    """Compiled model plus the ids the workcell needs."""

    model: mujoco.MjModel
    config: SceneConfig
    arm_qpos_adr: np.ndarray  # (7,) int indices into qpos of joint1..joint7
    arm_dof_adr: np.ndarray  # (7,) int indices into qvel
    tip_site: int
    flex_id: int
    camera_ids: list[int]
    robot_geom_ids: np.ndarray  # (G,) int geoms that belong to the arm + pusher
    table_geom_id: int


def _world_mjcf(cfg: SceneConfig) -> str:
    ws = cfg.workspace
    tx, ty = cfg.table_half
    cams = []
    for cam in cfg.cameras:
        pos, xyaxes = cam.mujoco_pos_xyaxes()
        fovy = np.degrees(2 * np.arctan(0.5 * cam.intrinsics.height / cam.intrinsics.fy))
        cams.append(
            f'<camera name="{cam.name}" pos="{" ".join(f"{v:.6f}" for v in pos)}" '
            f'xyaxes="{" ".join(f"{v:.6f}" for v in xyaxes)}" fovy="{fovy:.6f}"/>'
        )
    w = max(c.intrinsics.width for c in cfg.cameras)
    h = max(c.intrinsics.height for c in cfg.cameras)
    outline = []
    t = 0.003  # outline half-width [m]
    cx, cy = (ws.x_min + ws.x_max) / 2, (ws.y_min + ws.y_max) / 2
    hx, hy = (ws.x_max - ws.x_min) / 2, (ws.y_max - ws.y_min) / 2
    for pos, size in (
        ((cx, ws.y_min), (hx, t)),
        ((cx, ws.y_max), (hx, t)),
        ((ws.x_min, cy), (t, hy)),
        ((ws.x_max, cy), (t, hy)),
    ):
        outline.append(
            f'<geom type="box" pos="{pos[0]:.4f} {pos[1]:.4f} 0.0002" size="{size[0]:.4f} '
            f'{size[1]:.4f} 0.0002" rgba="0.55 0.55 0.5 1" contype="0" conaffinity="0"/>'
        )
    sheet = cfg.table_texture
    rgba = OBJECT_RGBA[cfg.obj.params.kind]
    # flex elasticity (toy) is not integrated implicitly by implicit/implicitfast in MuJoCo 4
    integrator = "discrete" if cfg.obj.params.kind == "toy" else "implicitfast"
    return f"""
<mujoco model="gs_sim_workcell">
  <compiler autolimits="true"/>
  <option timestep="{cfg.timestep}" integrator="{integrator}" solver="CG" tolerance="1e-6"
          iterations="50" noslip_iterations="0"/>
  <size memory="64M"/>
  <statistic center="0 0 0.1" extent="1.0"/>
  <visual>
    <global offwidth="{w}" offheight="{h}"/>
    <quality shadowsize="0" offsamples="0"/>
    <map znear="0.02" zfar="5"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.45 0.45 0.45" specular="0.05 0.05 0.05"/>
  </visual>
  <asset>
    <texture name="wood" type="2d" builtin="checker" rgb1="0.72 0.62 0.48"
             rgb2="0.68 0.58 0.45" width="256" height="256" mark="random" random="0.15"
             markrgb="0.6 0.5 0.38"/>
    <material name="table" texture="wood" texrepeat="6 6" specular="0.05" shininess="0.1"/>
    <texture name="floor" type="2d" builtin="flat" rgb1="0.3 0.3 0.32" width="16" height="16"/>
    <material name="floor" texture="floor"/>
    {sheet.mjcf_asset() if sheet else ""}
    {TOY_FABRIC if cfg.obj.params.kind == "toy" else ""}
  </asset>
  <worldbody>
    <light name="top" pos="0 0 2.0" dir="0 0 -1" diffuse="0.5 0.5 0.5" castshadow="false"/>
    <geom name="floor" type="plane" pos="0 0 -0.75" size="3 3 0.1" material="floor"
          contype="0" conaffinity="0"/>
    <geom name="table" type="box" pos="0 0 -0.02" size="{tx} {ty} 0.02" material="table"
          contype="4" conaffinity="1" friction="0.6 0.005 0.0001"/>
    {"".join(outline)}
    {sheet.mjcf_geom() if sheet else ""}
    {"".join(cams)}
    {object_mjcf(cfg.obj, rgba=rgba)}
  </worldbody>
</mujoco>
"""


def build_scene(cfg: SceneConfig) -> SceneModel:
    """Compile the workcell model for ``cfg``."""
    cfg.workspace.validate()
    if cfg.table_texture is not None:
        cfg.table_texture.validate()
    spec = mujoco.MjSpec.from_string(_world_mjcf(cfg))
    arm = xarm7_spec(cfg.tool)
    frame = spec.worldbody.add_frame(pos=[cfg.arm_base[0], cfg.arm_base[1], 0.0])
    frame.attach_body(arm.body("link_base"), ARM_PREFIX, "")
    model = spec.compile()
    names = [ARM_PREFIX + j for j in JOINT_NAMES]
    jids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
    arm_body_ids = {i for i in range(model.nbody) if model.body(i).name.startswith(ARM_PREFIX)}
    robot_geoms = np.array([g for g in range(model.ngeom) if model.geom_bodyid[g] in arm_body_ids])
    return SceneModel(
        model=model,
        config=cfg,
        arm_qpos_adr=model.jnt_qposadr[jids].copy(),
        arm_dof_adr=model.jnt_dofadr[jids].copy(),
        tip_site=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, ARM_PREFIX + TIP_SITE),
        flex_id=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_FLEX, FLEX_NAME),
        camera_ids=[
            mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, c.name) for c in cfg.cameras
        ],
        robot_geom_ids=robot_geoms,
        table_geom_id=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "table"),
    )
