"""gs_robot_model: a differentiable robot self-model (Dr. Robot) for gs_dynamics.

The robot as 3D Gaussians in a canonical configuration, moved by differentiable forward
kinematics (pytorch-kinematics, from the URDF) through learned implicit linear blend
skinning, rendered with ``gs_render``. ROS-free except ``robot_model_node``.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
