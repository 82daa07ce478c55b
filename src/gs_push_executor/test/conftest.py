"""Shared fixtures: the xArm7 preset with gs_sim's arm base, a start posture at the retreat
point (where gs_sim's arm rests)."""

from __future__ import annotations

import numpy as np
import pytest

from gs_push_executor.kinematics import PusherKinematics
from gs_push_executor.motion import MotionLimits, Workspace
from gs_push_executor.robot import load_robot


@pytest.fixture(scope="session")
def kin() -> PusherKinematics:
    return PusherKinematics(load_robot("xarm7", base_xyz=(-0.40, 0.0, 0.0)))


@pytest.fixture(scope="session")
def q_rest(kin) -> np.ndarray:
    sol = kin.solve(np.array([MotionLimits().retreat]), kin.home, iterations=200)
    assert sol.position_error[0] < 1e-4
    return sol.q[0]


@pytest.fixture
def limits() -> MotionLimits:
    return MotionLimits()


@pytest.fixture
def workspace() -> Workspace:
    return Workspace()
