"""Pinhole camera model (OpenCV convention: x right, y down, z forward; pixels, metres)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Intrinsics of an undistorted pinhole camera.

    width, height: image size [px]; fx, fy: focal lengths [px]; cx, cy: principal point [px]
    (pixel centres at integer coordinates, as in OpenCV and sensor_msgs/CameraInfo).
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        for name in ("fx", "fy", "cx", "cy"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"intrinsic {name} must be finite, got {value}")
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={self.fx} fy={self.fy}")

    @classmethod
    def from_fov(cls, width: int, height: int, fovy_deg: float) -> CameraIntrinsics:
        """Square-pixel camera with vertical field of view ``fovy_deg`` and centred axis."""
        if not 0.0 < fovy_deg < 180.0:
            raise ValueError(f"fovy_deg must be in (0, 180), got {fovy_deg}")
        f = 0.5 * height / math.tan(math.radians(fovy_deg) / 2)
        return cls(width, height, f, f, (width - 1) / 2, (height - 1) / 2)

    @classmethod
    def from_matrix(cls, k: np.ndarray, width: int, height: int) -> CameraIntrinsics:
        """From a 3x3 intrinsic matrix ``k``."""
        k = np.asarray(k, dtype=np.float64).reshape(3, 3)
        return cls(int(width), int(height), k[0, 0], k[1, 1], k[0, 2], k[1, 2])

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the standard name of the matrix
        """(3, 3) float64 intrinsic matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, factor: float) -> CameraIntrinsics:
        """The same camera at ``factor`` times the resolution (e.g. 0.5: 640x480 -> 320x240)."""
        return CameraIntrinsics(
            round(self.width * factor),
            round(self.height * factor),
            self.fx * factor,
            self.fy * factor,
            (self.cx + 0.5) * factor - 0.5,
            (self.cy + 0.5) * factor - 0.5,
        )

    def project(self, points_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project (N, 3) camera-frame points -> (N, 2) pixel coordinates and (N,) depth [m]."""
        p = np.asarray(points_cam, dtype=np.float64)
        z = p[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = np.stack([self.fx * p[:, 0] / z + self.cx, self.fy * p[:, 1] / z + self.cy], 1)
        return uv, z

    def backproject(self, depth: np.ndarray) -> np.ndarray:
        """Camera-frame points (H, W, 3) [m] of a metric depth image (H, W); 0/NaN -> NaN."""
        depth = np.asarray(depth, dtype=np.float32)
        if depth.shape != (self.height, self.width):
            raise ValueError(
                f"depth image is {depth.shape}, expected ({self.height}, {self.width})"
            )
        v, u = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        z = np.where(depth > 0, depth, np.nan)
        return np.stack([(u - self.cx) / self.fx * z, (v - self.cy) / self.fy * z, z], -1)
