"""Conversions and profiles that need ROS message classes or rclpy.

Import the submodules directly (``from gs_common.ros.image import image_to_numpy``) so that
ROS-free users of gs_common never import rclpy.
"""
