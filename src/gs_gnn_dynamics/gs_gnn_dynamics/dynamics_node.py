"""Node ``dynamics``: serves ``dynamics/predict`` and publishes ``dynamics/predicted_states``.

Subscribes ``tracking/particles`` (the latest observed state, used when a request sets
``use_latest_observed``) and ``robot/ee_pose`` (cached: the latest end-effector pose).
Bad requests get STATUS_INVALID_REQUEST / STATUS_NO_STATE with a message naming the value;
the node keeps serving. Rendering of predictions (``render``) is not implemented yet: such
requests are answered with the states and a note in ``message``.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2

from gs_common.pointcloud import CloudFormatError
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import SENSOR_QOS, STATE_QOS
from gs_common.ros.spin import run_node
from gs_dynamics_interfaces.msg import PredictedStates, Push
from gs_dynamics_interfaces.srv import PredictRollout
from gs_gnn_dynamics.predictor import InvalidRequestError, Predictor

PARAMS = [
    ParamSpec(
        "checkpoint",
        "",
        "model checkpoint path stem (<stem>.safetensors + <stem>.json); "
        "empty: the shipped rope model",
        read_only=True,
    ),
    ParamSpec(
        "device",
        "auto",
        "torch device: auto (CUDA when present), cpu or cuda",
        choices=["auto", "cpu", "cuda"],
        read_only=True,
    ),
    ParamSpec(
        "num_particles",
        0,
        "control particles taken from a state by farthest point "
        "sampling; 0: the model's max_particles",
        range=(0, 2000),
        read_only=True,
    ),
    ParamSpec(
        "max_steps",
        500,
        "most model steps (1 cm each) one request may ask for",
        range=(1, 100000),
        read_only=True,
    ),
]

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
        )
        self.latest_state: PointCloud2 | None = None
        self.latest_ee: PoseStamped | None = None
        self.create_subscription(PointCloud2, "tracking/particles", self._on_particles, SENSOR_QOS)
        self.create_subscription(PoseStamped, "robot/ee_pose", self._on_ee, SENSOR_QOS)
        self.pub = self.create_publisher(PredictedStates, "dynamics/predicted_states", STATE_QOS)
        self.srv = self.create_service(PredictRollout, "dynamics/predict", self._on_predict)
        self.get_logger().info(
            f"dynamics ready: model {self.predictor.checkpoint} on {self.predictor.device}, "
            f"{self.predictor.num_particles} particles max"
        )

    def _on_particles(self, msg: PointCloud2) -> None:
        self.latest_state = msg

    def _on_ee(self, msg: PoseStamped) -> None:
        self.latest_ee = msg

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
                    "on tracking/particles yet",
                )
            cloud = self.latest_state
        else:
            cloud = req.state
        if cloud.header.frame_id not in ("world", ""):
            return self._fail(
                res,
                Response.STATUS_INVALID_REQUEST,
                f"state frame_id '{cloud.header.frame_id}' is not 'world'",
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
        out.header.frame_id = "world"
        out.header.stamp = cloud.header.stamp
        out.num_steps = len(positions) - 1
        out.num_particles = positions.shape[1]
        out.positions = positions.astype(np.float32).ravel().tolist()
        out.ee_positions = ee.astype(np.float32).ravel().tolist()
        out.push_start_step = [int(s) for s in starts]
        out.pushes = [Push(x=p.x, y=p.y, theta=p.theta, length=p.length) for p in req.pushes]
        res.status = Response.STATUS_OK
        res.message = (
            "ok"
            if not req.render
            else "ok (render requested: predicted rendering is not implemented yet)"
        )
        res.predicted_states = out
        self.pub.publish(out)
        return res


def main(args=None) -> None:
    sys.exit(run_node(DynamicsNode, args, num_threads=2))


if __name__ == "__main__":
    main()
