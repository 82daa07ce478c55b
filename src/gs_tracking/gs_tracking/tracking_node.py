"""Online tracking node: tracks the object in the live camera streams.

Subscribes to ``cameras/rig`` (latched), ``robot/ee_pose`` (pusher tip, for the tracker's
contact terms; optional), and per camera ``color/image_raw``, ``depth/image_raw``,
``object_mask`` (mono8, from segmentation or the simulator) and the pixels to leave out of
the loss (``exclude``: segmentation's ``segmentation/<cam>/occluder_mask``, or
``cameras/<cam>/robot_mask`` from robot_model or the simulator). The first complete frame
initializes the Gaussians; every later one is tracked on a worker thread at the rate the
machine sustains: frames that arrive while the tracker is busy are dropped (counted and
reported in the log), never queued. Publishes ``tracking/gaussians`` (PointCloud2, Gaussian
layout) and ``tracking/particles`` (PointCloud2 x y z, farthest-point-sampled control
particles) in the world frame.
"""

from __future__ import annotations

import sys

import numpy as np
import rclpy
import torch
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import Image, PointCloud2

from gs_common.camera import CameraIntrinsics
from gs_common.device import DEVICE_CHOICES, resolve_device
from gs_common.frame_gate import StampGate
from gs_common.image import ImageFormatError
from gs_common.names import (
    CAMERAS_RIG,
    EE_POSE,
    TRACKING_GAUSSIANS,
    TRACKING_PARTICLES,
    WORLD_FRAME,
    camera_topic,
    occluder_mask_topic,
)
from gs_common.ros.image import image_to_depth_metres, image_to_numpy
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pointcloud2 import gaussians_to_cloud, xyz_to_cloud
from gs_common.ros.priority import MAX_RATE_PARAM, NICE_PARAM, apply_nice
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_common.ros.rig import rig_from_msg
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import stamp_to_ns
from gs_dynamics_interfaces.msg import CameraRig
from gs_tracking.frame_sync import FrameSync, FrameWorker, StampError
from gs_tracking.fusion import EmptyCloudError
from gs_tracking.session import FrameImages, TrackingSession
from gs_tracking.tracker import TRACKER_PRESETS, TrackerConfig

STREAMS = ("color", "depth", "object_mask", "robot_mask")
EXCLUDE_CHOICES = ("occluders", "robot")  # the topic of the "robot_mask" stream


def stream_topic(cam: str, stream: str, exclude: str) -> str:
    """Topic of one input stream; the excluded pixels come from ``exclude``'s topic."""
    if stream == "robot_mask" and exclude == "occluders":
        return occluder_mask_topic(cam)
    return camera_topic(cam, stream)


PARAMS = [
    ParamSpec("iterations", 10, "optimization budget per tracked frame", range=(1, 1000)),
    ParamSpec("first_frame_iterations", 100, "fit iterations on the first frame", range=(1, 10000)),
    ParamSpec(
        "scale",
        0.5,
        "tracking resolution as a fraction of the camera resolution",
        range=(0.05, 1.0),
    ),
    ParamSpec(
        "voxel_size", 0.004, "voxel size [m] of the fused first-frame cloud", range=(0.0005, 0.05)
    ),
    ParamSpec(
        "particles", 100, f"control particles published on {TRACKING_PARTICLES}", range=(1, 5000)
    ),
    ParamSpec(
        "particle_spacing", 0.01, "minimum spacing [m] of the control particles", range=(0.0, 0.2)
    ),
    ParamSpec(
        "device",
        "auto",
        "torch device: auto (CUDA when available), cpu or cuda",
        choices=DEVICE_CHOICES,
    ),
    ParamSpec(
        "preset",
        "none",
        "per-object tracker settings: none (the default tracker) or rope "
        "(gs_tracking.tracker.ROPE_SETTINGS: velocity gate + adaptive budget; better on rope, "
        "worse on cloth, see the package README)",
        choices=tuple(TRACKER_PRESETS),
    ),
    ParamSpec(
        "exclude",
        "occluders",
        "pixels left out of the tracking loss: occluders (segmentation/<cam>/occluder_mask: "
        "robot and clutter above the table, published with the object mask of the same "
        "stamp, so every segmented frame is complete) or robot (cameras/<cam>/robot_mask "
        "from robot_model or the simulator: a frame completes only when both nodes "
        "processed its stamp)",
        choices=EXCLUDE_CHOICES,
        read_only=True,
    ),
    ParamSpec(
        "report_period", 10.0, "seconds between rate / dropped-frame log lines", range=(0.5, 3600.0)
    ),
    MAX_RATE_PARAM,
    ParamSpec(
        "torch_threads",
        1,
        "torch intra-op threads (1: the stack's processes share the CPU; more threads "
        "spin-wait against each other); 0: torch's default",
        range=(0, 256),
        read_only=True,
    ),
    NICE_PARAM,
]


class TrackingNode(Node):
    def __init__(self, **kwargs):
        super().__init__("tracking", **kwargs)
        self.params = declare_params(self, PARAMS)
        if self.params["torch_threads"] > 0:
            torch.set_num_threads(int(self.params["torch_threads"]))
        self.device = resolve_device(self.params["device"])
        self.gate = StampGate.from_rate(self.params["max_rate"])
        self.pub_gaussians = self.create_publisher(PointCloud2, TRACKING_GAUSSIANS, SENSOR_QOS)
        self.pub_particles = self.create_publisher(PointCloud2, TRACKING_PARTICLES, SENSOR_QOS)
        self.sync: FrameSync | None = None
        self.rig: tuple[list[str], list[CameraIntrinsics], np.ndarray] | None = None
        self.session: TrackingSession | None = None
        self.tracked = 0
        self.rejected = 0
        self.pusher_tip: np.ndarray | None = None  # (3,) m, world, from robot/ee_pose
        self.create_subscription(CameraRig, CAMERAS_RIG, self.on_rig, LATCHED_QOS)
        self.create_subscription(PoseStamped, EE_POSE, self.on_ee_pose, SENSOR_QOS)
        self.worker = FrameWorker(
            "tracking",
            lambda: self.sync.take() if self.sync else None,
            self._process,
            (EmptyCloudError, ValueError),
            lambda exc: self.get_logger().warn(f"frame skipped: {exc}", throttle_duration_sec=5.0),
            lambda exc: self.get_logger().error(f"tracking failed on a frame: {exc!r}"),
        )
        self.create_timer(self.params["report_period"], self.report)
        self.get_logger().info(
            f"tracking ready on {self.device}, tracker preset {self.params['preset']}, "
            f"max_rate {self.params['max_rate']:g} Hz, nice {self.params['nice']} after the first "
            f"frame; waiting for {CAMERAS_RIG}"
        )

    # --- inputs --------------------------------------------------------------------------------
    def on_rig(self, msg: CameraRig) -> None:
        if self.rig is not None:
            return
        try:
            names, intr, poses = rig_from_msg(msg)
        except ValueError as exc:
            self.get_logger().error(f"ignoring {CAMERAS_RIG}: {exc}")
            return
        self.rig = (names, intr, poses)
        # object masks arrive ~0.5-1 s after the images (segmentation): keep ~5 s of grid
        # frames pending (the measured configuration of the README's rates table, #17)
        self.sync = FrameSync(names, STREAMS, max_pending=24)
        subs = [
            self.create_subscription(
                Image,
                stream_topic(cam, stream, self.params["exclude"]),
                lambda m, c=cam, s=stream: self.on_image(m, c, s),
                SENSOR_QOS,
            )
            for cam in names
            for stream in STREAMS
        ]
        excluded = stream_topic("<cam>", "robot_mask", self.params["exclude"])
        self.get_logger().info(f"rig received: cameras {names}; pixels excluded: {excluded}")
        oracle = sorted(s.topic_name for s in subs if "ground_truth" in s.topic_name)
        if oracle:  # oracle_masks:=true remaps the mask inputs to the simulator's
            self.get_logger().warn(f"ORACLE: tracking reads ground-truth masks {oracle}")

    def on_ee_pose(self, msg: PoseStamped) -> None:
        """Pusher tip position for the tracker's contact terms (world frame only)."""
        p = msg.pose.position
        tip = np.array([p.x, p.y, p.z], np.float64)
        if msg.header.frame_id not in (WORLD_FRAME, "") or not np.isfinite(tip).all():
            self.rejected += 1
            self.get_logger().warn(
                f"dropping {EE_POSE}: frame_id '{msg.header.frame_id}', position {tip}",
                throttle_duration_sec=5.0,
            )
            return
        self.pusher_tip = tip

    def on_image(self, msg: Image, cam: str, stream: str) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        if not self.gate.accept((cam, stream), stamp):
            return  # not a frame of the max_rate grid: never decoded
        try:
            if stream == "depth":
                data = image_to_depth_metres(msg)
            else:
                data = image_to_numpy(msg)
                if stream != "color" and data.ndim != 2:
                    raise ImageFormatError(f"mask must be mono8, got '{msg.encoding}'")
                if stream == "color" and msg.encoding not in ("rgb8", "bgr8"):
                    raise ImageFormatError(f"colour must be rgb8 or bgr8, got '{msg.encoding}'")
                if msg.encoding == "bgr8":
                    data = data[..., ::-1]
            intr = self.rig[1][self.rig[0].index(cam)]
            if data.shape[:2] != (intr.height, intr.width):
                raise ImageFormatError(
                    f"{stream} size (height, width) = {data.shape[:2]} differs from the "
                    f"rig's ({intr.height}, {intr.width})"
                )
            done = self.sync.add(stamp, cam, stream, data, self.get_clock().now().nanoseconds)
        except (ImageFormatError, StampError) as exc:
            self.rejected += 1
            self.get_logger().warn(
                f"dropping cameras/{cam} {stream}: {exc}", throttle_duration_sec=5.0
            )
            return
        if done:
            self.worker.wake()

    # --- worker --------------------------------------------------------------------------------
    def _process(self, stamp_ns: int, images: dict) -> None:
        names, intr, poses = self.rig
        p = self.params
        frame = FrameImages(
            [images[(c, "color")] for c in names],
            [images[(c, "depth")] for c in names],
            [images[(c, "object_mask")] > 0 for c in names],
            [images[(c, "robot_mask")] > 0 for c in names],
        )
        if self.session is None:
            session = TrackingSession(
                intr,
                poses,
                TrackerConfig(
                    iterations=p["iterations"],
                    first_frame_iterations=p["first_frame_iterations"],
                    **TRACKER_PRESETS[p["preset"]],
                ),
                p["scale"],
                p["voxel_size"],
                p["particles"],
                p["particle_spacing"],
                self.device,
            )
            stats = session.step(frame)
            self.session = session
            # the first frame's fit (the stack waits for it) ran at normal priority; the
            # per-frame tracking runs on what the cameras and the planner leave
            nice = apply_nice(p["nice"])  # this worker thread (Linux niceness is per thread)
            self.get_logger().info(
                f"initialized {len(session.gaussians)} Gaussians, "
                f"{len(session.anchors.index)} particles in {stats.seconds:.1f} s; "
                f"tracking at nice {nice} from now on"
            )
        else:
            self.session.step(frame, self.pusher_tip)
        self.tracked += 1
        stamp = rclpy.time.Time(nanoseconds=stamp_ns).to_msg()
        columns = self.session.gaussians.to_columns()
        self.pub_gaussians.publish(gaussians_to_cloud(columns, WORLD_FRAME, stamp))
        particles = self.session.particle_positions()
        self.pub_particles.publish(xyz_to_cloud(particles, WORLD_FRAME, stamp))

    def report(self) -> None:
        if self.sync is not None:
            self.get_logger().info(
                f"tracked {self.tracked} frames; dropped {self.sync.dropped} complete frames "
                f"while busy; evicted {self.sync.evicted} incomplete frames; rejected "
                f"{self.rejected} images; skipped {self.gate.skipped} images off the max_rate grid"
            )

    def close(self) -> None:
        self.worker.close()


def main(args=None) -> None:
    sys.exit(run_node(TrackingNode, args, inline=True))


if __name__ == "__main__":
    main()
