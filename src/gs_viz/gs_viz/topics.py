"""The topics a viewer shows, with their types and the QoS their publishers use.

One table for the Foxglove layout (gs_viz.layout), the RViz config check and the docs.
``qos``: ``sensor`` (best effort, volatile), ``state`` (reliable, volatile), ``latched``
(reliable, transient local) as in gs_common.ros.qos.
"""

from __future__ import annotations

import dataclasses

CAMERAS = ("cam0", "cam1", "cam2", "cam3")  # the simulator's / the rig's default names


@dataclasses.dataclass(frozen=True)
class ViewTopic:
    name: str  # fully qualified
    type: str  # pkg/msg/Type
    qos: str  # sensor | state | latched
    publisher: str  # node that publishes it


VIZ_TOPICS = (
    ViewTopic("/viz/plan", "visualization_msgs/msg/MarkerArray", "state", "viz_markers"),
    ViewTopic("/viz/target", "visualization_msgs/msg/MarkerArray", "latched", "viz_markers"),
    ViewTopic("/viz/workspace", "visualization_msgs/msg/MarkerArray", "latched", "viz_markers"),
    ViewTopic("/viz/particles", "visualization_msgs/msg/MarkerArray", "sensor", "viz_markers"),
    ViewTopic("/viz/cameras", "visualization_msgs/msg/MarkerArray", "latched", "viz_markers"),
)
CLOUD_TOPICS = (
    ViewTopic("/perception/object_cloud", "sensor_msgs/msg/PointCloud2", "sensor", "segmentation"),
    ViewTopic("/tracking/gaussians", "sensor_msgs/msg/PointCloud2", "sensor", "tracking"),
    ViewTopic("/tracking/particles", "sensor_msgs/msg/PointCloud2", "sensor", "tracking"),
    ViewTopic("/planner/target", "sensor_msgs/msg/PointCloud2", "latched", "planner"),
)


def camera_topics(cameras=CAMERAS) -> tuple[ViewTopic, ...]:
    return tuple(
        ViewTopic(f"/cameras/{c}/color/image_raw", "sensor_msgs/msg/Image", "sensor", "sim")
        for c in cameras
    )


def predicted_image_topics(cameras=CAMERAS) -> tuple[ViewTopic, ...]:
    return tuple(
        ViewTopic(f"/dynamics/predicted_image/{c}", "sensor_msgs/msg/Image", "sensor", "dynamics")
        for c in cameras
    )


def all_topics(cameras=CAMERAS) -> tuple[ViewTopic, ...]:
    return (
        *camera_topics(cameras),
        *predicted_image_topics(cameras),
        *CLOUD_TOPICS,
        *VIZ_TOPICS,
        ViewTopic(
            "/dynamics/predicted_states",
            "gs_dynamics_interfaces/msg/PredictedStates",
            "state",
            "planner",
        ),
        ViewTopic(
            "/planner/plan/_action/feedback",
            "gs_dynamics_interfaces/action/Plan_FeedbackMessage",
            "state",
            "planner",
        ),
    )
