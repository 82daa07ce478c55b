"""ChArUco calibration of a multi-camera rig (OpenCV 5 ``cv2.aruco.CharucoDetector``), ROS-free.

A ChArUco board lying flat on the table defines ``world``: the origin is the centre of the
board's printed surface, x along the board's columns, y along its rows towards the image's
top edge, z up out of the table (the board frame of OpenCV has y down and z into the
board, hence ``world_from_board = diag(1, -1, -1)`` plus the centring offset).

Pipeline: :func:`detect` the board's inner corners in each camera image ->
:func:`initial_pose` per camera (IPPE PnP on the planar corners) -> :func:`refine_jointly`
minimises the reprojection error of all cameras (and of further board placements, whose
poses are unknowns; placement 0 is the world) with a robust (Huber) loss; corners far
outside the error distribution (median + 8 robust sigma, at least 0.5 px) are dropped and
the problem solved again -> :class:`CalibrationResult` with per-camera RMS reprojection
error [px].
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from scipy.optimize import least_squares

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import invert_transform, make_transform

#: corners are never rejected as outliers below this reprojection error [px]
OUTLIER_MIN_PX = 0.5


@dataclasses.dataclass(frozen=True)
class BoardSpec:
    """squares_x / squares_y: squares along the board's width / height; square_length and
    marker_length [m] as printed; dictionary: an OpenCV predefined ArUco dictionary name;
    thickness: height of the printed surface above the table [m]."""

    squares_x: int = 7
    squares_y: int = 5
    square_length: float = 0.055
    marker_length: float = 0.041
    dictionary: str = "DICT_4X4_50"
    thickness: float = 0.0

    def __post_init__(self) -> None:
        if self.squares_x < 3 or self.squares_y < 3:
            raise ValueError(f"board needs >= 3x3 squares, got {self.squares_x}x{self.squares_y}")
        if not 0 < self.marker_length < self.square_length:
            raise ValueError(
                f"marker_length={self.marker_length} m must be in (0, square_length="
                f"{self.square_length} m)"
            )
        if not hasattr(cv2.aruco, self.dictionary):
            raise ValueError(f"unknown ArUco dictionary '{self.dictionary}'")

    @property
    def size_m(self) -> tuple[float, float]:
        """(width, height) of the printed board [m]."""
        return self.squares_x * self.square_length, self.squares_y * self.square_length

    def board(self):
        d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard(
            (self.squares_x, self.squares_y), self.square_length, self.marker_length, d
        )

    def image(self, px_per_square: int = 100) -> np.ndarray:
        """(H, W) uint8 board image without margin (its edges are the board's edges)."""
        w, h = self.squares_x * px_per_square, self.squares_y * px_per_square
        return self.board().generateImage((w, h), marginSize=0, borderBits=1)

    def world_from_board(self) -> np.ndarray:
        """(4, 4): OpenCV board frame -> world (see module doc)."""
        w, h = self.size_m
        rot = np.diag([1.0, -1.0, -1.0])
        return make_transform(rot, -rot @ np.array([w / 2, h / 2, 0.0]) + [0, 0, self.thickness])

    def corners_world(self) -> np.ndarray:
        """(N, 3) float64 inner chessboard corners in world [m], indexed by corner id."""
        obj = np.asarray(self.board().getChessboardCorners(), np.float64).reshape(-1, 3)
        t = self.world_from_board()
        return obj @ t[:3, :3].T + t[:3, 3]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Observation:
    """Board corners seen by one camera in one image. ids: (N,) int corner ids;
    image_points: (N, 2) float64 px; placement: index of the board placement (0 = world)."""

    camera: str
    intrinsics: CameraIntrinsics
    ids: np.ndarray
    image_points: np.ndarray
    placement: int = 0
    distortion: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(5))


def detect(spec: BoardSpec, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner corners of the board in ``image`` ((H, W, 3) RGB or (H, W) gray uint8):
    (ids (N,) int, points (N, 2) float64 px, sub-pixel); empty arrays when not found."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.CharucoDetector(spec.board(), cv2.aruco.CharucoParameters(), params)
    corners, ids, _, _ = detector.detectBoard(gray)
    if ids is None or len(ids) == 0:
        return np.zeros(0, int), np.zeros((0, 2))
    return ids.reshape(-1).astype(int), corners.reshape(-1, 2).astype(np.float64)


def _rvec_t(t: np.ndarray) -> np.ndarray:
    """(6,) rotation vector + translation of a (4, 4) transform."""
    rvec, _ = cv2.Rodrigues(t[:3, :3])
    return np.concatenate([rvec.reshape(3), t[:3, 3]])


def _transform(x: np.ndarray) -> np.ndarray:
    rot, _ = cv2.Rodrigues(np.asarray(x[:3], np.float64))
    return make_transform(rot, x[3:6])


def initial_pose(spec: BoardSpec, obs: Observation, min_corners: int = 6) -> np.ndarray:
    """world_from_camera (4, 4) of one observation of placement 0 (planar PnP + LM)."""
    if len(obs.ids) < min_corners:
        raise ValueError(
            f"camera '{obs.camera}': {len(obs.ids)} board corners detected, need >= {min_corners}"
        )
    obj = spec.corners_world()[obs.ids]
    k, dist = obs.intrinsics.K, obs.distortion
    ok, rvec, tvec = cv2.solvePnP(obj, obs.image_points, k, dist, flags=cv2.SOLVEPNP_IPPE)
    if not ok:
        raise ValueError(f"camera '{obs.camera}': PnP failed on {len(obs.ids)} corners")
    rvec, tvec = cv2.solvePnPRefineLM(obj, obs.image_points, k, dist, rvec, tvec)
    rot, _ = cv2.Rodrigues(rvec)
    return invert_transform(make_transform(rot, tvec.reshape(3)))


def _project(cam_from_world: np.ndarray, pts: np.ndarray, obs: Observation) -> np.ndarray:
    rvec, _ = cv2.Rodrigues(cam_from_world[:3, :3])
    img, _ = cv2.projectPoints(pts, rvec, cam_from_world[:3, 3], obs.intrinsics.K, obs.distortion)
    return img.reshape(-1, 2)


@dataclasses.dataclass
class CalibrationResult:
    """world_from_camera: {camera: (4, 4)}; rms_px / max_px: reprojection error per camera
    [px]; corners: corners used per camera; world_from_placement: board placements > 0;
    rejected: corners dropped as outliers per camera (e.g. partly covered by the object)."""

    world_from_camera: dict[str, np.ndarray]
    rms_px: dict[str, float]
    max_px: dict[str, float]
    corners: dict[str, int]
    world_from_placement: dict[int, np.ndarray]
    rejected: dict[str, int] = dataclasses.field(default_factory=dict)


def refine_jointly(
    spec: BoardSpec, observations: list[Observation], initial: dict[str, np.ndarray]
) -> CalibrationResult:
    """Least squares over every camera pose (and every board placement > 0) minimising all
    corner reprojection errors together (Huber loss, 1 px scale)."""
    cams = sorted({o.camera for o in observations})
    missing = [c for c in cams if c not in initial]
    if missing:
        raise ValueError(f"no initial pose for cameras {missing}")
    placements = sorted({o.placement for o in observations if o.placement > 0})
    corners = spec.corners_world()
    x0 = [_rvec_t(invert_transform(initial[c])) for c in cams]
    for pl in placements:  # initial placement pose from the first camera that saw it
        o = next(o for o in observations if o.placement == pl)
        c_from_w = invert_transform(initial[o.camera])
        ok, rvec, tvec = cv2.solvePnP(
            corners[o.ids], o.image_points, o.intrinsics.K, o.distortion, flags=cv2.SOLVEPNP_IPPE
        )
        if not ok:
            raise ValueError(f"placement {pl}: PnP failed in camera '{o.camera}'")
        rot, _ = cv2.Rodrigues(rvec)
        c_from_pl = make_transform(rot, tvec.reshape(3))
        x0.append(_rvec_t(invert_transform(c_from_w) @ c_from_pl))
    x0 = np.concatenate(x0) if x0 else np.zeros(0)
    index = {c: i for i, c in enumerate(cams)}
    pl_index = {p: len(cams) + i for i, p in enumerate(placements)}

    def residuals(x: np.ndarray) -> np.ndarray:
        res = []
        for o in observations:
            c_from_w = _transform(x[6 * index[o.camera] : 6 * index[o.camera] + 6])
            pts = corners[o.ids]
            if o.placement > 0:
                j = pl_index[o.placement]
                w_from_pl = _transform(x[6 * j : 6 * j + 6])
                pts = pts @ w_from_pl[:3, :3].T + w_from_pl[:3, 3]
            res.append((_project(c_from_w, pts, o) - o.image_points).ravel())
        return np.concatenate(res)

    sol = least_squares(residuals, x0, loss="huber", f_scale=1.0, max_nfev=500)
    err = residuals(sol.x).reshape(-1, 2)
    per_point = np.linalg.norm(err, axis=1)
    poses, rms, mx, count = {}, {}, {}, {}
    start = 0
    for o in observations:
        n = len(o.ids)
        e = per_point[start : start + n]
        start += n
        rms.setdefault(o.camera, []).append(e)
    for c in cams:
        e = np.concatenate(rms[c])
        poses[c] = invert_transform(_transform(sol.x[6 * index[c] : 6 * index[c] + 6]))
        rms[c], mx[c], count[c] = float(np.sqrt(np.mean(e**2))), float(e.max()), len(e)
    placed = {p: _transform(sol.x[6 * pl_index[p] : 6 * pl_index[p] + 6]) for p in placements}
    return CalibrationResult(poses, rms, mx, count, placed)


def calibrate(
    spec: BoardSpec, observations: list[Observation], min_corners: int = 6
) -> CalibrationResult:
    """Initial pose per camera (from its placement-0 view with the most corners), then
    :func:`refine_jointly`. Raises ValueError naming a camera without a usable view."""
    initial = {}
    for cam in sorted({o.camera for o in observations}):
        views = [o for o in observations if o.camera == cam and o.placement == 0]
        if not views:
            raise ValueError(f"camera '{cam}' never saw the board in placement 0 (the world)")
        initial[cam] = initial_pose(spec, max(views, key=lambda o: len(o.ids)), min_corners)
    usable = [o for o in observations if len(o.ids) >= min_corners]
    first = refine_jointly(spec, usable, initial)
    # Corners partly covered (by the object, the arm) are found off their true position:
    # drop those far outside the error distribution of all corners, then solve again.
    errors = [_errors(spec, o, first) for o in usable]
    flat = np.concatenate(errors)
    med = float(np.median(flat))
    mad = float(np.median(np.abs(flat - med)))
    limit = max(OUTLIER_MIN_PX, med + 8.0 * 1.4826 * mad)
    kept, rejected = [], {}
    for o, err in zip(usable, errors):
        ok = err <= limit
        rejected[o.camera] = rejected.get(o.camera, 0) + int((~ok).sum())
        if ok.sum() >= min_corners:
            kept.append(dataclasses.replace(o, ids=o.ids[ok], image_points=o.image_points[ok]))
    if not any(rejected.values()):
        return first
    result = refine_jointly(spec, kept, first.world_from_camera)
    result.rejected = rejected
    return result


def _errors(spec: BoardSpec, obs: Observation, result: CalibrationResult) -> np.ndarray:
    """(N,) reprojection error [px] of each corner of ``obs`` under ``result``."""
    pts = spec.corners_world()[obs.ids]
    if obs.placement > 0:
        t = result.world_from_placement[obs.placement]
        pts = pts @ t[:3, :3].T + t[:3, 3]
    c_from_w = invert_transform(result.world_from_camera[obs.camera])
    return np.linalg.norm(_project(c_from_w, pts, obs) - obs.image_points, axis=1)


def pose_error(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(translation error [m], rotation error [deg]) between two (4, 4) poses."""
    dt = float(np.linalg.norm(estimate[:3, 3] - truth[:3, 3]))
    r = estimate[:3, :3].T @ truth[:3, :3]
    angle = np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1.0, 1.0)))
    return dt, float(angle)
