import numpy as np
import pytest

from gs_common.camera import CameraIntrinsics


def test_from_fov_and_projection_round_trip():
    cam = CameraIntrinsics.from_fov(320, 240, 60.0)
    assert cam.fx == pytest.approx(120.0 / np.tan(np.radians(30.0)))
    depth = np.full((240, 320), 2.0, np.float32)
    pts = cam.backproject(depth).reshape(-1, 3)
    uv, z = cam.project(pts)
    v, u = np.mgrid[0:240, 0:320]
    assert np.allclose(uv[:, 0], u.ravel(), atol=1e-3)
    assert np.allclose(uv[:, 1], v.ravel(), atol=1e-3)
    assert np.allclose(z, 2.0)


def test_backproject_marks_missing_depth_nan_and_checks_shape():
    cam = CameraIntrinsics(4, 3, 10.0, 10.0, 1.5, 1.0)
    depth = np.ones((3, 4), np.float32)
    depth[0, 0] = 0.0
    pts = cam.backproject(depth)
    assert np.isnan(pts[0, 0]).all() and np.isfinite(pts[1, 1]).all()
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        cam.backproject(np.ones((4, 3)))


def test_scaled_halves_resolution_consistently():
    cam = CameraIntrinsics.from_fov(640, 480, 58.0)
    half = cam.scaled(0.5)
    assert (half.width, half.height) == (320, 240)
    # the same 3D point lands on the same relative image location
    uv_full, _ = cam.project(np.array([[0.1, -0.05, 1.0]]))
    uv_half, _ = half.project(np.array([[0.1, -0.05, 1.0]]))
    assert np.allclose((uv_full + 0.5) / 2 - 0.5, uv_half)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(width=0, height=10, fx=1, fy=1, cx=0, cy=0), "size"),
        (dict(width=10, height=10, fx=float("nan"), fy=1, cx=0, cy=0), "fx"),
        (dict(width=10, height=10, fx=-1, fy=1, cx=0, cy=0), "focal"),
    ],
)
def test_invalid_intrinsics_are_rejected_with_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CameraIntrinsics(**kwargs)
