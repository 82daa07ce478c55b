"""IK accuracy along planned pushes (tip error < 1 mm) and FK agreement with gs_sim's MuJoCo
model of the same URDF."""

from __future__ import annotations

import numpy as np
import pytest

from gs_push_executor.kinematics import PusherKinematics
from gs_push_executor.motion import plan_motion, validate_push
from gs_push_executor.robot import load_robot

PUSHES = [
    ((0.0, -0.1), (0.1, 0.05), 0.005, 0.05),
    ((0.2, 0.2), (0.05, 0.22), 0.02, 0.1),
    ((-0.2, -0.24), (0.2, -0.2), 0.005, 0.3),
]


@pytest.mark.parametrize("push", PUSHES)
def test_tip_follows_the_path_within_1mm(kin, q_rest, limits, workspace, push):
    goal = validate_push(*push, workspace, limits)
    plan = plan_motion(kin, q_rest, limits, goal)
    # the executed joint trajectory (linear interpolation between samples, as the
    # controllers do) sampled 10x finer than the plan, against the planned Cartesian path
    ts = np.linspace(0.0, plan.duration, 10 * len(plan.times))
    q = np.stack([plan.position_at(t) for t in ts])
    tip, axis = kin.tip(q)
    ref = np.stack([np.interp(ts, plan.times, plan.tip[:, c]) for c in range(3)], axis=1)
    err = np.linalg.norm(tip - ref, axis=1)
    assert err.max() < 1e-3, f"tip error {err.max() * 1000:.3f} mm"
    assert np.degrees(np.arccos(np.clip(-axis[:, 2], -1, 1))).max() < 2.0
    # the push itself: straight line at the requested height and (cruise) speed
    a, b = plan.push_window()
    seg = tip[(ts >= plan.times[a]) & (ts <= plan.times[b])]
    assert np.abs(seg[:, 2] - goal.height).max() < 1e-3
    d = goal.end - goal.start
    u = d / np.linalg.norm(d)
    rel = seg[:, :2] - goal.start
    assert np.abs(rel[:, 0] * u[1] - rel[:, 1] * u[0]).max() < 1e-3
    v = np.linalg.norm(np.diff(plan.tip[a : b + 1], axis=0), axis=1) / np.diff(
        plan.times[a : b + 1]
    )
    assert v.max() == pytest.approx(goal.speed, rel=0.02)
    # starts where the arm is, within joint limits, continuous
    assert np.allclose(plan.q[0], q_rest)
    assert (plan.q >= kin.lower - 1e-9).all() and (plan.q <= kin.upper + 1e-9).all()
    assert (np.diff(plan.times) > 0).all()


def test_fk_matches_the_simulators_mujoco_model():
    mujoco = pytest.importorskip("mujoco")
    robot_xarm = pytest.importorskip("gs_sim.robot_xarm")
    model = robot_xarm.xarm7_spec().compile()
    data = mujoco.MjData(model)
    kin = PusherKinematics(load_robot("xarm7", base_xyz=(0.0, 0.0, 0.0)))
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, robot_xarm.TIP_SITE)
    adr = [model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)]
           for n in kin.joint_names]  # fmt: skip
    rng = np.random.default_rng(0)
    lo, hi = np.maximum(kin.lower, -3.0), np.minimum(kin.upper, 3.0)
    q = rng.uniform(lo, hi, size=(20, kin.n))
    tip, axis = kin.tip(q)
    for i in range(len(q)):
        data.qpos[adr] = q[i]
        mujoco.mj_kinematics(model, data)
        assert np.allclose(data.site_xpos[site], tip[i], atol=1e-6)
        assert np.allclose(data.site_xmat[site].reshape(3, 3)[:, 2], axis[i], atol=1e-6)


def test_batched_ik_accuracy_and_seed_continuity(kin, q_rest):
    targets = np.stack(
        [np.linspace(-0.2, 0.2, 50), np.linspace(-0.2, 0.2, 50), np.full(50, 0.005)], axis=1
    )
    sol = kin.solve(targets, q_rest, iterations=100)
    assert sol.position_error.max() < 1e-3 and np.degrees(sol.axis_error.max()) < 2.0
    assert np.abs(np.diff(sol.q, axis=0)).max() < 0.1  # one IK branch along the line
