"""Training / evaluation data: the robot alone rendered in MuJoCo (RGB, mask, depth) at
random joint configurations from random viewpoints, plus mesh-surface samples of the posed
robot (canonical initialisation and the Chamfer metric).

Scene: the robot's visual meshes (the simulator's xArm7 + pusher, :mod:`gs_sim.robot_xarm`),
no table, black background, view-independent lighting (ambient + two world-fixed directional
lights, no specular highlights), so that colour is a function of the posed surface only.
Rendering goes through :class:`gs_sim.rig_renderer.RigRenderer` (EGL / llvmpipe headless).

Dataset file (``.npz``; written atomically): ``rgb`` (M, V, H, W, 3) uint8, ``mask``
(M, V, H, W) bool (robot pixels), ``depth`` (M, V, H, W) float32 metres (0 = background),
``q`` (M, J) float32 rad, ``world_from_camera`` (M, V, 4, 4) float32 (OpenCV optical frame,
world = robot base frame), ``K`` (3, 3) float32, ``canonical`` (M,) bool (q = canonical).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import mujoco
import numpy as np
from tqdm import tqdm

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import look_at
from gs_robot_model.robots import Kinematics, RobotSpec, mujoco_spec
from gs_sim.rig_renderer import RigRenderer

VIEW_CAMERA = "view"
BACKGROUND = (0.0, 0.0, 0.0)


def build_model(robot: RobotSpec, width: int, height: int, fovy_deg: float) -> mujoco.MjModel:
    """The robot alone with one movable camera ``view`` and fixed lighting."""
    spec = mujoco_spec(robot)
    spec.visual.global_.offwidth = max(int(width), 16)
    spec.visual.global_.offheight = max(int(height), 16)
    spec.visual.quality.offsamples = 0
    spec.visual.headlight.ambient = [0.25, 0.25, 0.25]
    spec.visual.headlight.diffuse = [0.0, 0.0, 0.0]
    spec.visual.headlight.specular = [0.0, 0.0, 0.0]
    spec.visual.map.znear = 0.01
    spec.visual.map.zfar = 20.0
    spec.stat.extent = 1.0
    spec.stat.center = [0.0, 0.0, 0.3]
    for direction, diffuse in (((0.0, 0.0, -1.0), 0.35), ((-0.6, 0.4, -0.7), 0.3)):
        light = spec.worldbody.add_light(
            dir=list(direction), diffuse=[diffuse] * 3, specular=[0.0] * 3, castshadow=False
        )
        light.type = mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    spec.worldbody.add_camera(name=VIEW_CAMERA, fovy=float(fovy_deg))
    return spec.compile()


def set_camera(model: mujoco.MjModel, cam_id: int, world_from_camera: np.ndarray) -> None:
    """Place MuJoCo camera ``cam_id`` at an OpenCV optical-frame pose (4, 4)."""
    r_mj = world_from_camera[:3, :3] @ np.diag([1.0, -1.0, -1.0])
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(r_mj).reshape(-1))
    model.cam_pos[cam_id] = world_from_camera[:3, 3]
    model.cam_quat[cam_id] = quat


def random_views(
    n: int,
    rng: np.random.Generator,
    distance: tuple[float, float] = (1.0, 1.4),
    elevation_deg: tuple[float, float] = (-10.0, 60.0),
    target: tuple[float, float, float] = (0.0, 0.0, 0.3),
    target_jitter: float = 0.1,
) -> np.ndarray:
    """(n, 4, 4) world_from_camera poses on a spherical shell looking at the robot."""
    out = np.empty((n, 4, 4))
    for i in range(n):
        az = rng.uniform(0, 2 * math.pi)
        el = math.radians(rng.uniform(*elevation_deg))
        d = rng.uniform(*distance)
        tgt = np.asarray(target) + rng.uniform(-target_jitter, target_jitter, 3)
        eye = tgt + d * np.array(
            [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
        )
        out[i] = look_at(eye, tgt)
    return out


class RobotRenderer:
    """MuJoCo ground-truth renders of the robot alone: (rgb, mask, depth) per view."""

    def __init__(self, robot: RobotSpec, width: int, height: int, fovy_deg: float) -> None:
        self.robot = robot
        self.model = build_model(robot, width, height, fovy_deg)
        self.data = mujoco.MjData(self.model)
        if self.model.nq != robot.num_joints:
            raise ValueError(f"MuJoCo model has nq={self.model.nq}, expected {robot.num_joints}")
        self.cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, VIEW_CAMERA)
        self.renderer = RigRenderer(self.model, [self.cam_id], width, height)
        self.intrinsics = CameraIntrinsics.from_fov(width, height, fovy_deg)

    def render(self, q: np.ndarray, world_from_camera: np.ndarray):
        """q (J,) rad; world_from_camera (V, 4, 4) -> rgb (V,H,W,3) u8, mask (V,H,W), depth."""
        self.data.qpos[:] = q
        rgbs, masks, depths = [], [], []
        for pose in world_from_camera:
            set_camera(self.model, self.cam_id, pose)
            mujoco.mj_forward(self.model, self.data)
            frame = self.renderer.render_camera(self.data, 0)
            rgbs.append(frame.rgb)
            depths.append(frame.depth)
            masks.append(frame.depth > 0)
        return np.stack(rgbs), np.stack(masks), np.stack(depths)

    def close(self) -> None:
        self.renderer.close()


def surface_samples(robot: RobotSpec, q: np.ndarray, n: int, seed: int = 0, normals=False):
    """Area-uniform samples of the posed visual surface (meshes + pusher cylinder).

    q (J,) rad -> points (n, 3) float32 base frame [m], bone (n,) int64 index into
    ``robot.bones``, rgb (n, 3) float32 geom colour [, normals (n, 3) unit, from the
    triangles' winding, when ``normals``].
    """
    model = mujoco_spec(robot).compile()
    data = mujoco.MjData(model)
    data.qpos[:] = q
    mujoco.mj_kinematics(model, data)
    rng = np.random.default_rng(seed)
    tris, tri_bone, tri_rgb = [], [], []
    for g in range(model.ngeom):
        body = model.body(model.geom_bodyid[g]).name
        if body not in robot.bones:
            continue
        rot, pos = data.geom_xmat[g].reshape(3, 3), data.geom_xpos[g]
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
            m = model.geom_dataid[g]
            va, vn = model.mesh_vertadr[m], model.mesh_vertnum[m]
            fa, fn = model.mesh_faceadr[m], model.mesh_facenum[m]
            verts = model.mesh_vert[va : va + vn] @ rot.T + pos
            t = verts[model.mesh_face[fa : fa + fn]]
        elif model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CYLINDER:
            t = _cylinder_triangles(*model.geom_size[g][:2]) @ rot.T + pos
        else:
            continue
        tris.append(t)
        tri_bone.append(np.full(len(t), robot.bones.index(body)))
        tri_rgb.append(np.repeat(model.geom_rgba[g][None, :3], len(t), 0))
    tris = np.concatenate(tris)
    cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    area = 0.5 * np.linalg.norm(cross, axis=1)
    idx = rng.choice(len(tris), size=n, p=area / area.sum())
    u, v = rng.random((2, n))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tris[idx]
    pts = t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])
    out = (
        pts.astype(np.float32),
        np.concatenate(tri_bone)[idx].astype(np.int64),
        np.concatenate(tri_rgb)[idx].astype(np.float32),
    )
    if normals:
        nrm = cross[idx] / np.maximum(2 * area[idx, None], 1e-12)
        out = (*out, nrm.astype(np.float32))
    return out


def _cylinder_triangles(radius: float, half_length: float, segments: int = 24) -> np.ndarray:
    a = np.linspace(0, 2 * math.pi, segments + 1)
    ring = np.stack([radius * np.cos(a), radius * np.sin(a)], -1)
    tris = []
    for i in range(segments):
        p0, p1 = ring[i], ring[i + 1]
        lo0, lo1 = [*p0, -half_length], [*p1, -half_length]
        hi0, hi1 = [*p0, half_length], [*p1, half_length]
        tris += [[lo0, lo1, hi1], [lo0, hi1, hi0]]
        tris += [[[0, 0, -half_length], lo1, lo0], [[0, 0, half_length], hi0, hi1]]
    return np.asarray(tris, dtype=np.float64)


def generate(
    robot: RobotSpec,
    out_path: Path,
    num_configs: int,
    views: int,
    width: int,
    height: int,
    fovy_deg: float,
    seed: int,
    canonical_configs: int = 0,
) -> dict:
    """Render ``canonical_configs`` x ``views`` images at q = 0 and ``num_configs`` x ``views``
    at random configurations; write the dataset to ``out_path`` (atomic). Returns the meta."""
    rng = np.random.default_rng(seed)
    kin = Kinematics(robot)
    qs = np.concatenate(
        [
            np.zeros((canonical_configs, robot.num_joints), np.float32),
            kin.sample_configurations(num_configs, rng),
        ]
    )
    m = len(qs)
    rr = RobotRenderer(robot, width, height, fovy_deg)
    rgb = np.empty((m, views, height, width, 3), np.uint8)
    mask = np.empty((m, views, height, width), bool)
    depth = np.empty((m, views, height, width), np.float32)
    poses = np.empty((m, views, 4, 4), np.float32)
    try:
        for i in tqdm(range(m), desc=f"render {out_path.name}", unit="config"):
            poses[i] = random_views(views, rng)
            rgb[i], mask[i], depth[i] = rr.render(qs[i], poses[i].astype(np.float64))
    finally:
        rr.close()
    meta = {
        "robot": robot.name,
        "num_configs": int(num_configs),
        "canonical_configs": int(canonical_configs),
        "views": int(views),
        "width": int(width),
        "height": int(height),
        "fovy_deg": float(fovy_deg),
        "seed": int(seed),
        "background": list(BACKGROUND),
    }
    arrays = dict(
        rgb=rgb,
        mask=mask,
        depth=depth,
        q=qs,
        world_from_camera=poses,
        K=rr.intrinsics.K.astype(np.float32),
        canonical=np.arange(m) < canonical_configs,
        meta=np.array(json.dumps(meta)),
    )
    atomic_savez(out_path, arrays)
    return meta


def atomic_savez(path: Path, arrays: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_dataset(path: Path) -> dict:
    """Load a dataset written by :func:`generate` (arrays + ``meta`` dict)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset {path} does not exist (run `gs-robot data` first)")
    with np.load(path) as f:
        out = {k: f[k] for k in f.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out
