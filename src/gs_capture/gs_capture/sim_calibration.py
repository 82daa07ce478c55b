"""Verify the ChArUco calibration in the simulator: lay a generated board on the simulated
table, render the rig's cameras, calibrate from the renders and compare with the known
camera poses (which the simulator knows exactly). ROS-free; used by ``gs-calibrate sim``
and the tests.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import cv2
import mujoco
import numpy as np

import gs_sim  # noqa: F401  (sets MUJOCO_GL before mujoco renders)
from gs_capture.charuco import (
    BoardSpec,
    CalibrationResult,
    Observation,
    calibrate,
    detect,
    pose_error,
)
from gs_sim.camera_rig import RigCamera, RigLayout, corner_rig
from gs_sim.objects import default_params, sample_object
from gs_sim.rig_renderer import RigRenderer
from gs_sim.robot_xarm import HOME_QPOS
from gs_sim.scene import SceneConfig, build_scene
from gs_sim.table_texture import TableTexture


def board_texture(spec: BoardSpec, directory: str | Path, px_per_square: int = 120) -> TableTexture:
    """Write the board image as a PNG in ``directory``; the texture lying centred on the
    table so that the board's world frame (see gs_capture.charuco) is the table frame."""
    path = Path(directory) / f"charuco_{spec.squares_x}x{spec.squares_y}.png"
    cv2.imwrite(str(path), spec.image(px_per_square))
    return TableTexture(str(path), spec.size_m, (0.0, 0.0))


@dataclasses.dataclass
class SimCalibrationReport:
    """Errors of the calibrated poses against the simulator's poses, per camera:
    translation [m], rotation [deg]; plus the calibration itself."""

    result: CalibrationResult
    cameras: list[RigCamera]
    translation_m: dict[str, float]
    rotation_deg: dict[str, float]


def render_board_views(
    layout: RigLayout, spec: BoardSpec, with_object: bool = True, seed: int = 0
) -> tuple[list[RigCamera], list[np.ndarray]]:
    """RGB renders (H, W, 3) uint8 of every rig camera with the board on the table (arm at
    home, optionally the default rope lying on the board)."""
    cameras = corner_rig(layout)
    with tempfile.TemporaryDirectory() as tmp:
        tex = board_texture(spec, tmp)
        obj = sample_object(default_params("rope"), np.random.default_rng(seed), randomize=True)
        scene = build_scene(SceneConfig(cameras=tuple(cameras), obj=obj, table_texture=tex))
    model = scene.model
    data = mujoco.MjData(model)
    data.qpos[scene.arm_qpos_adr] = HOME_QPOS
    if not with_object:
        model.flex_rgba[:, 3] = 0.0  # invisible
    mujoco.mj_forward(model, data)
    renderer = RigRenderer(model, scene.camera_ids, layout.width_px, layout.height_px)
    try:
        images = [f.rgb for f in renderer.render_all(data, depth=False)]
    finally:
        renderer.close()
    return cameras, images


def calibrate_sim(
    layout: RigLayout, spec: BoardSpec, with_object: bool = True, seed: int = 0
) -> SimCalibrationReport:
    """Render, detect, calibrate and compare (see module doc)."""
    # the sheet lies 0.2 mm above the table: that is the printed surface the board defines
    spec = dataclasses.replace(spec, thickness=TableTexture("", (1, 1)).surface_z)
    cameras, images = render_board_views(layout, spec, with_object, seed)
    obs = []
    for cam, img in zip(cameras, images):
        ids, pts = detect(spec, img)
        obs.append(Observation(cam.name, cam.intrinsics, ids, pts))
    result = calibrate(spec, obs)
    dt, dr = {}, {}
    for cam in cameras:
        dt[cam.name], dr[cam.name] = pose_error(
            result.world_from_camera[cam.name], cam.world_from_camera
        )
    return SimCalibrationReport(result, cameras, dt, dr)
