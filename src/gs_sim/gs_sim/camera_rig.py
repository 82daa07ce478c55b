"""Layout of the four corner RGB-D cameras (poses, intrinsics) and MuJoCo camera frames.

Poses are ``world_from_camera`` 4x4 transforms of the OpenCV optical frame (x right, y down,
z forward), world = table frame, metres. MuJoCo cameras look along their -z with y up, so
``R_mujoco = R_opencv @ diag(1, -1, -1)``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import look_at

#: D400-like colour stream at 640x480: fy ~ 615 px -> vertical field of view ~42.6 deg.
DEFAULT_FOVY_DEG = 42.5
OPENCV_FROM_MUJOCO = np.diag([1.0, -1.0, -1.0])


@dataclasses.dataclass(frozen=True)
class RigCamera:
    """One camera: name, ``world_from_camera`` (4, 4) OpenCV optical frame, intrinsics."""

    name: str
    world_from_camera: np.ndarray
    intrinsics: CameraIntrinsics

    def mujoco_pos_xyaxes(self) -> tuple[np.ndarray, np.ndarray]:
        """MJCF camera ``pos`` (3,) and ``xyaxes`` (6,) (x right, y up in world)."""
        r = self.world_from_camera[:3, :3]
        return self.world_from_camera[:3, 3].copy(), np.concatenate([r[:, 0], -r[:, 1]])


@dataclasses.dataclass(frozen=True)
class RigLayout:
    """Parameters of the corner rig.

    half_extent: |x| = |y| of the corner positions [m]; height: camera height above table [m];
    target: (3,) point the cameras look at [m]; width/height_px: resolution [px];
    fovy_deg: vertical field of view [deg]; yaw_offset_deg: rotation of the whole rig about z.
    """

    num_cameras: int = 4
    half_extent: float = 0.42
    height: float = 0.55
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    width_px: int = 320
    height_px: int = 240
    fovy_deg: float = DEFAULT_FOVY_DEG
    yaw_offset_deg: float = 0.0

    def validate(self) -> None:
        if not 1 <= self.num_cameras <= 8:
            raise ValueError(f"num_cameras={self.num_cameras} must be in [1, 8]")
        if not (0.05 <= self.half_extent <= 3.0):
            raise ValueError(f"camera half_extent={self.half_extent} m must be in [0.05, 3]")
        if not (0.05 <= self.height <= 3.0):
            raise ValueError(f"camera height={self.height} m must be in [0.05, 3]")
        if not (16 <= self.width_px <= 4096 and 16 <= self.height_px <= 4096):
            raise ValueError(
                f"camera resolution {self.width_px}x{self.height_px} must be in [16, 4096] per side"
            )
        if not (5.0 <= self.fovy_deg <= 150.0):
            raise ValueError(f"camera fovy_deg={self.fovy_deg} must be in [5, 150]")


def corner_rig(layout: RigLayout) -> list[RigCamera]:
    """Cameras ``cam0..camN-1`` evenly around the table (4: at the corners), looking at
    ``layout.target``. cam0 sits at (+x, +y) and the rest follow counter-clockwise."""
    layout.validate()
    intr = CameraIntrinsics.from_fov(layout.width_px, layout.height_px, layout.fovy_deg)
    cams = []
    radius = layout.half_extent * math.sqrt(2.0)
    for i in range(layout.num_cameras):
        angle = math.radians(45.0 + layout.yaw_offset_deg) + 2 * math.pi * i / layout.num_cameras
        eye = np.array([radius * math.cos(angle), radius * math.sin(angle), layout.height])
        cams.append(RigCamera(f"cam{i}", look_at(eye, layout.target), intr))
    return cams
