"""Multi-view consistency: an object pixel must be supported by the other views.

Each candidate pixel of view i is back-projected to a world point and projected into every
other view j. View j votes:

- *support* when j's candidate mask is set in the 3x3 neighbourhood of the projection and
  j does not see through the point;
- *contradiction* when j sees through the point (the nearest surface in the neighbourhood is
  more than ``tol`` behind it: free space), or sees that very surface (within ``tol``) but
  its mask is not set there (e.g. j masked it as robot);
- nothing when the point is occluded in j (a surface in front of it), outside j's image or
  where j has no depth.

A pixel is kept when contradictions are at most ``max_contradiction`` of the votes cast.
The 3x3 neighbourhood makes the test tolerant to the half-pixel misalignment of object
boundaries seen from different cameras.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from gs_segmentation.views import RGBDView


def consistent_masks(
    views: Sequence[RGBDView],
    masks: Sequence[np.ndarray],
    world_points: Sequence[np.ndarray],
    tol: float = 0.01,
    max_contradiction: float = 0.5,
) -> list[np.ndarray]:
    """Masks (H, W) bool with the pixels contradicted by the other views removed.

    views: C views; masks: C candidate masks (H, W) bool; world_points: C (H, W, 3) world
    points [m] (NaN = no depth); tol [m]: depth agreement tolerance.
    """
    near, near_mask = [], []
    for v, m in zip(views, masks):
        d = np.where(np.isfinite(v.depth) & (v.depth > 0), v.depth, np.inf).astype(np.float32)
        near.append(ndimage.minimum_filter(d, size=3, mode="nearest"))
        near_mask.append(ndimage.binary_dilation(m, structure=np.ones((3, 3), bool)))
    out = []
    for i, (m, pts) in enumerate(zip(masks, world_points)):
        ys, xs = np.nonzero(m)
        if len(ys) == 0 or len(views) < 2:
            out.append(m.copy())
            continue
        p = pts[ys, xs]
        support = np.zeros(len(ys), np.int32)
        contra = np.zeros(len(ys), np.int32)
        for j, v in enumerate(views):
            if j == i:
                continue
            cam_from_world = np.linalg.inv(v.world_from_camera)
            pc = p @ cam_from_world[:3, :3].T + cam_from_world[:3, 3]
            uv, z = v.intrinsics.project(pc)
            with np.errstate(invalid="ignore"):
                u = np.round(uv[:, 0])
                w = np.round(uv[:, 1])
                inside = (
                    (z > 0)
                    & (u >= 0)
                    & (u < v.intrinsics.width)
                    & (w >= 0)
                    & (w < v.intrinsics.height)
                )
            idx = np.nonzero(inside)[0]
            uu, vv = u[idx].astype(int), w[idx].astype(int)
            dj = near[j][vv, uu]
            mj = near_mask[j][vv, uu]
            zj = z[idx]
            valid = np.isfinite(dj)
            through = valid & (dj > zj + tol)
            same = valid & (np.abs(dj - zj) <= tol)
            support[idx] += same & mj
            contra[idx] += through | (same & ~mj)
        votes = support + contra
        keep = contra <= max_contradiction * np.maximum(votes, 1)
        res = np.zeros_like(m)
        res[ys[keep], xs[keep]] = True
        out.append(res)
    return out
