"""Fuse masked multi-view depth into one world-frame object cloud.

Every camera's metric depth is back-projected through its intrinsics, kept where the object
mask is set (and the robot mask is not), moved to the world frame with ``world_from_camera``
and concatenated; open3d then voxel-downsamples it and removes statistical outliers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import transform_points


class EmptyCloudError(ValueError):
    """No valid object point survived masking / filtering."""


def backproject_masked(
    depth: np.ndarray,
    mask: np.ndarray,
    intr: CameraIntrinsics,
    world_from_camera: np.ndarray,
    color: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """World points (M, 3) [m] of pixels with ``mask`` and a valid depth, and their colours.

    depth: (H, W) metres (NaN/0 = no reading); mask: (H, W) bool; color: (H, W, 3) uint8.
    Returns (points (M, 3) float64, colors (M, 3) float32 in [0, 1], zeros without colour).
    """
    if mask.shape != depth.shape:
        raise ValueError(f"mask {mask.shape} and depth {depth.shape} differ in size")
    cam_points = intr.backproject(depth)  # (H, W, 3), NaN where no depth
    keep = mask.astype(bool) & np.isfinite(cam_points[..., 2])
    pts = transform_points(
        np.asarray(world_from_camera, np.float64), cam_points[keep].astype(np.float64)
    )
    if color is None:
        cols = np.zeros((len(pts), 3), np.float32)
    else:
        cols = color[keep].astype(np.float32) / 255.0
    return pts, cols


def fuse_views(
    depths: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    intrinsics: Sequence[CameraIntrinsics],
    world_from_camera: np.ndarray,
    colors: Sequence[np.ndarray] | None = None,
    voxel_size: float = 0.004,
    nb_neighbors: int = 20,
    std_ratio: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Object cloud from C views: (N, 3) float32 world points [m], (N, 3) float32 colours.

    voxel_size [m] (0 disables downsampling); nb_neighbors / std_ratio: statistical outlier
    removal (nb_neighbors 0 disables it). Raises EmptyCloudError naming the views when no
    point is left.
    """
    import open3d as o3d

    all_pts, all_cols = [], []
    for i, (depth, mask) in enumerate(zip(depths, masks)):
        pts, cols = backproject_masked(
            depth, mask, intrinsics[i], world_from_camera[i], None if colors is None else colors[i]
        )
        all_pts.append(pts)
        all_cols.append(cols)
    pts = np.concatenate(all_pts) if all_pts else np.zeros((0, 3))
    if len(pts) == 0:
        raise EmptyCloudError(f"no masked pixel with valid depth in any of the {len(depths)} views")
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
    cloud.colors = o3d.utility.Vector3dVector(np.concatenate(all_cols).astype(np.float64))
    if voxel_size > 0:
        cloud = cloud.voxel_down_sample(voxel_size)
    if nb_neighbors > 0 and len(cloud.points) > nb_neighbors:
        cloud, _ = cloud.remove_statistical_outlier(nb_neighbors=nb_neighbors, std_ratio=std_ratio)
    if len(cloud.points) == 0:
        raise EmptyCloudError("every fused point was removed as an outlier")
    return (np.asarray(cloud.points, np.float32), np.asarray(cloud.colors, np.float32))
