"""A camera image with the object's states drawn over it, and a video of such frames.
ROS-free (numpy + OpenCV); the demo (gs_evaluation.demo_client) feeds it live frames.

Layers, all (N, 3) float [m] in the world frame, projected through the camera's pinhole
model (gs_common.camera):

- ``observed``: what the planner observes (tracked particles), green dots;
- ``predicted``: the state the learned dynamics predicts at the end of the planned push,
  blue dots;
- ``target``: the goal (e.g. the straight line), a white polyline;
- ``push``: the planned push (x, y, theta, length) [m, rad], a red arrow on the table;
- ``lines``: text in the top-left corner.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import invert_transform
from gs_common.push import push_end

OBSERVED_RGB = (60, 220, 90)
PREDICTED_RGB = (40, 150, 255)
TARGET_RGB = (255, 255, 255)
PUSH_RGB = (235, 40, 40)
PUSH_HEIGHT = 0.005  # [m] the push arrow is drawn this high above the table
MAX_DRAWN = 80  # points drawn per layer (every k-th of a larger one)


def project_world(
    points: np.ndarray, intrinsics: CameraIntrinsics, world_from_camera: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (N, 2) of world points (N, 3) [m] and a (N,) mask of the points
    in front of the camera and inside the image."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    cam_from_world = invert_transform(np.asarray(world_from_camera, np.float64))
    pc = p @ cam_from_world[:3, :3].T + cam_from_world[:3, 3]
    uv, z = intrinsics.project(pc)
    with np.errstate(invalid="ignore"):
        inside = (
            (z > 1e-3)
            & (uv[:, 0] >= 0)
            & (uv[:, 0] <= intrinsics.width - 1)
            & (uv[:, 1] >= 0)
            & (uv[:, 1] <= intrinsics.height - 1)
        )
    return uv, inside


def overlay(
    image: np.ndarray,
    intrinsics: CameraIntrinsics,
    world_from_camera: np.ndarray,
    observed: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    target: np.ndarray | None = None,
    push: np.ndarray | None = None,
    lines: tuple[str, ...] | list[str] = (),
    scale: int = 2,
) -> np.ndarray:
    """(H * scale, W * scale, 3) uint8 RGB: ``image`` (H, W, 3) uint8 RGB, of the camera
    (intrinsics at H x W, world_from_camera (4, 4)), enlarged by ``scale`` with the layers
    (module docstring) drawn on it. Empty or None layers are skipped."""
    import cv2

    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
    if img.shape[:2] != (intrinsics.height, intrinsics.width):
        raise ValueError(
            f"image is {img.shape[1]}x{img.shape[0]}, the camera "
            f"{intrinsics.width}x{intrinsics.height}"
        )
    out = np.ascontiguousarray(
        cv2.resize(
            img, (img.shape[1] * scale, img.shape[0] * scale), interpolation=cv2.INTER_LINEAR
        )
    )

    def px(points):
        uv, ok = project_world(points, intrinsics, world_from_camera)
        return np.round((uv + 0.5) * scale - 0.5).astype(np.int32), ok

    if target is not None and len(target):
        uv, ok = px(target)
        if ok.sum() >= 2:
            cv2.polylines(out, [uv[ok].reshape(-1, 1, 2)], False, TARGET_RGB, 2, cv2.LINE_AA)
    for layer, color, radius in ((observed, OBSERVED_RGB, 2), (predicted, PREDICTED_RGB, 4)):
        if layer is None or not len(layer):
            continue
        layer = np.asarray(layer)[:: max(1, len(layer) // MAX_DRAWN)]  # a cloud stays see-through
        uv, ok = px(layer)
        for u, v in uv[ok]:
            cv2.circle(out, (int(u), int(v)), radius, color, -1, cv2.LINE_AA)
    if push is not None:
        x, y = float(push[0]), float(push[1])
        ends = np.array([[x, y, PUSH_HEIGHT], [*push_end(push), PUSH_HEIGHT]])
        uv, ok = px(ends)
        if ok.all():
            cv2.arrowedLine(
                out, tuple(map(int, uv[0])), tuple(map(int, uv[1])), PUSH_RGB, 3, cv2.LINE_AA,
                tipLength=0.2,
            )  # fmt: skip
    for i, text in enumerate(lines):
        org = (8, 22 + 22 * i)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


class VideoWriter:
    """MP4 (MPEG-4 part 2, OpenCV's ``mp4v``) written frame by frame to a temporary file
    next to ``path`` and renamed onto it by :meth:`close` (a reader never sees a partial
    video). Frames: (H, W, 3) uint8 RGB, all of the first frame's size."""

    def __init__(self, path: str | Path, fps: float):
        if not fps > 0:
            raise ValueError(f"fps = {fps} must be > 0")
        self.path, self.fps = Path(path), float(fps)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.stem}-", suffix=".mp4", dir=self.path.parent
        )
        os.close(fd)
        self._tmp = Path(tmp)
        self._writer = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        import cv2

        f = np.asarray(frame)
        if f.ndim != 3 or f.shape[2] != 3 or f.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got {f.shape} {f.dtype}")
        size = (f.shape[1], f.shape[0])
        if self._writer is None:
            self._writer = cv2.VideoWriter(
                str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, size
            )
            if not self._writer.isOpened():
                raise RuntimeError(f"OpenCV cannot write MP4 (mp4v) to {self._tmp}")
            self._size = size
        elif size != self._size:
            raise ValueError(
                f"frame is {size[0]}x{size[1]}, the video {self._size[0]}x{self._size[1]}"
            )
        self._writer.write(np.ascontiguousarray(f[:, :, ::-1]))  # OpenCV writes BGR
        self.frames += 1

    def close(self) -> Path | None:
        """Finish the file and move it onto ``path``; None (and no file) without frames."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self.frames == 0:
            self._tmp.unlink(missing_ok=True)
            return None
        os.replace(self._tmp, self.path)
        return self.path
