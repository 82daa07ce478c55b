"""The topics a viewer shows, with their types and the QoS their publishers use.

One table for the Foxglove layout (gs_viz.layout), the RViz config check and the docs.
``qos``: ``sensor`` (best effort, volatile), ``state`` (reliable, volatile), ``latched``
(reliable, transient local) as in gs_common.ros.qos.
"""

from __future__ import annotations

import dataclasses

from gs_common import names

CAMERAS = ("cam0", "cam1", "cam2", "cam3")  # the simulator's / the rig's default names


@dataclasses.dataclass(frozen=True)
class ViewTopic:
    name: str  # fully qualified
    type: str  # pkg/msg/Type
    qos: str  # sensor | state | latched
    publisher: str  # node that publishes it


def _abs(name: str) -> str:
    """Fully qualified name of a contract name (gs_common.names) in the root namespace."""
    return "/" + name


_MARKERS, _CLOUD = "visualization_msgs/msg/MarkerArray", "sensor_msgs/msg/PointCloud2"
VIZ_TOPICS = (
    ViewTopic(_abs(names.VIZ_PLAN), _MARKERS, "state", "viz_markers"),
    ViewTopic(_abs(names.VIZ_TARGET), _MARKERS, "latched", "viz_markers"),
    ViewTopic(_abs(names.VIZ_WORKSPACE), _MARKERS, "latched", "viz_markers"),
    ViewTopic(_abs(names.VIZ_PARTICLES), _MARKERS, "sensor", "viz_markers"),
    ViewTopic(_abs(names.VIZ_CAMERAS), _MARKERS, "latched", "viz_markers"),
)
CLOUD_TOPICS = (
    ViewTopic(_abs(names.OBJECT_CLOUD), _CLOUD, "sensor", "segmentation"),
    ViewTopic(_abs(names.TRACKING_GAUSSIANS), _CLOUD, "sensor", "tracking"),
    ViewTopic(_abs(names.TRACKING_PARTICLES), _CLOUD, "sensor", "tracking"),
    ViewTopic(_abs(names.PLANNER_TARGET), _CLOUD, "latched", "planner"),
)


def camera_topics(cameras=CAMERAS) -> tuple[ViewTopic, ...]:
    return tuple(
        ViewTopic(_abs(names.color_image_topic(c)), "sensor_msgs/msg/Image", "sensor", "sim")
        for c in cameras
    )


def predicted_image_topics(cameras=CAMERAS) -> tuple[ViewTopic, ...]:
    return tuple(
        ViewTopic(
            _abs(names.predicted_image_topic(c)), "sensor_msgs/msg/Image", "sensor", "dynamics"
        )
        for c in cameras
    )


def all_topics(cameras=CAMERAS) -> tuple[ViewTopic, ...]:
    return (
        *camera_topics(cameras),
        *predicted_image_topics(cameras),
        *CLOUD_TOPICS,
        *VIZ_TOPICS,
        ViewTopic(
            _abs(names.PREDICTED_STATES),
            "gs_dynamics_interfaces/msg/PredictedStates",
            "state",
            "planner",
        ),
        ViewTopic(
            _abs(names.PLAN_ACTION) + "/_action/feedback",
            "gs_dynamics_interfaces/action/Plan_FeedbackMessage",
            "state",
            "planner",
        ),
    )
