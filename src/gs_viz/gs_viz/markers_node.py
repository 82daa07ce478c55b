"""Node ``viz_markers``: visualization_msgs markers derived from the stack's topics.

Subscribes (nothing else in the stack changes for it):
- ``dynamics/predicted_states`` (PredictedStates) -> ``viz/plan``: push arrows + labels,
  predicted particle paths and state snapshots coloured by model step, end-effector path;
  lifetime ``plan_lifetime``; markers of a previous, longer plan are deleted.
- ``planner/target`` (PointCloud2, latched) -> ``viz/target`` (latched)
- ``tracking/particles`` (PointCloud2) -> ``viz/particles``: control particles and the
  dynamics model's graph edges (radius ``edge_radius``, ``edge_topk`` neighbours);
  lifetime ``particles_lifetime`` so they vanish when tracking stops.
- ``cameras/rig`` (CameraRig, latched) -> ``viz/cameras`` (latched): view pyramids + names.
- parameters ``workspace_*`` -> ``viz/workspace`` (latched): the pusher's workspace box.

All markers are MarkerArrays in frame ``world``. Marker construction: gs_viz.markers.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from gs_common.names import (
    CAMERAS_RIG,
    PLANNER_TARGET,
    PREDICTED_STATES,
    TRACKING_PARTICLES,
    VIZ_CAMERAS,
    VIZ_PARTICLES,
    VIZ_PLAN,
    VIZ_TARGET,
    VIZ_WORKSPACE,
    WORLD_FRAME,
)
from gs_common.ros.params import ParamSpec, declare_params
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS, STATE_QOS
from gs_common.ros.rig import rig_from_msg
from gs_common.ros.spin import run_node
from gs_dynamics_interfaces.msg import CameraRig, PredictedStates
from gs_gnn_dynamics.config import DynamicsConfig
from gs_viz import markers as mk

_MODEL = DynamicsConfig()


def _range_check(value) -> str | None:
    vals = list(value)
    if len(vals) != 2 or not all(np.isfinite(vals)) or not vals[0] < vals[1]:
        return "must be [min, max] with min < max"
    return None


_WS_X, _WS_Y, _WS_Z = mk.SIM_WORKSPACE  # defaults: the simulator's workspace
PARAMS = [
    ParamSpec("frame_id", WORLD_FRAME, "frame of every marker", read_only=True),
    ParamSpec("workspace_x", list(_WS_X), "workspace x range [m]", check=_range_check),
    ParamSpec("workspace_y", list(_WS_Y), "workspace y range [m]", check=_range_check),
    ParamSpec("workspace_z_max", _WS_Z, "workspace height [m]", range=(0.001, 2.0)),
    ParamSpec("plan_lifetime", 60.0, "seconds a plan's markers stay (0: forever)", (0.0, 1e6)),
    ParamSpec("particles_lifetime", 2.0, "seconds particle markers stay (0: forever)", (0.0, 1e6)),
    ParamSpec("push_height", _MODEL.push_height, "height of the push arrows [m]", (0.0, 1.0)),
    ParamSpec("state_snapshots", 5, "predicted states drawn as spheres", (2, 1000)),
    ParamSpec("edge_radius", _MODEL.radius, "graph edge radius [m] (model's)", (1e-4, 10.0)),
    ParamSpec("edge_topk", _MODEL.topk, "graph neighbours per particle (model's)", (1, 1000)),
]


def to_marker(spec: mk.MarkerSpec, header) -> Marker:
    m = Marker(header=header, ns=spec.ns, id=int(spec.id), type=spec.type, action=spec.action)
    if spec.action != mk.ADD:
        return m
    m.pose.position.x, m.pose.position.y, m.pose.position.z = map(float, spec.position)
    o = m.pose.orientation
    o.x, o.y, o.z, o.w = map(float, spec.orientation)
    m.scale.x, m.scale.y, m.scale.z = map(float, spec.scale)
    m.color = ColorRGBA(**dict(zip("rgba", map(float, spec.color), strict=True)))
    m.points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in spec.points]
    if spec.colors is not None:
        m.colors = [
            ColorRGBA(r=float(c[0]), g=float(c[1]), b=float(c[2]), a=float(c[3]))
            for c in spec.colors
        ]
    m.text = spec.text
    sec = int(spec.lifetime)
    m.lifetime = Duration(sec=sec, nanosec=round((spec.lifetime - sec) * 1e9))
    m.frame_locked = False
    return m


class MarkersNode(Node):
    def __init__(self, **kwargs):
        super().__init__("viz_markers", **kwargs)
        self.p = declare_params(self, PARAMS)
        self._plan_keys: set[tuple[str, int]] = set()
        self.pub_plan = self.create_publisher(MarkerArray, VIZ_PLAN, STATE_QOS)
        self.pub_target = self.create_publisher(MarkerArray, VIZ_TARGET, LATCHED_QOS)
        self.pub_ws = self.create_publisher(MarkerArray, VIZ_WORKSPACE, LATCHED_QOS)
        self.pub_particles = self.create_publisher(MarkerArray, VIZ_PARTICLES, SENSOR_QOS)
        self.pub_cameras = self.create_publisher(MarkerArray, VIZ_CAMERAS, LATCHED_QOS)
        self.create_subscription(CameraRig, CAMERAS_RIG, self._on_rig, LATCHED_QOS)
        self.create_subscription(PredictedStates, PREDICTED_STATES, self._on_plan, STATE_QOS)
        self.create_subscription(PointCloud2, PLANNER_TARGET, self._on_target, LATCHED_QOS)
        self.create_subscription(PointCloud2, TRACKING_PARTICLES, self._on_particles, SENSOR_QOS)
        p = self.p
        self._publish(
            self.pub_ws,
            mk.workspace_markers(p["workspace_x"], p["workspace_y"], p["workspace_z_max"]),
        )
        self.get_logger().info(
            "viz markers ready: dynamics/predicted_states, planner/target, tracking/particles "
            "cameras/rig -> viz/plan, viz/target, viz/particles, viz/workspace, viz/cameras"
        )

    def _publish(self, pub, specs) -> None:
        h = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.p["frame_id"])
        pub.publish(MarkerArray(markers=[to_marker(s, h) for s in specs]))

    def _on_plan(self, msg: PredictedStates) -> None:
        try:
            plan = mk.plan_from_flat(
                msg.num_steps,
                msg.num_particles,
                msg.positions,
                msg.ee_positions,
                [(p.x, p.y, p.theta, p.length) for p in msg.pushes],
                msg.push_start_step,
            )
        except ValueError as exc:
            self.get_logger().warning(f"dynamics/predicted_states rejected: {exc}")
            return
        specs = mk.plan_markers(
            plan,
            push_height=self.p["push_height"],
            lifetime=self.p["plan_lifetime"],
            num_state_snapshots=self.p["state_snapshots"],
        )
        specs = mk.deletions(self._plan_keys, specs) + specs
        self._plan_keys = {s.key for s in specs if s.action == mk.ADD}
        self._publish(self.pub_plan, specs)

    def _on_target(self, msg: PointCloud2) -> None:
        try:
            points = cloud_to_xyz(msg)
        except ValueError as exc:
            self.get_logger().warning(f"planner/target rejected: {exc}")
            return
        self._publish(self.pub_target, mk.target_markers(points))

    def _on_rig(self, msg: CameraRig) -> None:
        try:
            names, intrinsics, poses = rig_from_msg(msg)
        except ValueError as exc:
            self.get_logger().warning(f"cameras/rig rejected: {exc}")
            return
        self._publish(self.pub_cameras, mk.camera_markers(names, intrinsics, poses))

    def _on_particles(self, msg: PointCloud2) -> None:
        try:
            points = cloud_to_xyz(msg)
        except ValueError as exc:
            self.get_logger().warning(f"tracking/particles rejected: {exc}")
            return
        points = points[np.isfinite(points).all(1)]
        edges = mk.graph_edges(points, self.p["edge_radius"], self.p["edge_topk"])
        self._publish(
            self.pub_particles,
            mk.particle_markers(points, edges, lifetime=self.p["particles_lifetime"]),
        )


def main(args=None) -> int:
    return run_node(MarkersNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
