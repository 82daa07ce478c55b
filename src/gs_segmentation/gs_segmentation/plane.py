"""The table plane: from the calibration (world z = 0), refined by RANSAC on observed depth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TablePlane:
    """Plane ``normal . p + offset = 0`` in the world frame; normal (3,) unit, pointing up
    (towards the cameras); offset [m]. ``height(p)`` is the signed distance above it."""

    normal: np.ndarray
    offset: float
    source: str = "calibration"

    @classmethod
    def from_calibration(cls, table_height: float = 0.0) -> TablePlane:
        """The calibrated table: the world frame's z = ``table_height`` [m] plane."""
        return cls(np.array([0.0, 0.0, 1.0]), -float(table_height), "calibration")

    def height(self, points: np.ndarray) -> np.ndarray:
        """Signed height [m] above the plane of (..., 3) world points (NaN stays NaN)."""
        return points @ self.normal + self.offset

    def refined(
        self,
        points: np.ndarray,
        band: float = 0.02,
        threshold: float = 0.002,
        max_tilt_deg: float = 3.0,
        max_shift: float = 0.01,
        max_points: int = 20000,
        seed: int = 0,
    ) -> tuple[TablePlane, str]:
        """RANSAC refinement on (N, 3) world points within ``band`` [m] of this plane.

        Returns (plane, message). The refined plane is used only when it agrees with this
        one (tilt <= ``max_tilt_deg``, shift at the origin <= ``max_shift`` m, at least half
        the band's points are inliers); otherwise this plane is returned and the message
        says why the refinement was rejected.
        """
        import open3d as o3d

        pts = np.asarray(points, np.float64).reshape(-1, 3)
        pts = pts[np.isfinite(pts).all(1)]
        pts = pts[np.abs(self.height(pts)) < band]
        if len(pts) < 100:
            return self, f"plane refinement skipped: only {len(pts)} points near the table"
        rng = np.random.default_rng(seed)
        if len(pts) > max_points:
            pts = pts[rng.choice(len(pts), max_points, replace=False)]
        o3d.utility.random.seed(seed)
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
        model, inliers = cloud.segment_plane(threshold, 3, 200)
        n = np.asarray(model[:3], np.float64)
        d = float(model[3])
        scale = np.linalg.norm(n)
        n, d = n / scale, d / scale
        if n @ self.normal < 0:
            n, d = -n, -d
        tilt = float(np.degrees(np.arccos(np.clip(n @ self.normal, -1.0, 1.0))))
        shift = abs(d - self.offset)
        if tilt > max_tilt_deg or shift > max_shift or len(inliers) < 0.5 * len(pts):
            return self, (
                f"plane refinement rejected (tilt {tilt:.2f} deg, shift {1000 * shift:.1f} mm, "
                f"{len(inliers)}/{len(pts)} inliers); keeping the {self.source} plane"
            )
        return TablePlane(n, d, "ransac"), (
            f"table plane refined by RANSAC: tilt {tilt:.2f} deg, shift {1000 * shift:.1f} mm, "
            f"{len(inliers)}/{len(pts)} inliers"
        )
