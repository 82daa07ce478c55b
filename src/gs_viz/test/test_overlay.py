"""The camera overlay and the MP4 writer of the demo video."""

import numpy as np
import pytest

from gs_common.camera import CameraIntrinsics
from gs_viz.overlay import (
    OBSERVED_RGB,
    PREDICTED_RGB,
    VideoWriter,
    overlay,
    project_world,
)

INTR = CameraIntrinsics(64, 48, 50.0, 50.0, 31.5, 23.5)


def _looking_down(height=0.5):
    """world_from_camera of a camera at (0, 0, height) looking straight down (OpenCV: z
    forward = world -z, x right = world x, y down = world -y)."""
    t = np.eye(4)
    t[:3, :3] = np.diag([1.0, -1.0, -1.0])
    t[2, 3] = height
    return t


def test_projection_of_the_optical_axis_and_of_points_behind_or_outside():
    pts = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    uv, ok = project_world(pts, INTR, _looking_down())
    assert uv[0] == pytest.approx([31.5, 23.5])
    assert uv[1, 0] == pytest.approx(31.5 + 50.0 * 0.1 / 0.5)  # world +x = image right
    assert ok.tolist() == [True, True, False, False]  # behind the camera; outside the image


def test_overlay_draws_each_layer_where_it_projects():
    img = np.zeros((48, 64, 3), np.uint8)
    out = overlay(
        img, INTR, _looking_down(), observed=np.array([[0.1, 0.0, 0.0]]),
        predicted=np.array([[-0.1, 0.0, 0.0]]), lines=["hello"], scale=2,
    )  # fmt: skip
    assert out.shape == (96, 128, 3)
    u_obs = round((31.5 + 10 + 0.5) * 2 - 0.5)
    u_pred = round((31.5 - 10 + 0.5) * 2 - 0.5)
    v = round((23.5 + 0.5) * 2 - 0.5)
    assert tuple(out[v, u_obs]) == OBSERVED_RGB
    assert tuple(out[v, u_pred]) == PREDICTED_RGB
    assert out[:30, :60].max() == 255  # the text
    with pytest.raises(ValueError, match="the camera 64x48"):
        overlay(np.zeros((10, 10, 3), np.uint8), INTR, _looking_down())


def test_video_is_written_atomically_and_reads_back(tmp_path):
    import cv2

    path = tmp_path / "demo.mp4"
    w = VideoWriter(path, fps=5)
    for i in range(6):
        w.write(np.full((48, 64, 3), 40 * i, np.uint8))
        assert not path.exists()  # only the temporary file until close()
    with pytest.raises(ValueError, match="the video 64x48"):
        w.write(np.zeros((10, 10, 3), np.uint8))
    assert w.close() == path
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    assert list(tmp_path.iterdir()) == [path]
    empty = VideoWriter(tmp_path / "none.mp4", fps=5)
    assert empty.close() is None and list(tmp_path.iterdir()) == [path]
