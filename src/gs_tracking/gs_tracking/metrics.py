"""Point-tracking metrics of GS-Dynamics Table 1 (after PointOdyssey), in 3D and 2D.

For query trajectories ``pred`` and ground truth ``gt`` of shape (T, N, D):
- MTE: the median over the N trajectories of each one's mean error over time;
- delta_avg: the mean over thresholds of the fraction of (frame, point) pairs whose error
  is within the threshold (3D: 2, 4, 8, 16 mm; 2D: 1, 2, 4, 8, 16 px);
- survival: per trajectory, the fraction of frames before its error first exceeds the
  failure threshold (3D: 0.5 m; 2D: 50 px), averaged over trajectories.
Frame 0 is the query frame and is excluded (it is given).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import invert_transform, transform_points

THRESHOLDS_3D_M = (0.002, 0.004, 0.008, 0.016)
SURVIVAL_3D_M = 0.5
THRESHOLDS_2D_PX = (1.0, 2.0, 4.0, 8.0, 16.0)
SURVIVAL_2D_PX = 50.0


def track_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    thresholds: Sequence[float],
    survival_threshold: float,
    valid: np.ndarray | None = None,
) -> dict:
    """MTE, delta_avg (and per threshold) and survival of (T, N, D) trajectories.

    valid: optional (T, N) bool; invalid entries (e.g. points behind a camera) are ignored.
    Units follow the inputs (metres -> metres).
    """
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} must both be (T, N, D)")
    if pred.shape[0] < 2:
        raise ValueError(f"need at least 2 frames (frame 0 is the query), got {pred.shape[0]}")
    err = np.linalg.norm(pred[1:] - gt[1:], axis=-1)  # (T-1, N)
    ok = np.ones_like(err, bool) if valid is None else np.asarray(valid, bool)[1:]
    ok &= np.isfinite(err)
    err_masked = np.where(ok, err, np.nan)
    with np.errstate(invalid="ignore"):
        per_traj = np.nanmean(err_masked, axis=0)
    per_traj = per_traj[np.isfinite(per_traj)]
    fractions = {
        f"delta_{t:g}": float((err[ok] <= t).mean()) if ok.any() else 0.0 for t in thresholds
    }
    failed = (err > survival_threshold) & ok
    first_fail = np.where(failed.any(0), failed.argmax(0), err.shape[0])
    return {
        "mte": float(np.median(per_traj)) if len(per_traj) else float("nan"),
        "delta_avg": float(np.mean(list(fractions.values()))),
        **fractions,
        "survival": float(np.mean(first_fail / err.shape[0])),
        "num_points": int(pred.shape[1]),
        "num_frames": int(pred.shape[0]),
    }


def project_tracks(
    points: np.ndarray, intr: CameraIntrinsics, world_from_camera: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(T, N, 3) world points -> (T, N, 2) pixels and (T, N) in-front-of-camera flags."""
    cam = transform_points(
        invert_transform(np.asarray(world_from_camera, np.float64)),
        points.reshape(-1, 3).astype(np.float64),
    )
    uv, z = intr.project(cam)
    return uv.reshape(*points.shape[:2], 2), (z > 1e-6).reshape(points.shape[:2])


def tracking_report(
    pred: np.ndarray,
    gt: np.ndarray,
    intrinsics: Sequence[CameraIntrinsics],
    world_from_camera: np.ndarray,
) -> dict:
    """3D metrics [converted to mm] and 2D metrics [px] averaged over the cameras."""
    m3 = track_metrics(pred, gt, THRESHOLDS_3D_M, SURVIVAL_3D_M)
    report = {
        "3d": {
            "mte_mm": 1000 * m3["mte"],
            "delta_avg": m3["delta_avg"],
            "survival": m3["survival"],
            **{f"delta_{1000 * t:g}mm": m3[f"delta_{t:g}"] for t in THRESHOLDS_3D_M},
        }
    }
    per_cam = []
    for intr, pose in zip(intrinsics, world_from_camera):
        uv_p, front_p = project_tracks(pred, intr, pose)
        uv_g, front_g = project_tracks(gt, intr, pose)
        per_cam.append(
            track_metrics(uv_p, uv_g, THRESHOLDS_2D_PX, SURVIVAL_2D_PX, valid=front_p & front_g)
        )
    if per_cam:
        report["2d"] = {
            "mte_px": float(np.mean([m["mte"] for m in per_cam])),
            "delta_avg": float(np.mean([m["delta_avg"] for m in per_cam])),
            "survival": float(np.mean([m["survival"] for m in per_cam])),
        }
    report["num_points"], report["num_frames"] = m3["num_points"], m3["num_frames"]
    return report
