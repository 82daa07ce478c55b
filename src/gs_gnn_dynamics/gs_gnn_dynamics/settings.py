"""Settings table of the dynamics node (ROS parameters, ``config/dynamics.yaml``; a test
checks that the YAML file agrees). ROS-free."""

from __future__ import annotations

from gs_common.device import DEVICE_CHOICES
from gs_common.settings import Setting, min_max
from gs_common.workcell import WORKSPACE_X, WORKSPACE_Y

SETTINGS = [
    Setting(
        "checkpoint",
        "",
        "",
        "model checkpoint path stem (<stem>.safetensors + <stem>.json); "
        "empty: the shipped rope model; a shipped model's name (rope, cloth, toy): that model",
    ),
    Setting(
        "device",
        "auto",
        "",
        "torch device: auto (CUDA when present), cpu or cuda",
        choices=DEVICE_CHOICES,
    ),
    Setting(
        "num_particles",
        0,
        "",
        "control particles taken from a state by farthest point sampling; 0: the model's "
        "max_particles",
        range=(0, 2000),
    ),
    Setting(
        "max_steps",
        500,
        "",
        "most model steps (1 cm of pusher travel each) one request may ask for",
        range=(1, 100000),
    ),
    Setting("workspace_x", list(WORKSPACE_X), "m", "pusher workspace x range", check=min_max),
    Setting("workspace_y", list(WORKSPACE_Y), "m", "pusher workspace y range", check=min_max),
    Setting(
        "workspace_tolerance",
        0.02,
        "m",
        "pushes starting or ending farther outside the workspace are rejected",
        range=(0.0, 1.0),
    ),
]
