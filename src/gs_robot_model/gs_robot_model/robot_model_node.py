"""ROS 2 node ``robot_model``: the robot self-model online (DESIGN.md §1.7, §4).

Subscribes ``robot/joint_states`` (sensor_msgs/JointState), ``cameras/rig`` (CameraRig,
transient-local) and ``cameras/<cam>/color/camera_info`` (the camera clock). Publishes, per
camera frame, ``cameras/<cam>/robot_mask`` (mono8, 255 = robot: the rendered alpha of the
posed Gaussians, thresholded; the topic name is the ``mask_topic`` template) and, per joint
state, ``robot/ee_pose`` (geometry_msgs/PoseStamped, world frame: forward kinematics of the
pusher tip). Serves ``robot_model/estimate_pose`` (gs_dynamics_interfaces/EstimateRobotPose:
joint angles, optionally camera poses, from masks or images by gradient descent through the
renderer). Bad messages and requests are rejected with a message naming the field and value;
the node keeps serving.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from geometry_msgs.msg import PoseStamped
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image, JointState

import gs_robot_model  # noqa: F401  (MUJOCO_GL default)
from gs_common.device import resolve_device
from gs_common.frame_gate import StampGate
from gs_common.names import (
    CAMERAS_RIG,
    EE_POSE,
    ESTIMATE_ROBOT_POSE_SERVICE,
    JOINT_STATES,
    WORLD_FRAME,
    camera_info_topic,
    robot_mask_topic,
)
from gs_common.ros.image import image_to_numpy, numpy_to_image
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pose import pose_from_matrix
from gs_common.ros.priority import MAX_RATE_PARAM, NICE_PARAM, apply_nice
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_common.ros.rig import rig_from_msg
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import make_header, stamp_to_ns
from gs_common.settings import finite_vector
from gs_common.workcell import ARM_BASE
from gs_dynamics_interfaces.msg import CameraRig
from gs_dynamics_interfaces.srv import EstimateRobotPose
from gs_robot_model.checkpoint import load_model
from gs_robot_model.cli import default_model_dir
from gs_robot_model.estimate import estimate_from_views
from gs_robot_model.runtime import RobotMaskRenderer, base_transform

# camera_info (the frame clock): a deeper queue than SENSOR_QOS, so that a mask render that
# takes long does not lose the frame on the max_rate grid (the gate would then pick another
# frame of that period than segmentation and tracking, whose frames stay incomplete; #17)
INFO_QOS = QoSProfile(
    history=SENSOR_QOS.history,
    depth=10,
    reliability=SENSOR_QOS.reliability,
    durability=SENSOR_QOS.durability,
)


def _param_specs() -> list[ParamSpec]:
    return [
        ParamSpec(
            "model_dir",
            "",
            "checkpoint directory (model.json + model.safetensors); "
            "empty: the xArm7 model shipped with gs_robot_model",
            read_only=True,
        ),
        ParamSpec("device", "auto", "torch device: auto | cpu | cuda", read_only=True),
        ParamSpec(
            "base_xyz",
            [*ARM_BASE, 0.0],
            "robot base position in world [m] (default: the workcell's arm base, "
            "gs_common.workcell; z = table surface)",
            check=finite_vector(3),
            read_only=True,
        ),
        ParamSpec(
            "base_yaw_deg",
            0.0,
            "robot base yaw about world z [deg]",
            range=(-360.0, 360.0),
            read_only=True,
        ),
        ParamSpec(
            "alpha_threshold",
            0.5,
            "rendered alpha above which a pixel is robot",
            range=(0.01, 0.99),
        ),
        ParamSpec(
            "render_scale",
            0.5,
            "render masks at this fraction of the camera resolution, "
            "upsampled to full size (CPU budget)",
            range=(0.1, 1.0),
            read_only=True,
        ),
        ParamSpec(
            "mask_topic",
            robot_mask_topic("{cam}"),
            "robot mask topic template ({cam} = camera name)",
            check=lambda v: None if "{cam}" in v else f"mask_topic={v!r} lacks {{cam}}",
            read_only=True,
        ),
        ParamSpec(
            "torch_threads",
            1,
            "torch intra-op threads (1 on a shared CPU: more threads spin-wait)",
            range=(1, 64),
            read_only=True,
        ),
        MAX_RATE_PARAM,
        NICE_PARAM,
        ParamSpec("publish_masks", True, "publish robot masks", read_only=True),
        ParamSpec(
            "publish_ee_pose", True, "publish robot/ee_pose (FK of the pusher tip)", read_only=True
        ),
    ]


class RobotModelNode(Node):
    """Thin ROS adapter around :class:`gs_robot_model.runtime.RobotMaskRenderer`."""

    def __init__(self, **kwargs) -> None:
        super().__init__("robot_model", **kwargs)
        self.params = declare_params(self, _param_specs())
        nice = apply_nice(self.params["nice"])
        torch.set_num_threads(int(self.params["torch_threads"]))
        model_dir = Path(self.params["model_dir"] or default_model_dir())
        model, _ = load_model(model_dir)
        self.core = RobotMaskRenderer(
            model,
            base_transform(self.params["base_xyz"], self.params["base_yaw_deg"]),
            alpha_threshold=float(self.params["alpha_threshold"]),
            render_scale=float(self.params["render_scale"]),
            device=resolve_device(self.params["device"]),
        )
        self.joint_names = list(model.robot.joint_names)
        self.gate = StampGate.from_rate(self.params["max_rate"])
        self.rig: dict[str, tuple] = {}
        self.pub_masks: dict[str, object] = {}
        self.info_subs = []
        self.pub_ee = (
            self.create_publisher(PoseStamped, EE_POSE, SENSOR_QOS)
            if self.params["publish_ee_pose"]
            else None
        )
        self._render_group = MutuallyExclusiveCallbackGroup()
        self.create_subscription(JointState, JOINT_STATES, self._on_joints, SENSOR_QOS)
        self.create_subscription(CameraRig, CAMERAS_RIG, self._on_rig, LATCHED_QOS)
        # an estimate (seconds of gradient steps) runs alone: masks pause meanwhile (camera
        # frames are skipped) instead of both crawling. A group of its own, not the render
        # group's: with camera frames always ready, the executor served the subscriptions
        # first and a request waited > 30 s for its turn (CI, 2026-11-22)
        self._estimating = threading.Lock()
        self.create_service(
            EstimateRobotPose,
            ESTIMATE_ROBOT_POSE_SERVICE,
            self._on_estimate,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        self.masks_published = 0
        self.get_logger().info(
            f"robot_model ready: {model.robot.name}, {model.cfg.num_gaussians} Gaussians "
            f"from {model_dir}, max_rate {self.params['max_rate']:g} Hz, nice {nice}"
        )

    # --- inputs -----------------------------------------------------------------------------
    def _joint_vector(self, msg: JointState) -> np.ndarray:
        names = [n.rsplit("/", 1)[-1] for n in msg.name]
        if len(names) != len(msg.position):
            raise ValueError(
                f"joint_states has {len(names)} names but {len(msg.position)} positions"
            )
        missing = [j for j in self.joint_names if j not in names]
        if missing:
            raise ValueError(f"joint_states lacks joints {missing} (got {list(msg.name)})")
        return self.core.check_joints([msg.position[names.index(j)] for j in self.joint_names])

    def _on_joints(self, msg: JointState) -> None:
        try:
            q = self._joint_vector(msg)
        except ValueError as exc:
            self.get_logger().warning(f"rejected {JOINT_STATES}: {exc}", throttle_duration_sec=5.0)
            return
        self.core.set_joints(q)
        if self.pub_ee is not None:
            pose = pose_from_matrix(self.core.tip_pose(q))
            self.pub_ee.publish(
                PoseStamped(header=make_header(WORLD_FRAME, msg.header.stamp), pose=pose)
            )

    def _on_rig(self, msg: CameraRig) -> None:
        try:
            names, intrinsics, poses = rig_from_msg(msg)
        except ValueError as exc:
            self.get_logger().error(f"rejected {CAMERAS_RIG}: {exc}")
            return
        self.rig = {n: (intr, pose) for n, intr, pose in zip(names, intrinsics, poses)}
        if not self.params["publish_masks"]:
            return
        for name in names:
            if name in self.pub_masks:
                continue
            topic = self.params["mask_topic"].format(cam=name)
            self.pub_masks[name] = self.create_publisher(Image, topic, SENSOR_QOS)
            self.info_subs.append(
                self.create_subscription(
                    CameraInfo,
                    camera_info_topic(name),
                    lambda m, n=name: self._on_frame(n, m),
                    INFO_QOS,
                    callback_group=self._render_group,
                )
            )
        self.get_logger().info(f"rig with cameras {names}: publishing robot masks")

    def _on_frame(self, cam: str, info: CameraInfo) -> None:
        if not self.core.has_joints or cam not in self.rig or self._estimating.locked():
            return
        stamp = info.header.stamp
        if not self.gate.accept(cam, stamp_to_ns(stamp)):
            return  # not a frame of the max_rate grid
        intr, pose = self.rig[cam]
        if (info.width, info.height) != (intr.width, intr.height):
            self.get_logger().warning(
                f"{cam}: camera_info is {info.width}x{info.height} but the rig says "
                f"{intr.width}x{intr.height}; skipping the frame",
                throttle_duration_sec=5.0,
            )
            return
        try:
            mask = self.core.mask(pose, intr)
        except Exception as exc:
            self.get_logger().error(
                f"{cam}: mask rendering failed: {exc}", throttle_duration_sec=5.0
            )
            return
        img = numpy_to_image(
            mask.astype(np.uint8) * 255, "mono8", info.header.stamp, info.header.frame_id
        )
        self.pub_masks[cam].publish(img)
        self.masks_published += 1

    def _on_estimate(self, req, res):
        with self._estimating:
            return self._estimate(req, res)

    def _estimate(self, req, res):
        res.joint_names = self.joint_names
        try:
            if len(req.cameras) != len(req.images) or not req.cameras:
                raise ValueError(
                    f"cameras has {len(req.cameras)} names and images {len(req.images)} "
                    "images; need the same non-zero number"
                )
            missing = [c for c in req.cameras if c not in self.rig]
            if missing:
                raise ValueError(f"cameras {missing} are not in cameras/rig {list(self.rig)}")
            images = []
            for i, msg in enumerate(req.images):
                if msg.encoding not in ("mono8", "rgb8"):
                    raise ValueError(f"images[{i}].encoding = {msg.encoding!r}: mono8 or rgb8")
                images.append(image_to_numpy(msg))
            q0 = list(req.initial_positions) or self.core.joints
            if q0 is None:
                raise ValueError("initial_positions is empty and no robot/joint_states yet")
            q0 = self.core.check_joints(q0)
            result, world_from_cams = estimate_from_views(
                self.core.model,
                self.core.world_from_base,
                np.stack([self.rig[c][1] for c in req.cameras]),
                [self.rig[c][0] for c in req.cameras],
                images,
                q0,
                iters=int(req.iterations) or 100,
                optimize_camera=bool(req.refine_cameras),
                render_scale=float(self.params["render_scale"]),
            )
        except ValueError as exc:
            res.success, res.message = False, f"rejected: {exc}"
            self.get_logger().warning(f"robot_model/estimate_pose {res.message}")
            return res
        res.success = True
        res.positions = [float(v) for v in result.q]
        res.final_loss = float(result.losses[-1]) if result.losses else 0.0
        res.world_from_camera = [pose_from_matrix(t) for t in world_from_cams]
        res.message = (
            f"estimated {len(res.positions)} joints from {len(images)} view(s) in "
            f"{len(result.losses)} steps, final loss {res.final_loss:.4f}"
        )
        return res


def main(args=None) -> int:
    return run_node(RobotModelNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
