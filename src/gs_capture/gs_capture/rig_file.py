"""The camera rig file (YAML) written by ``gs-calibrate`` and read by the capture node.

Format ``gs_dynamics.camera_rig`` v1::

    format: gs_dynamics.camera_rig
    version: 1
    board: {squares_x: 7, squares_y: 5, square_length: 0.06, ...}   # what defined `world`
    cameras:
      cam0:
        world_from_camera: [[...4 rows of 4...]]   # OpenCV optical frame, metres
        intrinsics: {width: 640, height: 480, fx: .., fy: .., cx: .., cy: ..}
        reprojection_error_px: 0.21                 # RMS over the detected corners
        serial: "123456789012"                      # optional
    world_from_robot_base: [[...]]                  # optional (measured by the user)

`world` is the table frame defined by the ChArUco board (z up, out of the table).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import yaml

from gs_common.camera import CameraIntrinsics

RIG_FORMAT = "gs_dynamics.camera_rig"
RIG_VERSION = 1


class RigFileError(ValueError):
    """The rig file is missing, malformed or lacks a camera (message names it)."""


@dataclasses.dataclass
class RigCameraEntry:
    """One calibrated camera. world_from_camera: (4, 4) float64, OpenCV optical frame, m."""

    name: str
    world_from_camera: np.ndarray
    intrinsics: CameraIntrinsics | None = None
    reprojection_error_px: float | None = None
    serial: str = ""


@dataclasses.dataclass
class RigFile:
    cameras: dict[str, RigCameraEntry]
    board: dict = dataclasses.field(default_factory=dict)
    world_from_robot_base: np.ndarray | None = None

    def pose(self, name: str) -> np.ndarray:
        if name not in self.cameras:
            raise RigFileError(
                f"camera '{name}' is not in the rig file; it has {sorted(self.cameras)}"
            )
        return self.cameras[name].world_from_camera


def _matrix(value, what: str) -> np.ndarray:
    m = np.asarray(value, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise RigFileError(f"{what} must be a finite 4x4 matrix, got shape {m.shape}")
    if not np.allclose(m[3], [0, 0, 0, 1]) or not np.allclose(
        m[:3, :3] @ m[:3, :3].T, np.eye(3), atol=1e-5
    ):
        raise RigFileError(f"{what} is not a rigid transform: {m.tolist()}")
    return m


def save_rig(path: str | os.PathLike, rig: RigFile) -> Path:
    """Write ``rig`` atomically (temporary file + rename)."""
    path = Path(path)
    cams = {}
    for name, c in rig.cameras.items():
        entry = {"world_from_camera": np.round(c.world_from_camera, 9).tolist()}
        if c.intrinsics is not None:
            i = c.intrinsics
            entry["intrinsics"] = {
                "width": int(i.width),
                "height": int(i.height),
                "fx": float(i.fx),
                "fy": float(i.fy),
                "cx": float(i.cx),
                "cy": float(i.cy),
            }
        if c.reprojection_error_px is not None:
            entry["reprojection_error_px"] = round(float(c.reprojection_error_px), 4)
        if c.serial:
            entry["serial"] = str(c.serial)
        cams[name] = entry
    doc = {"format": RIG_FORMAT, "version": RIG_VERSION, "board": rig.board, "cameras": cams}
    if rig.world_from_robot_base is not None:
        doc["world_from_robot_base"] = np.asarray(rig.world_from_robot_base).tolist()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False, default_flow_style=None))
    os.replace(tmp, path)
    return path


def load_rig(path: str | os.PathLike) -> RigFile:
    """Read a rig file; raises RigFileError naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise RigFileError(f"rig file {path} does not exist (run gs-calibrate to create it)")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RigFileError(f"rig file {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != RIG_FORMAT:
        raise RigFileError(f"{path} is not a {RIG_FORMAT} file")
    if int(doc.get("version", 0)) > RIG_VERSION:
        raise RigFileError(f"{path} has version {doc.get('version')}; reader knows {RIG_VERSION}")
    cams = {}
    for name, entry in (doc.get("cameras") or {}).items():
        intr = None
        if "intrinsics" in entry:
            i = entry["intrinsics"]
            k = np.array([[i["fx"], 0, i["cx"]], [0, i["fy"], i["cy"]], [0, 0, 1]], float)
            intr = CameraIntrinsics.from_matrix(k, int(i["width"]), int(i["height"]))
        cams[name] = RigCameraEntry(
            name=name,
            world_from_camera=_matrix(entry.get("world_from_camera"), f"{name}.world_from_camera"),
            intrinsics=intr,
            reprojection_error_px=entry.get("reprojection_error_px"),
            serial=str(entry.get("serial", "")),
        )
    if not cams:
        raise RigFileError(f"rig file {path} lists no cameras")
    base = doc.get("world_from_robot_base")
    return RigFile(
        cameras=cams,
        board=dict(doc.get("board") or {}),
        world_from_robot_base=None if base is None else _matrix(base, "world_from_robot_base"),
    )
