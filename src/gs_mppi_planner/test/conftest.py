"""Shared fixtures: the shipped rope model (loaded once), one torch thread."""

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "egl")


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def model():
    from gs_mppi_planner.push_model import PushModel

    return PushModel(device="cpu")


@pytest.fixture
def curved_rope() -> np.ndarray:
    """(30, 3) a bent rope (arc) lying on the table, 0.4 m long [m]."""
    s = np.linspace(-0.2, 0.2, 30)
    return np.stack([s, 0.25 * s**2 * 4 - 0.04, np.full(30, 0.008)], 1).astype(np.float32)
