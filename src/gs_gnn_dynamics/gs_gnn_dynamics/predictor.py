"""ROS-free core of the predict service: input validation, control particles, rollout."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from gs_common.device import resolve_device
from gs_common.pointsets import farthest_point_sampling, validated_points
from gs_common.push import push_end, push_steps
from gs_common.workcell import WORKSPACE, outside_box
from gs_gnn_dynamics.checkpoint import load_checkpoint
from gs_gnn_dynamics.rollout import predict_pushes

MIN_POINTS = 4
SHIPPED_MODEL = "rope"


class InvalidRequestError(ValueError):
    """A request that cannot be served; the message names the offending value."""


def shipped_checkpoint(name: str = SHIPPED_MODEL) -> Path:
    """Path stem of a model shipped with the package (installed share dir, else source)."""
    candidates = []
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory("gs_gnn_dynamics")) / "models")
    except Exception:  # not installed / no ament index: use the source tree
        pass
    candidates.append(Path(__file__).resolve().parent.parent / "models")
    for d in candidates:
        if (d / f"{name}.json").is_file():
            return d / name
    raise FileNotFoundError(f"shipped model '{name}' not found in {[str(c) for c in candidates]}")


def resolve_checkpoint(checkpoint: str | os.PathLike = "") -> Path:
    """A checkpoint path stem from ``checkpoint``: empty = the shipped rope model; the name
    of a shipped model (``rope``, ``cloth``, ``toy``, ...; a bare name, no ``/``) = that
    model, unless a file ``<name>.json`` exists in the working directory; anything else is
    a path stem (``<stem>.safetensors`` + ``<stem>.json``)."""
    text = str(checkpoint)
    if not text:
        return shipped_checkpoint()
    if "/" not in text and os.sep not in text and not Path(text + ".json").is_file():
        try:
            return shipped_checkpoint(text)
        except FileNotFoundError:
            pass  # not a shipped name: a path stem, reported by load_checkpoint if missing
    return Path(text)


class Predictor:
    """Loads a checkpoint and predicts particle trajectories under push sequences.

    num_particles: control particles taken from a given state (FPS with the model's minimum
    spacing); 0 = the model's ``max_particles``. max_steps bounds a request's total steps;
    pushes must start and end within ``workspace_tolerance`` [m] of the ``workspace`` box
    (x_min, x_max, y_min, y_max) [m].
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike = "",
        device: str = "auto",
        num_particles: int = 0,
        max_steps: int = 500,
        workspace: tuple[float, float, float, float] = WORKSPACE,
        workspace_tolerance: float = 0.02,
    ):
        self.device = resolve_device(device)
        path = resolve_checkpoint(checkpoint)
        self.model, self.doc = load_checkpoint(path, self.device)
        self.checkpoint = str(path)
        self.cfg = self.model.cfg
        self.num_particles = num_particles or self.cfg.max_particles
        self.max_steps = max_steps
        self.workspace = tuple(float(v) for v in workspace)
        self.workspace_tolerance = float(workspace_tolerance)

    def control_particles(self, points: np.ndarray) -> np.ndarray:
        """Validated control particles (N, 3) float32 from a state (M, 3) [m]."""
        pts = validated_points(points, "state", InvalidRequestError)
        if len(pts) < MIN_POINTS:
            raise InvalidRequestError(f"state has {len(pts)} points; at least {MIN_POINTS} needed")
        idx = farthest_point_sampling(pts, self.num_particles, 0, self.cfg.min_spacing)
        if len(idx) < 2:
            raise InvalidRequestError(
                f"state spans less than the particle spacing "
                f"{self.cfg.min_spacing} m: only {len(idx)} control particle"
            )
        return pts[idx]

    def check_pushes(self, pushes: np.ndarray) -> np.ndarray:
        """Validated pushes (P, 4) [m, m, rad, m]; raises InvalidRequestError naming the push
        and field: non-finite values, lengths <= 0 or longer than ``max_steps`` allow, starts
        or ends more than ``workspace_tolerance`` outside the workspace (the pusher could
        not execute them; the model never saw them), more than ``max_steps`` steps in all."""
        p = np.asarray(pushes, np.float64).reshape(-1, 4)
        if len(p) == 0:
            raise InvalidRequestError("no pushes given (need at least one)")
        longest = self.max_steps * self.cfg.step_length
        for i, (x, y, theta, length) in enumerate(p):
            if not all(math.isfinite(v) for v in (x, y, theta, length)):
                raise InvalidRequestError(
                    f"push {i} has non-finite values (x={x}, y={y}, theta={theta}, length={length})"
                )
            if length <= 0:
                raise InvalidRequestError(f"push {i} length {length} m must be > 0")
            if length > longest:
                raise InvalidRequestError(
                    f"pushes[{i}].length = {length:g} m needs more model steps than allowed "
                    f"(at most {self.max_steps} of {self.cfg.step_length} m)"
                )
            for what, (px, py) in (("start", (x, y)), ("end", push_end((x, y, theta, length)))):
                out = outside_box(px, py, self.workspace)
                if out > self.workspace_tolerance:
                    x0, x1, y0, y1 = self.workspace
                    raise InvalidRequestError(
                        f"pushes[{i}] {what} ({px:.3f}, {py:.3f}) m is {out:.3f} m outside the "
                        f"workspace x in [{x0}, {x1}], y in [{y0}, {y1}] m"
                    )
        steps = sum(push_steps(float(v), self.cfg.step_length) for v in p[:, 3])
        if steps > self.max_steps:
            raise InvalidRequestError(f"pushes need {steps} model steps; at most {self.max_steps}")
        return p

    def predict(self, points: np.ndarray, pushes: np.ndarray):
        """(positions (T + 1, N, 3), ee (T + 1, 3), push start steps (P,)) [m]."""
        p = self.check_pushes(pushes)
        ctrl = self.control_particles(points)
        with torch.no_grad():
            return predict_pushes(self.model, ctrl, p)
