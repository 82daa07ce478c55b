"""Plan action and PredictedStates message conversions of the planner node."""

from __future__ import annotations

import numpy as np

from gs_common.names import WORLD_FRAME
from gs_common.pointcloud import CloudFormatError
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.stamp import make_header
from gs_dynamics_interfaces.action import Plan
from gs_dynamics_interfaces.msg import PredictedStates, Push
from gs_mppi_planner.mpc import Goal
from gs_mppi_planner.mppi import PlanResult


def goal_from_msg(msg) -> Goal:
    """gs_mppi_planner.mpc.Goal of a Plan goal message (the target cloud read, not checked)."""
    goal = Goal(
        target_preset=msg.target_preset,
        preset_x=msg.preset_x,
        preset_y=msg.preset_y,
        preset_yaw=msg.preset_yaw,
        preset_length=msg.preset_length,
        max_pushes=int(msg.max_pushes),
        tolerance=msg.tolerance,
        execute=bool(msg.execute),
        target_frame=msg.target_cloud.header.frame_id,
    )
    if not msg.target_preset:
        if msg.target_cloud.width * msg.target_cloud.height == 0:
            goal.target_points = np.zeros((0, 3), np.float32)
        else:
            try:
                goal.target_points = cloud_to_xyz(msg.target_cloud)
            except CloudFormatError as exc:
                goal.target_error = str(exc)
    return goal


def push_msg(v) -> Push:
    """Push message of a push (x, y, theta, length) [m, m, rad, m]."""
    return Push(x=float(v[0]), y=float(v[1]), theta=float(v[2]), length=float(v[3]))


def plan_msg(plan: PlanResult, stamp) -> PredictedStates:
    """PredictedStates of a plan: particles, tool path, pushes, predicted cost per push."""
    return PredictedStates(
        header=make_header(WORLD_FRAME, stamp),
        num_steps=plan.states.shape[0] - 1,
        num_particles=plan.states.shape[1],
        positions=plan.states.astype(np.float32).ravel().tolist(),
        ee_positions=plan.tool.astype(np.float32).ravel().tolist(),
        push_start_step=[int(s) for s in plan.push_start_step],
        pushes=[push_msg(v) for v in plan.pushes],
        cost=[float(c) for c in plan.cost_per_push],
    )


def feedback_msg(
    push_index: int, iteration: int, best_cost: float, pushes, states, stamp, with_states: bool
) -> Plan.Feedback:
    """Feedback of one planner iteration; the best rollout's states (T + 1, N, 3) [m] are
    included when ``with_states`` (and the planner produced them)."""
    fb = Plan.Feedback(push_index=push_index, mppi_iteration=iteration, best_cost=best_cost)
    if with_states and states.ndim == 3 and states.shape[1] > 1:
        fb.predicted_states = PredictedStates(
            header=make_header(WORLD_FRAME, stamp),
            num_steps=states.shape[0] - 1,
            num_particles=states.shape[1],
            positions=states.astype(np.float32).ravel().tolist(),
            pushes=[push_msg(v) for v in pushes],
        )
    return fb
