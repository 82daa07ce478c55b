"""One multi-view RGB-D frame, as the segmentation core consumes it (ROS-free)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gs_common.camera import CameraIntrinsics


@dataclass
class RGBDView:
    """One camera at one instant.

    color: (H, W, 3) uint8 RGB; depth: (H, W) float metres, registered to colour (NaN or 0 =
    no reading); intrinsics: pinhole camera of both; world_from_camera: (4, 4) float64 pose
    (OpenCV optical frame -> world, metres); robot_mask: (H, W) bool, True on robot pixels,
    or None when no robot mask is available for this view.
    """

    color: np.ndarray
    depth: np.ndarray
    intrinsics: CameraIntrinsics
    world_from_camera: np.ndarray
    robot_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        h, w = self.intrinsics.height, self.intrinsics.width
        if self.color.shape != (h, w, 3):
            raise ValueError(f"color is {self.color.shape}, expected ({h}, {w}, 3)")
        if self.depth.shape != (h, w):
            raise ValueError(f"depth is {self.depth.shape}, expected ({h}, {w})")
        if self.robot_mask is not None and self.robot_mask.shape != (h, w):
            raise ValueError(f"robot_mask is {self.robot_mask.shape}, expected ({h}, {w})")
        pose = np.asarray(self.world_from_camera, np.float64)
        if pose.shape != (4, 4) or not np.isfinite(pose).all():
            raise ValueError(f"world_from_camera must be a finite (4, 4) matrix, got {pose.shape}")
        self.world_from_camera = pose

    def world_points(self) -> np.ndarray:
        """(H, W, 3) float64 world points [m] of every pixel; NaN where there is no depth."""
        cam = self.intrinsics.backproject(np.nan_to_num(self.depth, nan=0.0)).astype(np.float64)
        r, t = self.world_from_camera[:3, :3], self.world_from_camera[:3, 3]
        return cam @ r.T + t
