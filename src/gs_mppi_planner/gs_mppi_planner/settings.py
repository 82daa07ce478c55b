"""Settings table of the planner: one row per setting (name, default, unit, range,
description). The node's ROS parameters, ``config/planner.yaml`` (a test checks that it
agrees) and the defaults of the command-line tools derive from it; :func:`configs` turns a
settings dict into the cores' config objects. ROS-free.
"""

from __future__ import annotations

import math
from typing import Any

from gs_common.device import DEVICE_CHOICES
from gs_common.names import GT_POINTS_TOPIC, OBJECT_CLOUD, TRACKING_PARTICLES
from gs_common.settings import Setting, finite_pair, min_max
from gs_common.workcell import ARM_BASE, WORKSPACE_X, WORKSPACE_Y
from gs_mppi_planner.costs import COST_KINDS, CostConfig
from gs_mppi_planner.mpc import GOAL_METRICS, GoalLimits, MPCConfig
from gs_mppi_planner.mppi import PLANNERS, MPPIConfig


def _noise(v) -> str | None:
    vals = list(v)
    if len(vals) != 4 or not all(math.isfinite(float(x)) and float(x) >= 0 for x in vals):
        return "must be 4 finite values >= 0 (aim x [m], aim y [m], theta [rad], depth [m])"
    return None


STATE_SOURCES = {"cloud": OBJECT_CLOUD, "tracking": TRACKING_PARTICLES}
"""state_source -> the topic the planner observes (oracle_state: the ground truth instead)."""

S = Setting
SETTINGS = [
    S("device", "auto", "", "torch device: auto (CUDA when present), cpu or cuda",
      choices=DEVICE_CHOICES),
    S("oracle_state", False, "",
      f"ORACLE: observe the simulator's ground truth ({GT_POINTS_TOPIC}) instead of "
      "state_source (sim only)"),
    S("state_source", "cloud", "",
      f"what the planner observes: cloud = {OBJECT_CLOUD} (segmentation's object points "
      f"fused over the cameras, observed afresh at every decision), tracking = "
      f"{TRACKING_PARTICLES} (the tracker's control particles)",
      choices=STATE_SOURCES),
    S(
        "checkpoint",
        "",
        "",
        "dynamics checkpoint stem, or a shipped model's name (rope, cloth, toy); empty: the "
        "shipped rope model",
    ),
    S("num_particles", 0, "", "control particles per state (0: the model's max)",
      range=(0, 2000)),
    S("torch_threads", 0, "", "torch CPU threads (0: torch's default)", range=(0, 256)),
    S("planner", "mppi", "", "planner: mppi | shooting (best of N) | pytorch_mppi",
      choices=list(PLANNERS)),
    S("num_samples", 64, "", "MPPI samples per iteration (K)", range=(2, 100000)),
    S("iterations", 4, "", "MPPI iterations per push decision", range=(1, 1000)),
    S("horizon", 1, "", "pushes per plan (H)", range=(1, 10)),
    S("temperature", 0.02, "", "MPPI lambda relative to the cost spread (median - min)",
      range=(1e-4, 100.0)),
    S("noise", [0.02, 0.02, 0.35, 0.03], "m, m, rad, m",
      "initial std of the action perturbation (aim x, aim y, theta, depth)", check=_noise),
    S("noise_decay", 0.7, "", "noise factor per MPPI iteration", range=(0.01, 1.0)),
    S("explore_fraction", 0.9, "",
      "share of the first iteration's samples drawn from the object-aware proposal",
      range=(0.0, 0.95)),
    S("explore_later", 0.5, "",
      "share of the later iterations' samples drawn from the object-aware proposal",
      range=(0.0, 0.95)),
    S("seed", 0, "", "planner random seed (reset at every goal)", range=(0, 2**31 - 1)),
    S("cost", "chamfer", "", "shape cost: chamfer | matched", choices=list(COST_KINDS)),
    S("clearance", 0.025, "m", "push start distance from the object", range=(0.0, 0.2)),
    S("contact", 0.008, "m", "the push path must pass this close to the object",
      range=(0.0, 0.2)),
    S("max_gap", 0.03, "m", "push start at most this far beyond the clearance",
      range=(0.0, 0.5)),
    S("workspace_x", list(WORKSPACE_X), "m", "pusher workspace x range", check=min_max),
    S("workspace_y", list(WORKSPACE_Y), "m", "pusher workspace y range", check=min_max),
    S("workspace_margin", 0.005, "m", "keep pushes this far inside the workspace",
      range=(0.0, 0.1)),
    S("arm_base", list(ARM_BASE), "m", "xy of the arm base", check=finite_pair),
    S("max_reach", 0.70, "m", "largest xy distance of a push point from the arm base",
      range=(0.05, 5.0)),
    S("min_push_length", 0.05, "m", "shortest push", range=(0.005, 0.5)),
    S("max_push_length", 0.20, "m", "longest push", range=(0.01, 0.5)),
    S("w_collision", 10.0, "", "weight of the start-inside-object penalty", range=(0.0, 1e6)),
    S("w_contact", 10.0, "", "weight of the missing-contact penalty", range=(0.0, 1e6)),
    S("w_workspace", 10.0, "", "weight of the workspace penalty", range=(0.0, 1e6)),
    S("w_reach", 10.0, "", "weight of the reach penalty", range=(0.0, 1e6)),
    S("w_smooth", 0.0, "", "weight of the push-to-push change penalty (0: off)",
      range=(0.0, 1e6)),
    S("target_margin", 0.03, "m", "target points may lie this far outside the workspace",
      range=(0.0, 1.0)),
    S("default_max_pushes", 8, "", "pushes of a goal with max_pushes = 0", range=(1, 1000)),
    S("max_pushes_limit", 100, "", "largest max_pushes a goal may ask for",
      range=(1, 100000)),
    S("default_tolerance", 0.015, "m", "cost tolerance of a goal with tolerance <= 0",
      range=(1e-6, 10.0)),
    S("push_speed", 0.08, "m/s", "pusher speed sent with robot/execute_push",
      range=(0.001, 1.0)),
    S("push_height", 0.0, "m",
      "pusher height sent with robot/execute_push (<= 0: the model's push height)",
      range=(-1.0, 0.2)),
    S("state_timeout", 30.0, "s", "wait this long for an observed state (tracking in a loaded "
      "stack can take 10 s and more per frame)", range=(0.01, 600.0)),
    S("settle_timeout", 5.0, "s",
      "wait at most this long for the object to come to rest after a push",
      range=(0.0, 600.0)),
    S("state_height", 0.008, "m",
      "the observed object is moved to this median height before planning: the height of "
      "the states its dynamics model was trained on (the shipped rope model: the rope's "
      "centreline, 8 mm; segmentation's cloud sees the top surface, ~12 mm); < 0: as observed",
      range=(-1.0, 0.5)),
    S("goal_metric", "curve", "",
      "the goal check (error of the observed state): curve = Chamfer distance between the "
      "curves through the observed centreline and the target (rope-like objects; the "
      "default model's); points = between the observed points and the target themselves "
      "(toy, cloth)",
      choices=GOAL_METRICS),
    S("settle_threshold", 0.002, "m",
      "at rest: the Chamfer distance between consecutive observations is at most this",
      range=(0.0, 1.0)),
    S("execute_timeout", 120.0, "s", "longest wait for one robot/execute_push",
      range=(1.0, 3600.0)),
    S("feedback_states", True, "", "include the predicted states in every feedback"),
]  # fmt: skip


def configs(s: dict[str, Any]) -> tuple[CostConfig, MPPIConfig, MPCConfig]:
    """The cores' configs of a settings dict (names of :data:`SETTINGS`)."""
    workspace = (*(float(v) for v in s["workspace_x"]), *(float(v) for v in s["workspace_y"]))
    cost = CostConfig(
        kind=s["cost"],
        clearance=s["clearance"],
        workspace=workspace,
        margin=s["workspace_margin"],
        arm_base=tuple(float(v) for v in s["arm_base"]),
        max_reach=s["max_reach"],
        min_length=s["min_push_length"],
        max_length=s["max_push_length"],
        contact=s["contact"],
        max_gap=s["max_gap"],
        w_collision=s["w_collision"],
        w_contact=s["w_contact"],
        w_workspace=s["w_workspace"],
        w_reach=s["w_reach"],
        w_smooth=s["w_smooth"],
    )
    mppi = MPPIConfig(
        num_samples=s["num_samples"],
        iterations=s["iterations"],
        horizon=s["horizon"],
        temperature=s["temperature"],
        noise=tuple(float(v) for v in s["noise"]),
        noise_decay=s["noise_decay"],
        explore_fraction=s["explore_fraction"],
        explore_later=s["explore_later"],
        seed=s["seed"],
    )
    mpc = MPCConfig(
        limits=GoalLimits(
            workspace=workspace,
            target_margin=s["target_margin"],
            default_max_pushes=s["default_max_pushes"],
            max_pushes_limit=s["max_pushes_limit"],
            default_tolerance=s["default_tolerance"],
        ),
        seed=s["seed"],
        state_height=s["state_height"],
        goal_metric=s["goal_metric"],
    )
    return cost, mppi, mpc
