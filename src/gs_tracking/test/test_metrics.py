import numpy as np
import pytest

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import look_at
from gs_tracking.metrics import (
    SURVIVAL_3D_M,
    THRESHOLDS_3D_M,
    track_metrics,
    tracking_report,
)


def test_perfect_tracks_score_perfectly():
    gt = np.random.default_rng(0).normal(size=(5, 20, 3))
    m = track_metrics(gt, gt, THRESHOLDS_3D_M, SURVIVAL_3D_M)
    assert m["mte"] == 0.0 and m["delta_avg"] == 1.0 and m["survival"] == 1.0


def test_known_errors_give_known_metrics():
    gt = np.zeros((5, 4, 3))
    pred = gt.copy()
    pred[1:, :, 0] = np.array([0.001, 0.003, 0.006, 0.010])  # constant error per point
    m = track_metrics(pred, gt, THRESHOLDS_3D_M, SURVIVAL_3D_M)
    assert m["mte"] == pytest.approx(0.0045)  # median of 1, 3, 6, 10 mm
    # within 2/4/8/16 mm: 1/4, 2/4, 3/4, 4/4 of the points
    assert m["delta_avg"] == pytest.approx(np.mean([0.25, 0.5, 0.75, 1.0]))
    assert m["survival"] == 1.0


def test_survival_counts_frames_before_first_failure():
    gt = np.zeros((5, 2, 3))
    pred = gt.copy()
    pred[3:, 0, 0] = 1.0  # point 0 fails from frame 3 on: survives frames 1-2 of 4
    m = track_metrics(pred, gt, THRESHOLDS_3D_M, SURVIVAL_3D_M)
    assert m["survival"] == pytest.approx((2 / 4 + 1.0) / 2)


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="must both be"):
        track_metrics(np.zeros((3, 2, 3)), np.zeros((3, 3, 3)), THRESHOLDS_3D_M, 0.5)


def test_report_projects_into_cameras():
    cam = CameraIntrinsics.from_fov(320, 240, 50.0)
    pose = look_at([0.5, 0.5, 0.6], [0.0, 0.0, 0.0])[None]
    gt = np.random.default_rng(1).uniform(-0.1, 0.1, size=(4, 30, 3))
    pred = gt + np.array([0.005, 0.0, 0.0])
    pred[0] = gt[0]
    rep = tracking_report(pred, gt, [cam], pose)
    assert rep["3d"]["mte_mm"] == pytest.approx(5.0)
    assert rep["3d"]["delta_8mm"] == 1.0 and rep["3d"]["delta_4mm"] == 0.0
    assert 0.5 < rep["2d"]["mte_px"] < 10.0
