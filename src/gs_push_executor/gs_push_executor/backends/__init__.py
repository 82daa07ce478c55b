"""Arm backends of the push executor (see gs_push_executor.execution.ArmBackend).

- ``ros2_control``: a joint trajectory controller's command topic + robot/joint_states;
- ``xarm``: the xArm Python SDK (servo or position mode);
- ``moveit``: moveit_py (imported lazily; untested here, see its module).
"""

BACKENDS = ("ros2_control", "xarm", "moveit")


class BackendError(RuntimeError):
    """The arm backend failed (SDK error code, missing library, lost connection...)."""
