"""Topic, action, service and frame names of the ROS contract (DESIGN.md §4), in one place.

Names are relative (a launch file may push a namespace). Per-camera names are functions.
"""

from __future__ import annotations

WORLD_FRAME = "world"

CAMERAS_RIG = "cameras/rig"
TRACKING_PARTICLES = "tracking/particles"
TRACKING_GAUSSIANS = "tracking/gaussians"
GT_POINTS_TOPIC = "sim/ground_truth/object_points"
"""The simulator's ground-truth object points (oracle state; recorded in episodes)."""
EE_POSE = "robot/ee_pose"
PREDICTED_STATES = "dynamics/predicted_states"
PREDICT_SERVICE = "dynamics/predict"
PLANNER_TARGET = "planner/target"
PLAN_ACTION = "planner/plan"
EXECUTE_PUSH_ACTION = "robot/execute_push"


def predicted_image_topic(camera: str) -> str:
    """``dynamics/predicted_image/<camera>``: the rendered prediction of one camera."""
    return f"dynamics/predicted_image/{camera}"


def camera_optical_frame(camera: str) -> str:
    """The colour optical frame of one camera (OpenCV convention)."""
    return f"{camera}_color_optical_frame"
