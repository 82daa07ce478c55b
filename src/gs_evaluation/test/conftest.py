"""The shipped rope model, loaded once on the CPU with one torch thread."""

import os

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")


@pytest.fixture(scope="session")
def model():
    import torch

    from gs_mppi_planner.push_model import PushModel

    torch.set_num_threads(1)
    return PushModel(device="cpu")
