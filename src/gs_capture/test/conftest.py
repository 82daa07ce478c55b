import contextlib
import os

os.environ.setdefault("MUJOCO_GL", "egl")

# Importing pyrealsense2 before rclpy makes a process that creates an rclpy node crash at
# interpreter exit (segmentation fault, seen with pyrealsense2 2.59.1 + the ROS Kilted
# wheels); rclpy first is fine. The test session imports both, so rclpy goes first.
with contextlib.suppress(ImportError):
    import rclpy  # noqa: F401
