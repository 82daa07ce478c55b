"""ROS 2 node ``sim``: the MuJoCo workcell behind the real topics and actions (DESIGN.md §4).

Publishes (relative names): ``cameras/<cam>/color/image_raw`` (rgb8),
``cameras/<cam>/depth/image_raw`` (16UC1 mm or 32FC1 m, registered to colour),
``cameras/<cam>/color/camera_info``, ``cameras/rig`` (transient-local), ``robot/joint_states``,
``robot/ee_pose`` (pusher tip, world frame) and, for oracle experiments only,
``sim/ground_truth/object_points`` (PointCloud2, object vertices, world frame) and
``sim/ground_truth/<cam>/object_mask``, ``sim/ground_truth/<cam>/robot_mask`` (mono8).
Serves ``robot/execute_push`` (gs_dynamics_interfaces/action/ExecutePush). Also follows
``trajectory_msgs/JointTrajectory`` on ``arm_controller/joint_trajectory`` like a joint
trajectory controller (gs_sim/trajectory_controller.py).

The simulation (physics + OpenGL rendering) runs in one dedicated thread that owns the GL
context; the action server waits on it through a lock-protected workcell.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image, JointState, PointCloud2

import gs_sim  # noqa: F401  (sets MUJOCO_GL before mujoco is imported)
from gs_common.image import depth_to_millimetres
from gs_common.names import (
    CAMERAS_RIG,
    EE_POSE,
    GT_POINTS_TOPIC,
    JOINT_STATES,
    WORLD_FRAME,
    camera_info_topic,
    camera_optical_frame,
    color_image_topic,
    depth_image_topic,
    gt_mask_topic,
)
from gs_common.ros.camera_info import intrinsics_to_camera_info
from gs_common.ros.execute_push import serve_execute_push
from gs_common.ros.image import numpy_to_image
from gs_common.ros.params import declare_params, param_specs
from gs_common.ros.pointcloud2 import xyz_to_cloud
from gs_common.ros.pose import point_msg, pose_from_matrix, pose_msg
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_common.ros.spin import run_node
from gs_common.ros.stamp import make_header
from gs_dynamics_interfaces.action import ExecutePush
from gs_dynamics_interfaces.msg import CameraRig
from gs_sim.demand import camera_demand
from gs_sim.depth_noise import DepthNoise
from gs_sim.push import PushRejected, validate_push
from gs_sim.rig_renderer import CameraFrame, RigRenderer
from gs_sim.settings import NODE_SETTINGS, SETTINGS, workcell_config
from gs_sim.tf_publisher import SimTf, link_frames
from gs_sim.trajectory_controller import attach as attach_trajectory_controller
from gs_sim.workcell import Workcell

DEPTH_SCALE = 0.001  # metres per 16UC1 unit


class SimNode(Node):
    """Thin ROS adapter around :class:`gs_sim.workcell.Workcell`."""

    def __init__(self, **kwargs) -> None:
        super().__init__("sim", **kwargs)
        self.params = declare_params(self, param_specs(NODE_SETTINGS))
        settings = {s.name: self.params[s.name] for s in SETTINGS}
        self.workcell = Workcell(workcell_config(settings), seed=int(self.params["seed"]))
        self.lock = threading.Lock()
        self.frame_event = threading.Condition(self.lock)
        self._stop = threading.Event()
        self._noise = DepthNoise() if self.params["depth_noise"] else None
        self._noise_rng = np.random.default_rng(int(self.params["seed"]) + 1)
        wc = self.workcell
        self.cam_names = [c.name for c in wc.cameras]
        self.pub_color, self.pub_depth, self.pub_info = {}, {}, {}
        self.pub_masks: dict[str, tuple] = {}
        for name in self.cam_names:
            pub = self.create_publisher
            self.pub_color[name] = pub(Image, color_image_topic(name), SENSOR_QOS)
            self.pub_depth[name] = pub(Image, depth_image_topic(name), SENSOR_QOS)
            self.pub_info[name] = pub(CameraInfo, camera_info_topic(name), SENSOR_QOS)
            if self.params["publish_masks"]:
                self.pub_masks[name] = tuple(
                    pub(Image, gt_mask_topic(name, kind), SENSOR_QOS)
                    for kind in ("object", "robot")
                )
        self.pub_rig = self.create_publisher(CameraRig, CAMERAS_RIG, LATCHED_QOS)
        self.pub_joints = self.create_publisher(JointState, JOINT_STATES, SENSOR_QOS)
        self.pub_ee = (
            self.create_publisher(PoseStamped, EE_POSE, SENSOR_QOS)
            if self.params["publish_ee_pose"]
            else None
        )
        self.pub_gt = (
            self.create_publisher(PointCloud2, GT_POINTS_TOPIC, SENSOR_QOS)
            if self.params["publish_ground_truth"]
            else None
        )
        self._publish_rig()
        # controller-like JointTrajectory input (gs_sim/trajectory_controller.py)
        self.trajectory_controller = attach_trajectory_controller(self, self.workcell, self.lock)
        self._tf = SimTf(self, wc)  # /tf_static (cameras, robot base) and /tf (arm links)
        self._tf.publish_static()
        self.action_server = serve_execute_push(self, self._execute_push)
        # rendering (sim thread) and publishing (publish thread) of consecutive frames
        # overlap: the frame rate is set by the slower of the two, not by their sum
        self._frames: queue.Queue = queue.Queue(maxsize=1)
        self._pub_thread = threading.Thread(
            target=self._publish_loop, name="gs_sim_publish", daemon=True
        )
        self._pub_thread.start()
        self._thread = threading.Thread(target=self._sim_loop, name="gs_sim_loop", daemon=True)
        self._thread.start()
        self.get_logger().info(
            f"sim ready: object={self.params['object']} cameras={self.cam_names} "
            f"{self.params['image_width']}x{self.params['image_height']} @ "
            f"{self.params['fps']} Hz"
        )

    # --- publishing -------------------------------------------------------------------------
    def _publish_rig(self) -> None:
        msg = CameraRig(header=make_header(WORLD_FRAME, self.get_clock().now().to_msg()))
        msg.names = list(self.cam_names)
        for cam in self.workcell.cameras:
            t = cam.world_from_camera
            msg.world_from_camera.append(pose_from_matrix(t))
            msg.color_info.append(
                intrinsics_to_camera_info(
                    cam.intrinsics, msg.header.stamp, camera_optical_frame(cam.name)
                )
            )
        msg.depth_scale = [DEPTH_SCALE] * len(self.cam_names)
        self.pub_rig.publish(msg)

    def _publish_frame(self, stamp, frames, joints, tip_pos, tip_quat, points, links) -> None:
        js = JointState(header=make_header(WORLD_FRAME, stamp))
        js.name = self.workcell.joint_names
        js.position = [float(v) for v in joints[0]]
        js.velocity = [float(v) for v in joints[1]]
        self.pub_joints.publish(js)
        if self.pub_ee is not None:
            self.pub_ee.publish(
                PoseStamped(
                    header=make_header(WORLD_FRAME, stamp), pose=pose_msg(tip_pos, tip_quat)
                )
            )
        if self.pub_gt is not None and self.pub_gt.get_subscription_count() > 0:
            self.pub_gt.publish(xyz_to_cloud(points, WORLD_FRAME, stamp))
        if links is not None:
            self._tf.publish_frames(links, stamp)
        enc = self.params["depth_encoding"]
        for cam, frame in zip(self.workcell.cameras, frames):
            fid = camera_optical_frame(cam.name)
            if frame.depth is not None:
                depth = frame.depth
                if self._noise is not None:
                    depth = self._noise.apply(depth, self._noise_rng)
                depth_img = depth_to_millimetres(depth) if enc == "16UC1" else depth
                self.pub_depth[cam.name].publish(numpy_to_image(depth_img, enc, stamp, fid))
            if frame.rgb is not None:
                self.pub_color[cam.name].publish(numpy_to_image(frame.rgb, "rgb8", stamp, fid))
            self.pub_info[cam.name].publish(intrinsics_to_camera_info(cam.intrinsics, stamp, fid))
            if cam.name in self.pub_masks and frame.object_mask is not None:
                obj_pub, robot_pub = self.pub_masks[cam.name]
                obj_pub.publish(
                    numpy_to_image(frame.object_mask.astype(np.uint8) * 255, "mono8", stamp, fid)
                )
                robot_pub.publish(
                    numpy_to_image(frame.robot_mask.astype(np.uint8) * 255, "mono8", stamp, fid)
                )

    def _render(self, renderer: RigRenderer) -> list[CameraFrame]:
        """Render only what has subscribers (gs_sim.demand): an unwatched camera or unwatched
        ground-truth masks cost no rendering time; camera_info is published regardless."""
        demand = camera_demand(self.cam_names, self.pub_color, self.pub_depth, self.pub_masks)
        return [
            renderer.render_camera(self.workcell.data, i, *want)
            if any(want)
            else CameraFrame(None, None)
            for i, want in enumerate(demand)
        ]

    # --- simulation thread ------------------------------------------------------------------
    def _sim_loop(self) -> None:
        wc = self.workcell
        rig = self.params
        try:
            renderer = RigRenderer(
                wc.model,
                wc.scene.camera_ids,
                rig["image_width"],
                rig["image_height"],
                wc.scene.flex_id,
                wc.scene.robot_geom_ids,
            )
        except Exception as exc:
            self.get_logger().fatal(f"cannot create the OpenGL renderer: {exc}")
            return
        next_t = time.monotonic()
        while not self._stop.is_set():
            with self.lock:
                self.trajectory_controller.step_frame()  # wc.step_frame() unless following
                frames = self._render(renderer)
                joints = (wc.joint_positions(), wc.joint_velocities())
                tip_pos, tip_quat = wc.tip_pose()
                points = wc.object_points()
                links = link_frames(wc.model, wc.data) if self._tf.watched() else None
                self.frame_event.notify_all()
            stamp = self.get_clock().now().to_msg()
            frame = (stamp, frames, joints, tip_pos, tip_quat, points, links)
            while not self._stop.is_set():  # waits while the previous frame is published
                try:
                    self._frames.put(frame, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if self.params["real_time"]:
                next_t += wc.frame_dt
                delay = next_t - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)  # pacing to wall-clock time, not synchronization
                elif delay < -wc.frame_dt:
                    next_t = time.monotonic()  # over a frame behind: give up on catching up
                # else: late by less than a frame: the next frame starts at once, so a
                # frame delayed by a busy CPU does not lower the rate for good
        renderer.close()

    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._frames.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._publish_frame(*frame)
            except Exception as exc:
                if self._stop.is_set() or not rclpy.ok():
                    break
                self.get_logger().error(f"publishing failed: {exc}")

    # --- action -----------------------------------------------------------------------------
    def _execute_push(self, goal_handle) -> ExecutePush.Result:
        g = goal_handle.request
        result = ExecutePush.Result()
        wc = self.workcell
        try:
            goal = validate_push(
                (g.start.x, g.start.y),
                (g.end.x, g.end.y),
                g.height,
                g.speed,
                wc.config.workspace,
                wc.config.limits,
            )
            with self.lock:
                traj = wc.start_push(goal)
                t0 = wc.time
        except PushRejected as exc:
            with self.lock:
                tip, _ = wc.tip_pose()
            result.status = ExecutePush.Result.STATUS_REJECTED
            result.message = f"push rejected: {exc}"
            result.final_tip = point_msg(tip)
            self.get_logger().warning(result.message)
            goal_handle.abort()
            return result
        self.get_logger().info(
            f"push ({goal.start[0]:.3f}, {goal.start[1]:.3f}) -> ({goal.end[0]:.3f}, "
            f"{goal.end[1]:.3f}) m, height {goal.height:.3f} m, speed {goal.speed:.3f} m/s, "
            f"{traj.duration:.2f} s"
        )
        canceled = False
        while True:
            with self.lock:
                self.frame_event.wait(timeout=1.0)
                busy = wc.busy
                progress = wc.push_progress()
                tip, _ = wc.tip_pose()
                elapsed = wc.time - t0
                if goal_handle.is_cancel_requested and busy:
                    wc.cancel_push()
                    canceled, busy = True, False
            fb = ExecutePush.Feedback(progress=float(progress), tip=point_msg(tip))
            goal_handle.publish_feedback(fb)
            if not busy or not rclpy.ok() or self._stop.is_set():
                break
        result.final_tip = point_msg(tip)
        result.duration = float(elapsed)
        if canceled:
            result.status = ExecutePush.Result.STATUS_CANCELED
            result.message = f"push canceled at {progress * 100:.0f} % of the push"
            goal_handle.canceled()
        elif progress < 1.0 - 1e-6 or not math.isfinite(tip[0]):
            result.status = ExecutePush.Result.STATUS_FAILED
            result.message = "push interrupted (simulation stopped)"
            goal_handle.abort()
        else:
            result.status = ExecutePush.Result.STATUS_SUCCEEDED
            result.message = (
                f"pushed {goal.length:.3f} m at theta {goal.theta:.3f} rad in "
                f"{elapsed:.2f} s sim time"
            )
            goal_handle.succeed()
        return result

    def destroy_node(self) -> None:
        # also called on a node whose __init__ failed (rclpy's context cleanup)
        if hasattr(self, "_stop"):
            self._stop.set()
        for name in ("_thread", "_pub_thread"):
            thread = getattr(self, name, None)
            if thread is not None and thread.is_alive():
                thread.join(timeout=5.0)
        super().destroy_node()


def main(args=None) -> None:
    sys.exit(run_node(SimNode, args, num_threads=4))


if __name__ == "__main__":
    main()
