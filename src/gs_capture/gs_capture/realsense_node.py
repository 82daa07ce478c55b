"""ROS 2 node ``realsense``: N Intel RealSense cameras behind the simulator's topics.

Publishes (relative names, realsense-ros layout): ``cameras/<cam>/color/image_raw`` (rgb8),
``cameras/<cam>/depth/image_raw`` (16UC1 mm, aligned to colour),
``cameras/<cam>/color/camera_info``; ``cameras/rig`` (transient-local) and ``/tf_static``
(world -> each ``<cam>_color_optical_frame``, world -> robot base) from the rig file written
by ``gs-calibrate``. Frames of the cameras are grouped within ``group_tolerance`` seconds and
published with one common stamp. A lost camera is logged and re-opened; the others go on.

Cameras are chosen by serial number (``serials``); ``file:<path>`` plays an SDK recording
(``.db3``/``.bag``) through the same SDK pipeline instead (no hardware needed).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from gs_capture.realsense import CameraSpec, MultiCamera
from gs_capture.rig_file import load_rig
from gs_common.names import (
    CAMERAS_RIG,
    TF_STATIC_TOPIC,
    camera_info_topic,
    color_image_topic,
    depth_image_topic,
)
from gs_common.ros.camera_info import intrinsics_to_camera_info
from gs_common.ros.image import numpy_to_image
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pose import pose_from_matrix
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import make_header, seconds_to_stamp
from gs_common.ros.tf import TF_STATIC_QOS, WORLD_FRAME, optical_frame, rig_frames, tf_message
from gs_dynamics_interfaces.msg import CameraRig
from tf2_msgs.msg import TFMessage


def _check_names(v) -> str | None:
    if not v or any(not n or "/" in n or " " in n for n in v):
        return "need one or more non-empty names without '/' or spaces"
    if len(set(v)) != len(v):
        return "names must be unique"
    return None


PARAMS = [
    ParamSpec(
        "camera_names",
        ["cam0", "cam1", "cam2", "cam3"],
        "camera names (topics cameras/<name>/...)",
        check=_check_names,
        read_only=True,
    ),
    ParamSpec(
        "serials",
        ["", "", "", ""],
        "serial number per camera (same order), or file:<path> to play an SDK recording",
        read_only=True,
    ),
    ParamSpec("width", 640, "colour and depth width [px]", range=(16, 4096), read_only=True),
    ParamSpec("height", 480, "colour and depth height [px]", range=(16, 4096), read_only=True),
    ParamSpec("fps", 30, "frame rate [Hz]", choices=(6, 15, 30, 60, 90), read_only=True),
    ParamSpec(
        "hardware_sync",
        False,
        "inter-camera hardware sync: the first camera is master, the others slaves "
        "(needs the sync cable)",
        read_only=True,
    ),
    ParamSpec(
        "group_tolerance",
        0.02,
        "largest stamp spread of one multi-camera frame [s]; free-running cameras have any "
        "phase, so keep it above half a frame period (1 / (2 fps)) unless hardware-synced",
        range=(0.0005, 1.0),
        read_only=True,
    ),
    ParamSpec(
        "loss_timeout",
        1.0,
        "a camera without frames for this long is lost [s]",
        range=(0.05, 60.0),
        read_only=True,
    ),
    ParamSpec(
        "reopen_period",
        2.0,
        "re-open a lost camera this often [s]",
        range=(0.05, 600.0),
        read_only=True,
    ),
    ParamSpec(
        "rig_file",
        "",
        "rig file from gs-calibrate (empty: uncalibrated, no cameras/rig); relative paths "
        "are taken from the working directory",
        read_only=True,
    ),
    ParamSpec(
        "robot_base_frame",
        "link_base",
        "TF frame of the robot base (world -> it from the rig file, if there)",
        read_only=True,
    ),
]


class RealSenseNode(Node):
    """Thin ROS adapter around :class:`gs_capture.realsense.MultiCamera`."""

    def __init__(self, **kwargs) -> None:
        super().__init__("realsense", **kwargs)
        p = self.params = declare_params(self, PARAMS)
        names, serials = list(p["camera_names"]), list(p["serials"])
        if len(serials) != len(names):
            raise ValueError(
                f"parameter 'serials' has {len(serials)} entries for {len(names)} cameras "
                f"{names}; give one serial (or file:<path>) per camera"
            )
        missing = [n for n, s in zip(names, serials) if not s]
        if missing:
            raise ValueError(f"no serial number for cameras {missing} (config/cameras.yaml)")
        self.rig = load_rig(Path(p["rig_file"]).expanduser()) if p["rig_file"] else None
        if self.rig is not None:
            for n in names:
                self.rig.pose(n)  # raises naming a camera the rig file lacks
        specs = []
        for i, (n, s) in enumerate(zip(names, serials)):
            sync = (1 if i == 0 else 2) if p["hardware_sync"] else 0
            file = s[5:] if s.startswith("file:") else ""
            specs.append(
                CameraSpec(n, "" if file else s, file, p["width"], p["height"], p["fps"], sync)
            )
        self.names = names
        self.pubs = {}
        for n in names:
            self.pubs[n] = (
                self.create_publisher(Image, color_image_topic(n), SENSOR_QOS),
                self.create_publisher(Image, depth_image_topic(n), SENSOR_QOS),
                self.create_publisher(CameraInfo, camera_info_topic(n), SENSOR_QOS),
            )
        self.pub_rig = self.create_publisher(CameraRig, CAMERAS_RIG, LATCHED_QOS)
        self.pub_tf_static = self.create_publisher(TFMessage, TF_STATIC_TOPIC, TF_STATIC_QOS)
        self.infos: dict[str, CameraInfo] = {}
        self._pub_lock = threading.Lock()
        self.cams = MultiCamera(
            specs,
            p["group_tolerance"],
            self._on_group,
            self._on_log,
            self._on_opened,
            loss_timeout_s=p["loss_timeout"],
            reopen_period_s=p["reopen_period"],
        )
        if not p["hardware_sync"] and p["group_tolerance"] < 0.5 / p["fps"]:
            self.get_logger().warning(
                f"group_tolerance {p['group_tolerance']} s is below half a frame period at "
                f"{p['fps']} Hz: free-running cameras may rarely form a complete frame"
            )
        self.cams.open_all()  # raises naming a camera that cannot be opened
        self._publish_rig()
        self.cams.start()
        self.create_timer(10.0, self._report)
        self.get_logger().info(
            "realsense ready: "
            + ", ".join(
                f"{c.spec.describe()} {c.intrinsics.width}x{c.intrinsics.height}"
                for c in self.cams.cameras
            )
            + f", rig "
            f"{p['rig_file'] or 'none (uncalibrated: run gs-calibrate)'}"
        )

    def _on_log(self, level: str, message: str) -> None:
        # one call site per severity: rclpy refuses one site logging at several severities
        log = self.get_logger()
        if level == "error":
            log.error(message)
        elif level == "warn":
            log.warning(message)
        else:
            log.info(message)

    def _on_opened(self, cam) -> None:
        info = intrinsics_to_camera_info(
            cam.intrinsics, seconds_to_stamp(0.0), optical_frame(cam.spec.name)
        )
        info.distortion_model, info.d = cam.distortion[0], list(cam.distortion[1])
        self.infos[cam.spec.name] = info

    def _publish_rig(self) -> None:
        if self.rig is None:
            return
        stamp = self.get_clock().now().to_msg()
        msg = CameraRig(header=make_header(WORLD_FRAME, stamp))
        msg.names = list(self.names)
        poses = [self.rig.pose(n) for n in self.names]
        for n, t in zip(self.names, poses):
            msg.world_from_camera.append(pose_from_matrix(t))
            info = self.infos[n]
            info.header.stamp = stamp
            msg.color_info.append(info)
        msg.depth_scale = [0.001] * len(self.names)
        self.pub_rig.publish(msg)
        frames = rig_frames(self.names, poses)
        if self.rig.world_from_robot_base is not None:
            frames.append(
                (WORLD_FRAME, self.params["robot_base_frame"], self.rig.world_from_robot_base)
            )
        self.pub_tf_static.publish(tf_message(frames, stamp))

    def _on_group(self, stamp_s: float, frames) -> None:
        stamp = seconds_to_stamp(stamp_s)
        with self._pub_lock:  # groups may complete in two camera threads at once
            self._publish_group(stamp, frames)

    def _publish_group(self, stamp, frames) -> None:
        for f in frames:
            color_pub, depth_pub, info_pub = self.pubs[f.camera]
            fid = optical_frame(f.camera)
            color_pub.publish(numpy_to_image(f.data.rgb, "rgb8", stamp, fid))
            depth_pub.publish(numpy_to_image(f.data.depth_mm, "16UC1", stamp, fid))
            info = self.infos[f.camera]
            info.header.stamp, info.header.frame_id = stamp, fid
            info_pub.publish(info)

    def _report(self) -> None:
        c = self.cams
        self.get_logger().info(
            f"groups {c.grouper.groups}, frames {c.frames}, losses {c.losses}, "
            f"active {c.grouper.active}, superseded {c.grouper.superseded}"
        )

    def close(self) -> None:
        if hasattr(self, "cams"):
            self.cams.stop()


def main(args=None) -> None:
    sys.exit(run_node(RealSenseNode, args, num_threads=2))


if __name__ == "__main__":
    main()
