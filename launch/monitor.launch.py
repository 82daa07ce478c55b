"""The 'monitor' stack of config/stacks.yaml.

`ros2 launch gs_dynamics monitor.launch.py source:=sim` on a full ROS 2 install; the composed
runner starts the same nodes without ros2 launch: `gs-stack monitor source:=sim`.
"""

from gs_dynamics.launch_builder import stack_launch_description


def generate_launch_description():
    return stack_launch_description("monitor")
