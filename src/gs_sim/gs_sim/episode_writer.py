"""Write one simulated episode as a rosbag2-compatible MCAP file (profile ``ros2``, CDR),
without a ROS runtime (``mcap-ros2-support``). Format: see the package README and
``gs_common.episode`` (the reader).

Messages are plain dicts in the layout of their ROS type. Times are simulation time: the
header stamp and the MCAP log time of frame k are ``k / fps`` seconds.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import ClassVar

import numpy as np
from mcap_ros2.writer import Writer

from gs_common import names
from gs_common.camera import CameraIntrinsics
from gs_common.episode import AtomicMcap
from gs_common.geometry import matrix_to_quat
from gs_common.image import encode_image
from gs_common.pointcloud import pack_points
from gs_sim.msg_schemas import schema_name, schema_text

FORMAT_NAME = "gs_dynamics.sim_episode"
FORMAT_VERSION = 1
DEPTH_SCALE = 0.001


def _stamp(t: float) -> dict:
    sec = math.floor(t)
    return {"sec": sec, "nanosec": min(round((t - sec) * 1e9), 999_999_999)}


def _header(t: float, frame_id: str) -> dict:
    return {"stamp": _stamp(t), "frame_id": frame_id}


def _image(t: float, frame_id: str, array: np.ndarray, encoding: str) -> dict:
    data, step = encode_image(array, encoding)
    return {
        "header": _header(t, frame_id),
        "height": array.shape[0],
        "width": array.shape[1],
        "encoding": encoding,
        "is_bigendian": 0,
        "step": step,
        "data": data,
    }


def _camera_info(t: float, frame_id: str, intr: CameraIntrinsics) -> dict:
    k = intr.K
    return {
        "header": _header(t, frame_id),
        "height": intr.height,
        "width": intr.width,
        "distortion_model": "plumb_bob",
        "d": [0.0] * 5,
        "k": k.ravel().tolist(),
        "r": np.eye(3).ravel().tolist(),
        "p": [k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0, 0.0, 0.0, 1.0, 0.0],
        "binning_x": 0,
        "binning_y": 0,
        "roi": {"x_offset": 0, "y_offset": 0, "height": 0, "width": 0, "do_rectify": False},
    }


def _pose(position, quat_wxyz) -> dict:
    q = [float(v) for v in quat_wxyz]
    return {
        "position": {"x": float(position[0]), "y": float(position[1]), "z": float(position[2])},
        "orientation": {"x": q[1], "y": q[2], "z": q[3], "w": q[0]},
    }


def _cloud(t: float, points: np.ndarray) -> dict:
    data, fields, step = pack_points(points)
    n = len(points)
    return {
        "header": _header(t, names.WORLD_FRAME),
        "height": 1,
        "width": n,
        "fields": [
            {"name": f.name, "offset": f.offset, "datatype": f.datatype, "count": 1} for f in fields
        ],
        "is_bigendian": False,
        "point_step": step,
        "row_step": step * n,
        "data": data,
        "is_dense": True,
    }


def tf_static_message(t: float, cameras) -> dict:
    """tf2_msgs/TFMessage: world -> every camera's optical frame (as the sim node sends)."""
    transforms = []
    for c in cameras:
        pose = _pose(c.world_from_camera[:3, 3], matrix_to_quat(c.world_from_camera[:3, :3]))
        transforms.append(
            {
                "header": _header(t, names.WORLD_FRAME),
                "child_frame_id": names.camera_optical_frame(c.name),
                "transform": {"translation": pose["position"], "rotation": pose["orientation"]},
            }
        )
    return {"transforms": transforms}


class EpisodeWriter:
    """Writes to ``<path>.tmp`` and renames to ``path`` on :meth:`close` (atomic)."""

    TYPES: ClassVar[dict[str, str]] = {
        "image": "sensor_msgs/Image",
        "info": "sensor_msgs/CameraInfo",
        "rig": "gs_dynamics_interfaces/CameraRig",
        "joints": "sensor_msgs/JointState",
        "pose": "geometry_msgs/PoseStamped",
        "cloud": "sensor_msgs/PointCloud2",
        "push": "gs_dynamics_interfaces/Push",
        "tf": "tf2_msgs/TFMessage",
    }

    def __init__(self, path: str | os.PathLike, metadata: dict) -> None:
        self._out = AtomicMcap(path, Writer)
        self.path, self.tmp, self._writer = self._out.path, self._out.tmp, self._out.writer
        self._schemas = {
            k: self._writer.register_msgdef(schema_name(v), schema_text(v))
            for k, v in self.TYPES.items()
        }
        meta = {"format": FORMAT_NAME, "version": str(FORMAT_VERSION)}
        meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
        self._writer.add_metadata("gs_sim.episode", meta)

    def _write(self, topic: str, kind: str, msg: dict, t: float) -> None:
        ns = round(t * 1e9)
        self._writer.write_message(topic, self._schemas[kind], msg, log_time=ns, publish_time=ns)

    def write_rig(self, t: float, cameras) -> None:
        msg = {
            "header": _header(t, names.WORLD_FRAME),
            "names": [c.name for c in cameras],
            "world_from_camera": [
                _pose(c.world_from_camera[:3, 3], matrix_to_quat(c.world_from_camera[:3, :3]))
                for c in cameras
            ],
            "color_info": [
                _camera_info(t, names.camera_optical_frame(c.name), c.intrinsics) for c in cameras
            ],
            "depth_scale": [DEPTH_SCALE] * len(cameras),
        }
        self._write(names.CAMERAS_RIG, "rig", msg, t)
        self._write("tf_static", "tf", tf_static_message(t, cameras), t)

    def write_frame(
        self,
        t: float,
        cameras,
        frames,
        joint_names,
        joints,
        joint_vel,
        tip_pos,
        tip_quat,
        object_points,
    ) -> None:
        """One time step: camera images (+ masks if present), robot state, ground truth."""
        for cam, fr in zip(cameras, frames):
            fid = names.camera_optical_frame(cam.name)
            rgb = _image(t, fid, fr.rgb, "rgb8")
            self._write(names.color_image_topic(cam.name), "image", rgb, t)
            mm = np.clip(np.round(fr.depth * 1000.0), 0, 65535).astype(np.uint16)
            self._write(names.depth_image_topic(cam.name), "image", _image(t, fid, mm, "16UC1"), t)
            info = _camera_info(t, fid, cam.intrinsics)
            self._write(names.camera_info_topic(cam.name), "info", info, t)
            for what, mask in (("object", fr.object_mask), ("robot", fr.robot_mask)):
                if mask is not None:
                    img = mask.astype(np.uint8) * 255
                    self._write(
                        names.gt_mask_topic(cam.name, what),
                        "image",
                        _image(t, fid, img, "mono8"),
                        t,
                    )
        self._write(
            names.JOINT_STATES,
            "joints",
            {
                "header": _header(t, names.WORLD_FRAME),
                "name": list(joint_names),
                "position": [float(v) for v in joints],
                "velocity": [float(v) for v in joint_vel],
                "effort": [],
            },
            t,
        )
        self._write(
            names.EE_POSE,
            "pose",
            {"header": _header(t, names.WORLD_FRAME), "pose": _pose(tip_pos, tip_quat)},
            t,
        )
        self._write(names.GT_POINTS_TOPIC, "cloud", _cloud(t, object_points), t)

    def write_push(self, t: float, x: float, y: float, theta: float, length: float) -> None:
        self._write(
            names.EXECUTED_PUSH,
            "push",
            {"x": float(x), "y": float(y), "theta": float(theta), "length": float(length)},
            t,
        )

    def close(self) -> Path:
        return self._out.commit()

    def abort(self) -> None:
        self._out.abort()
