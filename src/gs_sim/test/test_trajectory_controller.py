"""gs_sim's joint trajectory controller: validation of commands, following, holding, and
giving way to the simulator's own push executor."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from gs_sim.push import validate_push
from gs_sim.settings import workcell_config
from gs_sim.trajectory_controller import TrajectoryFollower, TrajectoryRejected
from gs_sim.workcell import Workcell


@pytest.fixture(scope="module")
def workcell():
    return Workcell(workcell_config({"num_cameras": 1}), seed=3)


def test_rejections_name_the_value(workcell):
    f = TrajectoryFollower(workcell)
    names = workcell.joint_names
    q = workcell.joint_positions()
    with pytest.raises(TrajectoryRejected, match="joint_names"):
        f.set_trajectory(names[:6], [1.0], q[None, :6])
    with pytest.raises(TrajectoryRejected, match="strictly increasing"):
        f.set_trajectory(names, [1.0, 1.0], np.stack([q, q]))
    with pytest.raises(TrajectoryRejected, match="non-finite"):
        f.set_trajectory(names, [float("nan")], q[None])
    bad = q.copy()
    bad[1] = 3.0
    with pytest.raises(TrajectoryRejected, match=r"joint2 = 3\.000 rad at point 0 is outside"):
        f.set_trajectory(names, [1.0], bad[None])
    assert not f.active


def test_follows_reordered_joints_then_holds(workcell):
    f = TrajectoryFollower(workcell)
    q0 = workcell.joint_positions()
    q1 = q0 + np.array([0.1, 0.05, 0.0, -0.05, 0.0, 0.05, 0.2])
    order = [6, 0, 1, 2, 3, 4, 5]  # the message may list joints in any order
    names = [workcell.joint_names[i] for i in order]
    n = f.set_trajectory(names, [1.0], q1[order][None])
    assert n == 2 and f.active  # the current joints are prepended at t = 0
    t0 = workcell.time
    mid = None
    while f.active:
        f.step_frame()
        if mid is None and workcell.time - t0 >= 0.5 - 1e-9:
            mid = workcell.joint_positions()
    assert np.allclose(mid, q0 + 0.5 * (q1 - q0), atol=0.04)
    assert np.allclose(workcell.joint_positions(), q1, atol=1e-9)
    f.step_frame()
    assert np.allclose(workcell.joint_positions(), q1, atol=1e-9)  # holds


def test_sim_push_takes_over(workcell):
    f = TrajectoryFollower(workcell)
    q = workcell.joint_positions()
    f.set_trajectory(workcell.joint_names, [5.0], q[None])
    cfg = workcell.config
    workcell.start_push(
        validate_push((0.0, 0.0), (0.02, 0.0), 0.05, 0.1, cfg.workspace, cfg.limits)
    )
    f.step_frame()
    assert not f.active and workcell.busy
    while workcell.busy:
        f.step_frame()
