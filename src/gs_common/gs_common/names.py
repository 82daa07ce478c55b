"""Topic, action, service and frame names of the ROS contract (DESIGN.md §4,
docs/interfaces.md), in one place.

Names are relative (a launch file may push a namespace) except the tf topics. Per-camera
names are functions of the camera name.
"""

from __future__ import annotations

# --- frames -------------------------------------------------------------------------------
WORLD_FRAME = "world"


def camera_optical_frame(camera: str) -> str:
    """The colour optical frame of one camera (OpenCV convention)."""
    return f"{camera}_color_optical_frame"


TF_TOPIC = "/tf"
TF_STATIC_TOPIC = "/tf_static"

# --- cameras and perception ---------------------------------------------------------------
CAMERAS_RIG = "cameras/rig"
OBJECT_CLOUD = "perception/object_cloud"

CAMERA_STREAMS = {
    "color": "color/image_raw",
    "depth": "depth/image_raw",
    "camera_info": "color/camera_info",
    "object_mask": "object_mask",
    "robot_mask": "robot_mask",
}
"""Per-camera streams under ``cameras/<cam>/``: stream name -> topic suffix."""


def camera_topic(camera: str, stream: str) -> str:
    """``cameras/<camera>/<suffix>`` of one of :data:`CAMERA_STREAMS`."""
    return f"cameras/{camera}/{CAMERA_STREAMS[stream]}"


def color_image_topic(camera: str) -> str:
    """``cameras/<camera>/color/image_raw`` (sensor_msgs/Image rgb8)."""
    return camera_topic(camera, "color")


def depth_image_topic(camera: str) -> str:
    """``cameras/<camera>/depth/image_raw`` (16UC1 mm or 32FC1 m, registered to colour)."""
    return camera_topic(camera, "depth")


def camera_info_topic(camera: str) -> str:
    """``cameras/<camera>/color/camera_info``."""
    return camera_topic(camera, "camera_info")


def object_mask_topic(camera: str) -> str:
    """``cameras/<camera>/object_mask`` (mono8, from segmentation)."""
    return camera_topic(camera, "object_mask")


def robot_mask_topic(camera: str) -> str:
    """``cameras/<camera>/robot_mask`` (mono8, from the robot model)."""
    return camera_topic(camera, "robot_mask")


def occluder_mask_topic(camera: str) -> str:
    """``segmentation/<camera>/occluder_mask`` (mono8: above the table, not the object)."""
    return f"segmentation/{camera}/occluder_mask"


# --- simulator ground truth (evaluation and explicit oracle options only) -------------------
GT_PREFIX = "sim/ground_truth"
"""Namespace of every ground-truth topic of the simulator."""
GT_POINTS_TOPIC = f"{GT_PREFIX}/object_points"
"""The simulator's ground-truth object points (oracle state; recorded in episodes)."""
GT_MASK_KINDS = ("object", "robot")


def gt_mask_topic(camera: str, kind: str) -> str:
    """``sim/ground_truth/<camera>/<kind>_mask``, ``kind`` one of :data:`GT_MASK_KINDS`."""
    if kind not in GT_MASK_KINDS:
        raise ValueError(f"ground-truth mask kind {kind!r} is not one of {list(GT_MASK_KINDS)}")
    return f"{GT_PREFIX}/{camera}/{kind}_mask"


# --- tracking, dynamics, planning -----------------------------------------------------------
TRACKING_PARTICLES = "tracking/particles"
TRACKING_GAUSSIANS = "tracking/gaussians"
PREDICTED_STATES = "dynamics/predicted_states"
PREDICT_SERVICE = "dynamics/predict"
PLANNER_TARGET = "planner/target"
PLAN_ACTION = "planner/plan"


def predicted_image_topic(camera: str) -> str:
    """``dynamics/predicted_image/<camera>``: the rendered prediction of one camera."""
    return f"dynamics/predicted_image/{camera}"


# --- robot ----------------------------------------------------------------------------------
JOINT_STATES = "robot/joint_states"
EE_POSE = "robot/ee_pose"
EXECUTED_PUSH = "robot/executed_push"
"""Pushes as executed (recorded in episodes)."""
EXECUTE_PUSH_ACTION = "robot/execute_push"
ARM_TRAJECTORY_COMMAND = "arm_controller/joint_trajectory"
"""trajectory_msgs/JointTrajectory of a ros2_control joint trajectory controller."""
PLANNED_PATH = "push_executor/planned_path"
EXECUTED_PATH = "push_executor/executed_path"
ESTIMATE_ROBOT_POSE_SERVICE = "robot_model/estimate_pose"

# --- visualisation (gs_viz) -----------------------------------------------------------------
VIZ_PLAN = "viz/plan"
VIZ_TARGET = "viz/target"
VIZ_WORKSPACE = "viz/workspace"
VIZ_PARTICLES = "viz/particles"
VIZ_CAMERAS = "viz/cameras"
