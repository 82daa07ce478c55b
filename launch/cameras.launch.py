"""The 'cameras' stack of config/stacks.yaml: the camera source alone.

`ros2 launch gs_dynamics cameras.launch.py source:=realsense` (or source:=replay
file:=<episode.mcap>) on a full ROS 2 install; without ros2 launch:
`gs-stack cameras source:=realsense`.
"""

from gs_dynamics.launch_builder import stack_launch_description


def generate_launch_description():
    return stack_launch_description("cameras")
