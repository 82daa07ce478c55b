"""Episode I/O without ROS: simulator / recorded episodes (MCAP) and particle trajectories.

Raw episode (format ``gs_dynamics.sim_episode`` v1, written by ``gs_sim``; see
src/gs_sim/README.md): a rosbag2-compatible MCAP file (profile ``ros2``, CDR) with the camera
topics, ``cameras/rig``, ``robot/joint_states``, ``robot/ee_pose``, ``robot/executed_push`` and
ground truth under ``sim/ground_truth/`` (object vertices as PointCloud2 per frame, per-camera
object / robot masks as mono8 images). Frames are the timestamps of
``sim/ground_truth/object_points`` (or ``robot/ee_pose`` in an episode without ground truth).

Trajectories (format ``gs_dynamics.trajectories`` v1): particle positions over time, the
end-effector path and the pushes. :func:`load_trajectories` reads them from a raw episode
(ground-truth vertices) or from a ``.npz`` written by :func:`save_trajectories` (e.g. the
tracker's particles).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import make_transform, quat_to_matrix
from gs_common.image import decode_image, depth_to_metres
from gs_common.names import (  # GT_POINTS_TOPIC re-exported: episodes record it
    CAMERAS_RIG,
    EE_POSE,
    EXECUTED_PUSH,
    GT_POINTS_TOPIC,
    JOINT_STATES,
    color_image_topic,
    depth_image_topic,
    gt_mask_topic,
)
from gs_common.pointcloud import unpack_cloud_message

SIM_EPISODE_FORMAT = "gs_dynamics.sim_episode"
TRAJECTORIES_FORMAT = "gs_dynamics.trajectories"
TRAJECTORIES_VERSION = 1


class EpisodeFormatError(ValueError):
    """A file is not a readable episode / trajectory file (message names the problem)."""


class AtomicMcap:
    """The writing end of an episode file: ``writer`` (an instance of ``writer_class``, mcap's
    or mcap_ros2's ``Writer``; 4 MiB ZSTD chunks) writes ``<path>.tmp``; :meth:`commit`
    finishes it and renames it to ``path`` (atomic: a reader never sees a partial episode),
    :meth:`abort` removes the partial file."""

    def __init__(self, path: str | os.PathLike, writer_class) -> None:
        from mcap.writer import CompressionType

        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit()/abort()
        self.writer = writer_class(
            self._file, chunk_size=4 * 1024 * 1024, compression=CompressionType.ZSTD
        )

    def commit(self) -> Path:
        self.writer.finish()
        self._file.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._file.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def _open_reader(path: Path):
    try:
        from mcap.reader import make_reader
        from mcap_ros2.decoder import DecoderFactory
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise EpisodeFormatError(
            f"reading {path} needs the mcap and mcap-ros2-support packages: {exc}"
        ) from exc
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        return f, make_reader(f, decoder_factories=[DecoderFactory()])
    except Exception as exc:
        f.close()
        raise EpisodeFormatError(f"{path} is not a readable MCAP file: {exc}") from exc


def _xyz(msg) -> np.ndarray:
    return unpack_cloud_message(msg, ("x", "y", "z"))


def _image(msg) -> np.ndarray:
    return decode_image(
        bytes(msg.data), msg.height, msg.width, msg.step, msg.encoding, bool(msg.is_bigendian)
    )


@dataclasses.dataclass
class Episode:
    """A loaded episode. Arrays are numpy, SI units, world frame.

    times: (T,) float64 s since the episode start (frame times); object_points:
    (T, V, 3) float32 m (empty (T, 0, 3) without ground truth); ee_positions: (T, 3) m and
    ee_quats: (T, 4) wxyz of the pusher tip; joint_positions: (T, J) rad;
    pushes: (P, 4) float64 rows (x, y, theta, length) [m, m, rad, m]; push_times: (P,) s;
    camera_names; intrinsics (list of CameraIntrinsics); world_from_camera: (C, 4, 4)
    OpenCV optical frames; depth_scale: (C,) m per 16UC1 unit. Images and masks are read
    lazily per frame with :meth:`color`, :meth:`depth`, :meth:`object_mask`,
    :meth:`robot_mask`.
    """

    path: Path
    metadata: dict
    times: np.ndarray
    object_points: np.ndarray
    ee_positions: np.ndarray
    ee_quats: np.ndarray
    joint_names: list[str]
    joint_positions: np.ndarray
    pushes: np.ndarray
    push_times: np.ndarray
    camera_names: list[str]
    intrinsics: list[CameraIntrinsics]
    world_from_camera: np.ndarray
    depth_scale: np.ndarray
    topics: list[str]
    _log_times: np.ndarray = dataclasses.field(repr=False, default=None)

    @property
    def num_frames(self) -> int:
        return len(self.times)

    @property
    def fps(self) -> float:
        return float(1.0 / np.median(np.diff(self.times))) if len(self.times) > 1 else 0.0

    def _read_image(self, topic: str, frame: int) -> np.ndarray:
        if not 0 <= frame < self.num_frames:
            raise IndexError(f"frame {frame} is outside [0, {self.num_frames})")
        ns = int(self._log_times[frame])
        f, reader = _open_reader(self.path)
        with f:
            for _, _, _, msg in reader.iter_decoded_messages(
                topics=[topic], starting_at=ns, ending_at=ns
            ):
                return _image(msg)
        raise KeyError(f"{self.path.name} has no message on '{topic}' at frame {frame}")

    def _cam(self, cam: str | int) -> str:
        name = self.camera_names[cam] if isinstance(cam, int) else cam
        if name not in self.camera_names:
            raise KeyError(f"unknown camera '{name}'; cameras: {self.camera_names}")
        return name

    def color(self, frame: int, cam: str | int) -> np.ndarray:
        """(H, W, 3) uint8 RGB of ``cam`` at ``frame``."""
        return self._read_image(color_image_topic(self._cam(cam)), frame)

    def depth(self, frame: int, cam: str | int) -> np.ndarray:
        """(H, W) float32 depth [m], NaN where there is no reading."""
        name = self._cam(cam)
        raw = self._read_image(depth_image_topic(name), frame)
        scale = float(self.depth_scale[self.camera_names.index(name)])
        return depth_to_metres(raw, "16UC1" if raw.dtype == np.uint16 else "32FC1", scale)

    def object_mask(self, frame: int, cam: str | int) -> np.ndarray:
        """(H, W) bool ground-truth object mask (simulator episodes)."""
        return self._read_image(gt_mask_topic(self._cam(cam), "object"), frame) > 0

    def robot_mask(self, frame: int, cam: str | int) -> np.ndarray:
        """(H, W) bool ground-truth robot (arm + pusher) mask (simulator episodes)."""
        return self._read_image(gt_mask_topic(self._cam(cam), "robot"), frame) > 0


def load_episode(path: str | os.PathLike) -> Episode:
    """Load an episode MCAP (arrays eagerly, images lazily)."""
    path = Path(path)
    if not path.is_file():
        raise EpisodeFormatError(f"episode {path} does not exist")
    f, reader = _open_reader(path)
    with f:
        try:
            summary = reader.get_summary()
        except Exception as exc:
            raise EpisodeFormatError(f"{path} is not a readable MCAP file: {exc}") from exc
        topics = sorted({c.topic for c in summary.channels.values()}) if summary else []
        metadata = {}
        for record in reader.iter_metadata():
            if record.name == "gs_sim.episode":
                metadata = dict(record.metadata)
        frame_topic = GT_POINTS_TOPIC if GT_POINTS_TOPIC in topics else EE_POSE
        if frame_topic not in topics:
            raise EpisodeFormatError(
                f"{path} has neither '{GT_POINTS_TOPIC}' nor '{EE_POSE}'; topics: {topics}"
            )
        points, ee, joints, pushes, push_t = {}, {}, {}, [], []
        joint_names: list[str] = []
        rig = None
        wanted = [GT_POINTS_TOPIC, EE_POSE, JOINT_STATES, EXECUTED_PUSH, CAMERAS_RIG]
        for _, channel, message, msg in reader.iter_decoded_messages(
            topics=[t for t in wanted if t in topics]
        ):
            t = message.log_time
            if channel.topic == GT_POINTS_TOPIC:
                points[t] = _xyz(msg)
            elif channel.topic == EE_POSE:
                p, q = msg.pose.position, msg.pose.orientation
                ee[t] = (p.x, p.y, p.z, q.w, q.x, q.y, q.z)
            elif channel.topic == JOINT_STATES:
                joints[t] = list(msg.position)
                joint_names = list(msg.name)
            elif channel.topic == EXECUTED_PUSH:
                pushes.append((msg.x, msg.y, msg.theta, msg.length))
                push_t.append(t * 1e-9)
            elif rig is None:
                rig = msg
    frame_times = np.array(sorted(points if frame_topic == GT_POINTS_TOPIC else ee), np.int64)
    t0 = frame_times[0] if len(frame_times) else 0
    n = len(frame_times)
    ee_arr = np.array([ee.get(int(t), (np.nan,) * 7) for t in frame_times], np.float64).reshape(
        n, 7
    )
    obj = (
        np.stack([points[int(t)] for t in frame_times]).astype(np.float32)
        if points
        else np.zeros((n, 0, 3), np.float32)
    )
    njoint = len(joint_names)
    jarr = np.array(
        [joints.get(int(t), [np.nan] * njoint) for t in frame_times], np.float64
    ).reshape(n, njoint)
    names, intr, poses, scales = [], [], [], []
    if rig is not None:
        names = list(rig.names)
        for pose, info in zip(rig.world_from_camera, rig.color_info):
            q = pose.orientation
            rot = quat_to_matrix(np.array([q.w, q.x, q.y, q.z]))
            poses.append(make_transform(rot, [pose.position.x, pose.position.y, pose.position.z]))
            intr.append(CameraIntrinsics.from_matrix(np.array(info.k), info.width, info.height))
        scales = list(rig.depth_scale)
    meta = {k: _maybe_json(v) for k, v in metadata.items()}
    return Episode(
        path=path,
        metadata=meta,
        times=(frame_times - t0) * 1e-9,
        object_points=obj,
        ee_positions=ee_arr[:, :3],
        ee_quats=ee_arr[:, 3:],
        joint_names=joint_names,
        joint_positions=jarr,
        pushes=np.array(pushes, np.float64).reshape(-1, 4),
        push_times=np.array(push_t, np.float64) - t0 * 1e-9,
        camera_names=names,
        intrinsics=intr,
        world_from_camera=np.array(poses, np.float64).reshape(-1, 4, 4),
        depth_scale=np.array(scales, np.float64),
        topics=topics,
        _log_times=frame_times,
    )


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


@dataclasses.dataclass
class Trajectories:
    """Particle trajectories of one episode (format ``gs_dynamics.trajectories``).

    points: (T, N, 3) float32 m; ee: (T, 3) float32 m (pusher tip); pushes: (P, 4)
    float64 (x, y, theta, length); times: (T,) float64 s; dt: frame period [s];
    source: where they come from (e.g. "sim_ground_truth", "tracking").
    """

    points: np.ndarray
    ee: np.ndarray
    pushes: np.ndarray
    times: np.ndarray
    dt: float
    source: str

    def __post_init__(self) -> None:
        p = np.asarray(self.points)
        if p.ndim != 3 or p.shape[2] != 3:
            raise EpisodeFormatError(f"points must be (T, N, 3), got {p.shape}")
        if np.asarray(self.ee).shape != (p.shape[0], 3):
            raise EpisodeFormatError(
                f"ee must be ({p.shape[0]}, 3), got {np.asarray(self.ee).shape}"
            )


def save_trajectories(path: str | os.PathLike, traj: Trajectories) -> Path:
    """Write ``traj`` as ``.npz`` (atomic: temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(
            f,
            format=np.array(TRAJECTORIES_FORMAT),
            version=np.array(TRAJECTORIES_VERSION),
            points=np.asarray(traj.points, np.float32),
            ee=np.asarray(traj.ee, np.float32),
            pushes=np.asarray(traj.pushes, np.float64).reshape(-1, 4),
            times=np.asarray(traj.times, np.float64),
            dt=np.array(float(traj.dt)),
            source=np.array(traj.source),
        )
    os.replace(tmp, path)
    return path


def load_trajectories(path: str | os.PathLike) -> Trajectories:
    """Trajectories from an episode ``.mcap`` (ground-truth vertices) or a ``.npz``."""
    path = Path(path)
    if path.suffix == ".mcap":
        ep = load_episode(path)
        if ep.object_points.shape[1] == 0:
            raise EpisodeFormatError(f"{path} has no ground truth ('{GT_POINTS_TOPIC}')")
        dt = float(np.median(np.diff(ep.times))) if ep.num_frames > 1 else 0.0
        return Trajectories(
            ep.object_points,
            ep.ee_positions.astype(np.float32),
            ep.pushes,
            ep.times,
            dt,
            "sim_ground_truth",
        )
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            fmt = str(z["format"]) if "format" in z else ""
            if fmt != TRAJECTORIES_FORMAT:
                raise EpisodeFormatError(
                    f"{path} is not a {TRAJECTORIES_FORMAT} file (format={fmt!r})"
                )
            version = int(z["version"])
            if version > TRAJECTORIES_VERSION:
                raise EpisodeFormatError(
                    f"{path} has version {version}; this reader knows up to {TRAJECTORIES_VERSION}"
                )
            return Trajectories(
                z["points"], z["ee"], z["pushes"], z["times"], float(z["dt"]), str(z["source"])
            )
    raise EpisodeFormatError(f"{path}: unknown trajectory file type (want .mcap or .npz)")
