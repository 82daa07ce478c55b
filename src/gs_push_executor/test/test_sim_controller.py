"""The executor's joint trajectory drives gs_sim's workcell (the simulator as the controller,
ROS-free) and moves the rope as the simulator's own push executor does."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")
sim_settings = pytest.importorskip("gs_sim.settings")

from gs_push_executor.motion import plan_motion, validate_push  # noqa: E402
from gs_sim.push import validate_push as sim_validate_push  # noqa: E402
from gs_sim.trajectory_controller import TrajectoryFollower  # noqa: E402
from gs_sim.workcell import Workcell  # noqa: E402


def test_same_push_same_rope_motion(kin, limits, workspace):
    cfg = sim_settings.workcell_config({"seed": 1001, "num_cameras": 1})
    own, ours = Workcell(cfg, seed=1001), Workcell(cfg, seed=1001)
    p0 = own.object_points()
    assert np.allclose(p0, ours.object_points())
    start, end = (-0.1, -0.04), (0.05, -0.04)  # across the rope (seed 1001 lies along y)

    own.start_push(sim_validate_push(start, end, 0.005, 0.05, cfg.workspace, cfg.limits))
    tips_own = []
    while own.busy:
        own.step_frame()
        tips_own.append(own.tip_pose()[0])

    plan = plan_motion(
        kin,
        ours.joint_positions(),
        limits,
        validate_push(start, end, 0.005, 0.05, workspace, limits),
    )
    follower = TrajectoryFollower(ours)
    follower.set_trajectory(plan.joint_names, plan.times, plan.q)
    tips_ours = []
    while follower.active:
        follower.step_frame()
        tips_ours.append(ours.tip_pose()[0])
    for _ in range(15):  # one second to settle, both
        own.step_frame()
        follower.step_frame()

    # executed pushes: the tip samples at push height lie on the same line, same extent
    for tips in (np.array(tips_own), np.array(tips_ours)):
        low = tips[np.abs(tips[:, 2] - 0.005) < 1e-3]
        assert len(low) > 20
        assert np.abs(low[:, 1] - (-0.04)).max() < 1e-3
        assert low[:, 0].min() == pytest.approx(-0.1, abs=4e-3)
        assert low[:, 0].max() == pytest.approx(0.05, abs=1e-3)
    # resulting object motion: the rope moved ~2 cm and both outcomes agree within 2 mm
    p_own, p_ours = own.object_points(), ours.object_points()
    moved = np.linalg.norm(p_own - p0, axis=1).mean()
    assert moved > 0.01
    diff = np.linalg.norm(p_own - p_ours, axis=1)
    assert diff.mean() < 0.1 * moved and diff.max() < 2e-3, (moved, diff.mean(), diff.max())
    # both end at the rest / retreat point
    assert np.allclose(tips_own[-1], tips_ours[-1], atol=2e-3)
