"""Plan action and PredictedStates message conversions of the planner node."""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point

from gs_common.names import WORLD_FRAME
from gs_common.pointcloud import CloudFormatError
from gs_common.push import push_end
from gs_common.ros.pointcloud2 import cloud_to_xyz
from gs_common.ros.stamp import make_header
from gs_dynamics_interfaces.action import ExecutePush, Plan
from gs_dynamics_interfaces.msg import PredictedStates, Push
from gs_mppi_planner.mpc import Goal, MPCResult
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


def fill_result(out: Plan.Result, res: MPCResult, used_oracle_state: bool) -> Plan.Result:
    """``out`` (which may already hold the predicted states) filled from an MPC result."""
    out.status = int(getattr(Plan.Result, f"STATUS_{res.outcome.name}"))
    out.message = res.message
    out.used_oracle_state = used_oracle_state
    out.pushes = [push_msg(v) for v in res.pushes]
    out.pushes_executed = res.pushes_executed
    out.cost_per_push = [float(c) for c in res.cost_per_push]
    if np.isfinite(res.final_cost):
        out.final_cost = float(res.final_cost)
    return out


def push_goal(push, height: float, speed: float) -> ExecutePush.Goal:
    """robot/execute_push goal of a push (x, y, theta, length) at ``height`` [m] and
    ``speed`` [m/s]."""
    ex, ey = push_end(push)
    return ExecutePush.Goal(
        start=Point(x=float(push[0]), y=float(push[1]), z=0.0),
        end=Point(x=ex, y=ey, z=0.0),
        height=float(height),
        speed=float(speed),
    )
