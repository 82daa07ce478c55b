"""Shared fixtures: the shipped rope model (loaded once), one torch thread."""

import os

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
