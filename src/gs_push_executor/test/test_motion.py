"""Checks before anything moves: every rejection names the violated limit and value."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gs_push_executor.motion import (
    PushRejected,
    Workspace,
    plan_motion,
    validate_push,
)

OK = ((0.0, -0.1), (0.1, 0.05))


@pytest.mark.parametrize(
    ("start", "end", "height", "speed", "text"),
    [
        ((0.3, 0.0), (0.1, 0.0), 0.005, 0.05, "start = (0.300, 0.000) m is outside the workspace"),
        ((0.0, 0.0), (0.0, -0.3), 0.005, 0.05, "end = (0.000, -0.300) m is outside"),
        ((float("nan"), 0.0), (0.1, 0.0), 0.005, 0.05, "start.x = nan is not finite"),
        ((0.0, 0.0), (0.1, 0.0), 0.2, 0.05, "height = 0.200 m is above the workspace limit"),
        ((0.0, 0.0), (0.1, 0.0), 0.005, 0.5, "speed = 0.500 m/s exceeds the limit 0.300"),
        ((0.0, 0.0), (0.001, 0.0), 0.005, 0.05, "push length = 0.0010 m is shorter"),
    ],
)
def test_goal_rejections(workspace, limits, start, end, height, speed, text):
    with pytest.raises(PushRejected, match=text.replace("(", r"\(").replace(")", r"\)")):
        validate_push(start, end, height, speed, workspace, limits)


def test_defaults_for_nonpositive_height_and_speed(workspace, limits):
    g = validate_push(*OK, 0.0, -1.0, workspace, limits)
    assert g.height == limits.default_height and g.speed == limits.default_speed


WS = Workspace()


def _plan(kin, q, limits, start=OK[0], end=OK[1], speed=0.05, workspace=WS):
    return plan_motion(kin, q, limits, validate_push(start, end, 0.005, speed, workspace, limits))


def test_unreachable_push_is_rejected(kin, q_rest, limits):
    far = Workspace(x_min=-1.0, x_max=1.2, y_min=-1.0, y_max=1.0)
    with pytest.raises(PushRejected, match=r"unreachable by the arm: IK error \d+\.\d mm"):
        _plan(kin, q_rest, limits, (0.9, 0.0), (1.1, 0.0), workspace=far)


def test_joint_velocity_limit_rejects_a_fast_push_and_slows_transit(kin, q_rest, limits):
    slow = dataclasses.replace(limits, velocity_scale=0.03)
    with pytest.raises(PushRejected, match=r"joint\d velocity \d+\.\d\d rad/s exceeds the limit"):
        _plan(kin, q_rest, slow, speed=0.3)
    # a slow push passes; the transit segments were stretched to respect the limit
    plan = _plan(kin, q_rest, dataclasses.replace(limits, velocity_scale=0.2), speed=0.01)
    vmax = np.abs(kin.velocity_limits).min(axis=0) * 0.2
    rate = np.abs(np.diff(plan.q, axis=0)) / np.diff(plan.times)[:, None]
    assert (rate <= vmax * 1.0001).all()
    assert plan.duration > _plan(kin, q_rest, limits, speed=0.01).duration


def test_table_clearance_and_self_margin(kin, q_rest, limits):
    with pytest.raises(PushRejected, match=r"link link\w+ origin at height 0\.\d+ m .* below "
                       r"the table clearance 0\.300 m"):  # fmt: skip
        _plan(kin, q_rest, dataclasses.replace(limits, table_clearance=0.3))
    with pytest.raises(PushRejected, match=r"tip height -0\.0\d+ m .* below the table clearance"):
        # a push commanded at 5 mm with a tip 4 cm longer than modelled would hit the table
        plan = _plan(kin, q_rest, limits)
        from gs_push_executor.kinematics import PusherKinematics
        from gs_push_executor.motion import check_clearance
        from gs_push_executor.robot import load_robot

        longer = PusherKinematics(load_robot("xarm7", tool_length=0.16, base_xyz=(-0.4, 0, 0)))
        check_clearance(longer, plan, limits)
    with pytest.raises(PushRejected, match=r"links link\w+ and link\w+ come 0\.\d+ m apart .* "
                       r"self-collision margin 0\.500 m"):  # fmt: skip
        _plan(kin, q_rest, dataclasses.replace(limits, self_margin=0.5))


def test_current_joints_outside_limits_rejected(kin, q_rest, limits):
    q = q_rest.copy()
    q[1] = 2.5  # joint2 upper limit is 2.0944
    with pytest.raises(PushRejected, match=r"current joint2 = 2\.500 rad is outside its limits"):
        _plan(kin, q, limits)


def test_lift_only_goes_straight_up(kin, q_rest, limits, workspace):
    plan = _plan(kin, q_rest, limits)
    a, b = plan.push_window()
    q_mid = plan.q[(a + b) // 2]
    lift = plan_motion(kin, q_mid, limits, lift_only=True)
    tip0 = kin.tip(q_mid)[0][0]
    assert np.allclose(lift.tip[:, :2], tip0[:2], atol=1e-9)
    assert lift.tip[-1, 2] == pytest.approx(limits.transit_height)
    assert np.linalg.norm(kin.tip(lift.q)[0] - lift.tip, axis=1).max() < 1e-3
