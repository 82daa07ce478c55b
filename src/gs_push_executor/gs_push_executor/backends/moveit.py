"""Backend through MoveIt 2's Python API (``moveit_py``), for arms already set up with a
MoveIt config (the docker image / robot PCs with a full ROS 2 install).

UNTESTED HERE: moveit_py is not on PyPI, so this machine cannot import it; the code follows
the moveit_py API (MoveItPy, RobotTrajectory.set_robot_trajectory_msg, execute) and raises a
clear BackendError when the library is absent.
"""

from __future__ import annotations

import threading

import numpy as np

from gs_push_executor.backends import BackendError
from gs_push_executor.motion import JointPlan


class MoveItBackend:
    """Executes the plan as a RobotTrajectory of planning group ``group``; ``to_msg`` turns a
    plan into a trajectory_msgs/JointTrajectory (given by the node)."""

    name = "moveit"

    def __init__(self, group: str, to_msg, node_name: str = "push_executor_moveit") -> None:
        try:
            from moveit.core.robot_trajectory import RobotTrajectory
            from moveit.planning import MoveItPy
        except ImportError as exc:
            raise BackendError(
                "backend 'moveit' needs moveit_py (MoveIt 2 Python bindings), which is not "
                "installed here; use backend 'ros2_control' or 'xarm', or run in the docker "
                "image"
            ) from exc
        self._robot_trajectory = RobotTrajectory
        self.moveit = MoveItPy(node_name=node_name)
        self.group = group
        self.to_msg = to_msg
        self._thread: threading.Thread | None = None

    def _state(self):
        with self.moveit.get_planning_scene_monitor().read_only() as scene:
            scene.current_state.update()
            return scene.current_state

    def start(self, plan: JointPlan) -> None:
        traj = self._robot_trajectory(self.moveit.get_robot_model())
        traj.set_robot_trajectory_msg(self._state(), self.to_msg(plan))
        traj.joint_model_group_name = self.group
        self._thread = threading.Thread(
            target=self.moveit.execute, args=(traj,), kwargs={"controllers": []}, daemon=True
        )
        self._thread.start()

    def step(self, elapsed: float) -> None:
        """MoveIt's trajectory execution manager streams the trajectory."""

    def stop(self, q_hold: np.ndarray) -> None:
        self.moveit.get_trajectory_execution_manager().stop_execution(True)

    def joint_positions(self) -> np.ndarray | None:
        return np.asarray(self._state().get_joint_group_positions(self.group), float)
