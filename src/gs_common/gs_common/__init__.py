"""Shared helpers of the gs_dynamics stack.

Everything at this level is ROS-free (numpy / torch only). Conversions that need ROS
message classes live in :mod:`gs_common.ros`.
"""
