"""A synthetic workcell by analytic ray casting (table, spheres, cameras): exact depth,
colour and masks for tests and quick checks of the segmentation core."""

from __future__ import annotations

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import look_at
from gs_segmentation.views import RGBDView

TABLE_RGB = (184, 158, 122)  # wood, like the simulator's table
OBJECT_RGB = (230, 100, 25)  # orange rope
ROBOT_RGB = (40, 40, 45)  # dark pusher


def render(cameras, spheres, width=80, height=60, table_z=0.0):
    """Views of spheres [(centre (3,), radius, rgb, is_robot)] on the table z = ``table_z``.

    Returns (views with robot masks, object masks (H, W) bool per view).
    """
    intr = CameraIntrinsics.from_fov(width, height, 60.0)
    v, u = np.mgrid[0:height, 0:width]
    rays_cam = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones(u.shape)], -1)
    views, truths = [], []
    for pose in cameras:
        r, t = pose[:3, :3], pose[:3, 3]
        rays = rays_cam @ r.T  # world direction per unit optical depth
        depth = np.where(rays[..., 2] < 0, (table_z - t[2]) / rays[..., 2], np.inf)
        color = np.empty((height, width, 3), np.uint8)
        color[:] = TABLE_RGB
        label = np.zeros((height, width), np.int8)  # 0 table, 1 object, 2 robot
        for centre, radius, rgb, is_robot in spheres:
            oc = t - np.asarray(centre)
            a = (rays**2).sum(-1)
            b = 2 * (rays * oc).sum(-1)
            c = oc @ oc - radius**2
            disc = b**2 - 4 * a * c
            s = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
            hit = (s > 0) & (s < depth)
            depth = np.where(hit, s, depth)
            color[hit] = rgb
            label[hit] = 2 if is_robot else 1
        depth = np.where(np.isfinite(depth), depth, np.nan).astype(np.float32)
        views.append(RGBDView(color, depth, intr, pose, label == 2))
        truths.append(label == 1)
    return views, truths


def rig(n=4, radius=0.5, height=0.5):
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + np.pi / 4
    return [
        look_at([radius * np.cos(a), radius * np.sin(a), height], [0.0, 0.0, 0.0]) for a in angles
    ]
