"""Pushes on a real arm: ``robot/execute_push`` through ros2_control, the xArm SDK or MoveIt.

The core (robot model, inverse kinematics, safe push motions, execution monitoring) imports
no rclpy; ``push_executor_node`` is the ROS adapter.
"""
