"""Segmentation node: object masks per camera and the fused object cloud.

Subscribes to ``cameras/rig`` (latched) and per camera ``color/image_raw``,
``depth/image_raw`` and the robot masks (``robot_mask_source``: ``robot_model`` ->
``cameras/<cam>/robot_mask`` from gs_robot_model; ``oracle`` -> the simulator's
``sim/ground_truth/<cam>/robot_mask``, said in the log; ``none``). Publishes
``cameras/<cam>/object_mask`` (mono8, 255 = object), ``segmentation/<cam>/occluder_mask``
(mono8, 255 = above the table but not object: robot, clutter) and
``perception/object_cloud`` (PointCloud2 x y z r g b, world frame), all with the stamp of
the images. Frames are processed on a worker thread at the rate the machine sustains: a
complete frame that arrives while the worker is busy replaces the waiting one and is
counted as dropped (gs_common.frame_sync), nothing queues without bound.
"""

from __future__ import annotations

import sys
import time
from collections import deque

import numpy as np
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import Image, PointCloud2

from gs_common.device import DEVICE_CHOICES, resolve_device
from gs_common.frame_gate import StampGate
from gs_common.frame_sync import FrameSync, FrameWorker, StampError
from gs_common.image import ImageFormatError
from gs_common.names import (
    CAMERAS_RIG,
    OBJECT_CLOUD,
    WORLD_FRAME,
    camera_topic,
    gt_mask_topic,
    object_mask_topic,
    occluder_mask_topic,
    robot_mask_topic,
)
from gs_common.ros.image import image_to_depth_metres, image_to_numpy, numpy_to_image
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pointcloud2 import array_to_cloud
from gs_common.ros.priority import MAX_RATE_PARAM, NICE_PARAM, apply_nice
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_common.ros.rig import rig_from_msg
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import stamp_to_ns
from gs_dynamics_interfaces.msg import CameraRig
from gs_segmentation.geometric import GeometricConfig
from gs_segmentation.pipeline import BACKENDS, ObjectPerception, make_backend
from gs_segmentation.views import RGBDView

ROBOT_TOPICS = {  # topic templates ({cam} = camera name)
    "robot_model": robot_mask_topic("{cam}"),
    "oracle": gt_mask_topic("{cam}", "robot"),
}
CLOUD_FIELDS = ("x", "y", "z", "r", "g", "b")


def _vec3(value) -> str | None:
    return None if len(value) == 3 else f"needs 3 values (x, y, z), got {len(value)}"


PARAMS = [
    ParamSpec("backend", "geometric", "segmentation backend", choices=BACKENDS, read_only=True),
    ParamSpec(
        "weights", "", "learned backend: local model directory (no download)", read_only=True
    ),
    ParamSpec("device", "auto", "torch device of the learned backend", choices=DEVICE_CHOICES),
    ParamSpec(
        "robot_mask_source",
        "robot_model",
        "robot masks: robot_model (cameras/<cam>/robot_mask), oracle (simulator ground truth, "
        "sim/ground_truth/<cam>/robot_mask) or none",
        choices=("robot_model", "oracle", "none"),
        read_only=True,
    ),
    ParamSpec(
        "wait_for_robot_masks",
        False,
        "while no robot mask has arrived from the source: true = publish nothing and wait; "
        "false = segment without robot exclusion (said in the log)",
    ),
    ParamSpec(
        "robot_mask_match",
        "stamp",
        "stamp: a frame waits for the robot masks of its own stamp (robot_model renders the "
        "max_rate grid's stamps; a frame that never gets them is evicted, counted); newest: "
        "the newest robot mask at most robot_mask_max_age older (frames never wait; without "
        "one, wait_for_robot_masks decides)",
        choices=("stamp", "newest"),
        read_only=True,
    ),
    ParamSpec(
        "robot_mask_max_age",
        0.2,
        "use a robot mask at most this many s older than the images",
        range=(0.0, 5.0),
    ),
    ParamSpec(
        "min_height",
        0.002,
        "object points are this high above the table [m]",
        range=(0.0, 0.09),
        read_only=True,
    ),
    ParamSpec(
        "workspace_min",
        [-0.40, -0.40, -0.01],
        "object volume min corner [m], world",
        check=_vec3,
        read_only=True,
    ),
    ParamSpec(
        "workspace_max",
        [0.40, 0.40, 0.20],
        "object volume max corner [m], world",
        check=_vec3,
        read_only=True,
    ),
    ParamSpec("consistency", True, "multi-view consistency check", read_only=True),
    ParamSpec("voxel_size", 0.004, "voxel size [m] of perception/object_cloud", range=(0.0, 0.05)),
    ParamSpec("report_period", 10.0, "seconds between rate / drop log lines", range=(0.5, 3600.0)),
    MAX_RATE_PARAM,
    NICE_PARAM,
]


class SegmentationNode(Node):
    def __init__(self, **kwargs):
        super().__init__("segmentation", **kwargs)
        p = self.params = declare_params(self, PARAMS)
        nice = apply_nice(p["nice"])
        config = GeometricConfig(
            min_height=p["min_height"],
            workspace_min=tuple(p["workspace_min"]),
            workspace_max=tuple(p["workspace_max"]),
            consistency=p["consistency"],
        )
        backend = make_backend(p["backend"], config, p["weights"], resolve_device(p["device"]))
        self.perception = ObjectPerception(backend, voxel_size=p["voxel_size"])
        self.gate = StampGate.from_rate(p["max_rate"])
        self.pub_cloud = self.create_publisher(PointCloud2, OBJECT_CLOUD, SENSOR_QOS)
        self.pub_mask: dict[str, tuple] = {}
        self.sync: FrameSync | None = None
        self.rig = None
        self.frame_ids: dict[str, str] = {}
        self.robot: dict[str, deque] = {}  # cam -> recent (stamp_ns, mask), bounded
        self.robot_seen = False
        self.exact_robot = False  # robot masks are part of a frame (robot_mask_match: stamp)
        self.segmented = self.skipped_no_robot = self.rejected = 0
        self._t_first: float | None = None  # first segmented frame (rate)
        self.create_subscription(CameraRig, CAMERAS_RIG, self.on_rig, LATCHED_QOS)
        self.worker = FrameWorker(
            "segmentation",
            lambda: self.sync.take() if self.sync else None,
            self._process,
            (ValueError,),
            lambda exc: self.get_logger().warn(f"frame skipped: {exc}", throttle_duration_sec=5.0),
            lambda exc: self.get_logger().error(f"segmentation failed on a frame: {exc!r}"),
        )
        self.create_timer(p["report_period"], self.report)
        source = p["robot_mask_source"]
        if source == "oracle":
            self.get_logger().warn(
                "ORACLE robot masks: using the simulator's ground truth "
                "(sim/ground_truth/<cam>/robot_mask) for robot exclusion"
            )
        self.get_logger().info(
            f"segmentation ready: backend {backend.name}, robot masks from {source}, "
            f"max_rate {p['max_rate']:g} Hz, nice {nice}; waiting for cameras/rig"
        )

    # --- inputs --------------------------------------------------------------------------------
    def on_rig(self, msg: CameraRig) -> None:
        if self.rig is not None:
            return
        try:
            self.rig = rig_from_msg(msg)
        except ValueError as exc:
            self.get_logger().error(f"ignoring cameras/rig: {exc}")
            return
        names = self.rig[0]
        source = self.params["robot_mask_source"]
        self.exact_robot = source in ROBOT_TOPICS and self.params["robot_mask_match"] == "stamp"
        # robot masks come ~0.2-1 s after the images: keep ~5 s of grid frames pending
        streams = ("color", "depth", "robot_mask") if self.exact_robot else ("color", "depth")
        self.sync = FrameSync(names, streams, max_pending=24)
        for cam in names:
            self.pub_mask[cam] = (
                self.create_publisher(Image, object_mask_topic(cam), SENSOR_QOS),
                self.create_publisher(Image, occluder_mask_topic(cam), SENSOR_QOS),
            )
            for stream in ("color", "depth"):
                self.create_subscription(
                    Image,
                    camera_topic(cam, stream),
                    lambda m, c=cam, s=stream: self.on_image(m, c, s),
                    SENSOR_QOS,
                )
            if source in ROBOT_TOPICS:
                if not self.exact_robot:  # robot_mask_match newest: recent masks per camera
                    self.robot[cam] = deque(maxlen=8)
                self.create_subscription(
                    Image,
                    ROBOT_TOPICS[source].format(cam=cam),
                    lambda m, c=cam: self.on_robot(m, c),
                    SENSOR_QOS,
                )
        self.get_logger().info(f"rig received: cameras {names}")

    def _decode(self, msg: Image, cam: str, stream: str):
        try:
            if stream == "depth":
                return image_to_depth_metres(msg)
            data = image_to_numpy(msg)
            if stream == "color":
                if msg.encoding not in ("rgb8", "bgr8"):
                    raise ImageFormatError(f"colour must be rgb8 or bgr8, got '{msg.encoding}'")
                return data[..., ::-1] if msg.encoding == "bgr8" else data
            if data.ndim != 2:
                raise ImageFormatError(f"mask must be mono8, got '{msg.encoding}'")
            return data > 0
        except ImageFormatError as exc:
            self.rejected += 1
            self.get_logger().warn(
                f"dropping cameras/{cam} {stream}: {exc}", throttle_duration_sec=5.0
            )
            return None

    def on_image(self, msg: Image, cam: str, stream: str, data=None) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        if not self.gate.accept((cam, stream), stamp):
            return  # not a frame of the max_rate grid: never decoded
        data = self._decode(msg, cam, stream) if data is None else data
        if data is None:
            return
        self.frame_ids[cam] = msg.header.frame_id
        try:
            done = self.sync.add(stamp, cam, stream, data, self.get_clock().now().nanoseconds)
        except StampError as exc:  # far in the future: would hold frames back
            self.get_logger().warn(f"dropping {exc}", throttle_duration_sec=5.0)
            return
        if done:
            self.worker.wake()

    def on_robot(self, msg: Image, cam: str) -> None:
        data = self._decode(msg, cam, "robot_mask")
        if data is not None:
            if not self.robot_seen:
                self.get_logger().info(f"robot masks arriving ({self.params['robot_mask_source']})")
            self.robot_seen = True
            if self.exact_robot:  # part of the frame of its stamp
                self.on_image(msg, cam, "robot_mask", data)
            else:
                self.robot[cam].append((stamp_to_ns(msg.header.stamp), data))

    def _robot_mask(self, cam: str, stamp: int):
        """The newest robot mask not newer than ``stamp`` and within robot_mask_max_age."""
        best = None
        for s, m in list(self.robot.get(cam, ())):
            fresh = s <= stamp + 1_000_000 and stamp - s <= self.params["robot_mask_max_age"] * 1e9
            if fresh and (best is None or s > best[0]):
                best = (s, m)
        return None if best is None else best[1]

    # --- worker --------------------------------------------------------------------------------
    def _process(self, stamp_ns: int, images: dict) -> None:
        names, intr, poses = self.rig
        source = self.params["robot_mask_source"]
        if self.exact_robot:  # part of the frame
            robot = [images[(c, "robot_mask")] for c in names]
        elif source in ROBOT_TOPICS:
            robot = [self._robot_mask(c, stamp_ns) for c in names]
        else:
            robot = None
        if robot is not None and any(r is None for r in robot):
            missing = [c for c, r in zip(names, robot) if r is None]
            topic = ROBOT_TOPICS[source].replace("{cam}", "<cam>")  # the template, for the log
            if self.params["wait_for_robot_masks"]:
                self.skipped_no_robot += 1
                self.get_logger().warn(
                    f"no robot mask on {topic} for cameras {missing}: waiting "
                    "(wait_for_robot_masks = true), nothing published",
                    throttle_duration_sec=5.0,
                )
                return
            self.get_logger().warn(
                f"no robot mask on {topic} for cameras {missing}: segmenting WITHOUT robot "
                "exclusion (wait_for_robot_masks = false)",
                throttle_duration_sec=5.0,
            )
            robot = None
        views = [
            RGBDView(
                images[(c, "color")],
                images[(c, "depth")],
                intr[i],
                poses[i],
                None if robot is None else robot[i],
            )
            for i, c in enumerate(names)
        ]
        if self._t_first is None:
            self._t_first = time.monotonic()
        res = self.perception.process(views)
        for msg in res.messages:
            self.get_logger().info(msg)
        stamp = rclpy.time.Time(nanoseconds=stamp_ns).to_msg()
        for i, cam in enumerate(names):
            fid = self.frame_ids.get(cam, "")
            obj_pub, occ_pub = self.pub_mask[cam]
            mask = res.masks[i].astype(np.uint8) * 255
            obj_pub.publish(numpy_to_image(mask, "mono8", stamp, fid))
            occ = res.occluders[i] if res.occluders is not None else np.zeros_like(res.masks[i])
            occ_pub.publish(numpy_to_image(occ.astype(np.uint8) * 255, "mono8", stamp, fid))
        cols = np.concatenate([res.points, res.colors], 1).astype(np.float32)
        self.pub_cloud.publish(array_to_cloud(cols, CLOUD_FIELDS, WORLD_FRAME, stamp))
        self.segmented += 1

    def report(self) -> None:
        if self.sync is not None and self.exact_robot and not self.robot_seen:
            self.get_logger().warn(
                f"no robot mask has arrived on {self.params['robot_mask_source']}'s topic: "
                "frames wait for theirs (robot_mask_match: stamp); is robot_model running? "
                "(robot_mask_match: newest segments without them, robot_mask_source: none "
                "never uses them)"
            )
        if self.sync is None or self._t_first is None:
            return
        rate = (self.segmented - 1) / max(time.monotonic() - self._t_first, 1e-6)
        self.get_logger().info(
            f"segmented {self.segmented} frames ({rate:.2f} Hz); dropped {self.sync.dropped} "
            f"complete frames while busy; waited on robot masks {self.skipped_no_robot}; "
            f"rejected {self.rejected} images; skipped {self.gate.skipped} images off the "
            "max_rate grid"
        )

    def close(self) -> None:
        self.worker.close()


def main(args=None) -> None:
    sys.exit(run_node(SegmentationNode, args, inline=True))


if __name__ == "__main__":
    main()
