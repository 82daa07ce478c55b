"""Node ``dynamics``: serves ``dynamics/predict`` and publishes ``dynamics/predicted_states``.

Subscribes ``tracking/particles`` (the latest observed state, used when a request sets
``use_latest_observed``) and ``robot/ee_pose`` (cached: the latest end-effector pose).
Bad requests get STATUS_INVALID_REQUEST / STATUS_NO_STATE with a message naming the value;
the node keeps serving. With ``render`` set, the latest ``tracking/gaussians`` are moved along
the prediction by LBS and rendered into every camera of ``cameras/rig``; the final predicted
state's images go to ``dynamics/predicted_image/<cam>`` (rgb8). Without Gaussians or a rig
the request still succeeds and ``message`` says why nothing was rendered.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np
import torch
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import Image, PointCloud2

from gs_common.geometry import invert_transform
from gs_common.names import (
    CAMERAS_RIG,
    EE_POSE,
    PREDICT_SERVICE,
    PREDICTED_STATES,
    TRACKING_GAUSSIANS,
    TRACKING_PARTICLES,
    WORLD_FRAME,
    camera_optical_frame,
    predicted_image_topic,
)
from gs_common.pointcloud import CloudFormatError
from gs_common.ros.image import numpy_to_image
from gs_common.ros.params import declare_params, param_specs
from gs_common.ros.pointcloud2 import cloud_to_gaussians, cloud_to_xyz
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS, STATE_QOS
from gs_common.ros.rig import rig_from_msg
from gs_common.ros.spin import run_node
from gs_dynamics_interfaces.msg import CameraRig, PredictedStates, Push
from gs_dynamics_interfaces.srv import PredictRollout
from gs_gnn_dynamics.predictor import InvalidRequestError, Predictor
from gs_gnn_dynamics.settings import SETTINGS

PARAMS = param_specs(SETTINGS)  # gs_gnn_dynamics.settings: the one table

Response = PredictRollout.Response


class DynamicsNode(Node):
    def __init__(self, **kwargs):
        super().__init__("dynamics", **kwargs)
        self.params = declare_params(self, PARAMS)
        self.predictor = Predictor(
            self.params["checkpoint"],
            self.params["device"],
            self.params["num_particles"],
            self.params["max_steps"],
            (*self.params["workspace_x"], *self.params["workspace_y"]),
            self.params["workspace_tolerance"],
        )
        self.latest_state: PointCloud2 | None = None
        self.latest_ee: PoseStamped | None = None
        self.create_subscription(PointCloud2, TRACKING_PARTICLES, self._on_particles, SENSOR_QOS)
        self.create_subscription(PoseStamped, EE_POSE, self._on_ee, SENSOR_QOS)
        self.latest_gaussians: PointCloud2 | None = None
        self.rig = None  # (names, viewmats (C, 4, 4), Ks (C, 3, 3), width, height)
        self.image_pubs: dict[str, object] = {}
        self.create_subscription(PointCloud2, TRACKING_GAUSSIANS, self._on_gaussians, SENSOR_QOS)
        self.create_subscription(CameraRig, CAMERAS_RIG, self._on_rig, LATCHED_QOS)
        self.pub = self.create_publisher(PredictedStates, PREDICTED_STATES, STATE_QOS)
        self.srv = self.create_service(PredictRollout, PREDICT_SERVICE, self._on_predict)
        self.get_logger().info(
            f"dynamics ready: model {self.predictor.checkpoint} on {self.predictor.device}, "
            f"{self.predictor.num_particles} particles max"
        )

    def _on_particles(self, msg: PointCloud2) -> None:
        self.latest_state = msg

    def _on_ee(self, msg: PoseStamped) -> None:
        self.latest_ee = msg

    def _on_gaussians(self, msg: PointCloud2) -> None:
        self.latest_gaussians = msg

    def _on_rig(self, msg: CameraRig) -> None:
        """Validated rig (gs_common.ros.rig names the bad field); a bad rig is ignored and
        the previous one kept."""
        try:
            names, intr, poses = rig_from_msg(msg)
        except ValueError as exc:
            self.get_logger().error(f"ignoring {CAMERAS_RIG}: {exc}")
            return
        sizes = {(i.width, i.height) for i in intr}
        if len(sizes) != 1:
            self.get_logger().error(f"ignoring cameras/rig: cameras differ in size {sizes}")
            return
        (w, h), f32 = sizes.pop(), torch.float32
        viewmats = torch.as_tensor(invert_transform(poses), dtype=f32)
        ks = torch.as_tensor(np.stack([i.K for i in intr]), dtype=f32)
        for cam in names:
            if cam not in self.image_pubs:
                try:
                    self.image_pubs[cam] = self.create_publisher(
                        Image, predicted_image_topic(cam), SENSOR_QOS
                    )
                except Exception as exc:  # e.g. InvalidTopicNameException: keep serving
                    self.get_logger().error(f"ignoring {CAMERAS_RIG}: camera {cam!r}: {exc}")
                    return
        self.rig = (names, viewmats, ks, w, h)

    def _render(self, positions: np.ndarray, stamp) -> str:
        """Render the final predicted state into every camera; returns a status note."""
        if self.rig is None:
            return "nothing rendered: no cameras/rig received yet"
        if self.latest_gaussians is None:
            return "nothing rendered: no tracking/gaussians received yet"
        from gs_gnn_dynamics.predicted_render import render_predicted
        from gs_render.gaussians import Gaussians

        gaussians = Gaussians.from_columns(cloud_to_gaussians(self.latest_gaussians))
        if len(gaussians) == 0:
            return "nothing rendered: tracking/gaussians is empty"
        names, viewmats, ks, w, h = self.rig
        ctrl = torch.as_tensor(positions, dtype=torch.float32)
        with torch.no_grad():
            out = render_predicted(ctrl, gaussians, viewmats, ks, w, h)
        rgb = next(iter(out.values())).rgb
        images = (rgb.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        for cam, img in zip(names, images):
            self.image_pubs[cam].publish(
                numpy_to_image(img, "rgb8", stamp, camera_optical_frame(cam))
            )
        return f"rendered the final state into {len(names)} cameras"

    def _fail(self, res, status: int, message: str):
        res.status, res.message = status, message
        self.get_logger().warning(f"predict request rejected: {message}")
        return res

    def _on_predict(self, req, res):
        if req.use_latest_observed:
            if self.latest_state is None:
                return self._fail(
                    res,
                    Response.STATUS_NO_STATE,
                    "use_latest_observed is set but nothing has been received "
                    f"on {TRACKING_PARTICLES} yet",
                )
            cloud = self.latest_state
        else:
            cloud = req.state
        if cloud.header.frame_id not in (WORLD_FRAME, ""):
            return self._fail(
                res,
                Response.STATUS_INVALID_REQUEST,
                f"state frame_id '{cloud.header.frame_id}' is not '{WORLD_FRAME}'",
            )
        try:
            points = cloud_to_xyz(cloud) if cloud.width * cloud.height else np.zeros((0, 3))
            pushes = np.array([[p.x, p.y, p.theta, p.length] for p in req.pushes])
            positions, ee, starts = self.predictor.predict(points, pushes)
        except (InvalidRequestError, CloudFormatError) as exc:
            return self._fail(res, Response.STATUS_INVALID_REQUEST, str(exc))
        except Exception as exc:  # reported to the client; the node keeps serving
            self.get_logger().error(traceback.format_exc())
            return self._fail(res, Response.STATUS_INTERNAL_ERROR, f"prediction failed: {exc}")
        out = PredictedStates()
        out.header.frame_id = WORLD_FRAME
        out.header.stamp = cloud.header.stamp
        out.num_steps = len(positions) - 1
        out.num_particles = positions.shape[1]
        out.positions = positions.astype(np.float32).ravel().tolist()
        out.ee_positions = ee.astype(np.float32).ravel().tolist()
        out.push_start_step = [int(s) for s in starts]
        out.pushes = [Push(x=p.x, y=p.y, theta=p.theta, length=p.length) for p in req.pushes]
        res.status = Response.STATUS_OK
        res.message = "ok"
        if req.render:
            try:
                res.message = f"ok; {self._render(positions, cloud.header.stamp)}"
            except Exception as exc:  # the prediction stands; rendering is best effort
                self.get_logger().error(traceback.format_exc())
                res.message = f"ok; rendering failed: {exc}"
        res.predicted_states = out
        self.pub.publish(out)
        return res


def main(args=None) -> None:
    sys.exit(run_node(DynamicsNode, args, num_threads=2))


if __name__ == "__main__":
    main()
