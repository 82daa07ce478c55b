"""Push geometry (DESIGN.md §4), one definition for the simulator, the dynamics model, the
planner and the plots. ROS-free; numpy for single pushes, torch for batches.

A push (x, y, theta, length) [m, m, rad, m] moves the pusher tip in a straight line from
(x, y) along the direction theta for ``length`` metres. A learned model steps once per
``step_length`` of travel; the last step is shortened so that the path ends at the push's
end (``push_steps`` steps, at least 1).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from gs_common.settings import Setting, finite_pair, min_max
from gs_common.workcell import ARM_BASE, WORKSPACE_X, WORKSPACE_Y

CONTACT_HEIGHT = 0.02  # [m] the pusher tip at or below this height is in a push


def push_runs(ee: np.ndarray, contact_height: float = CONTACT_HEIGHT) -> list[tuple[int, int]]:
    """[start, end] frame index pairs (inclusive) of the runs of frames with the pusher tip
    ``ee`` (T, 3) [m, world] at or below ``contact_height``: the pushes of an episode."""
    low = np.concatenate([[False], ee[:, 2] <= contact_height, [False]])
    edges = np.flatnonzero(np.diff(low.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def push_direction(theta: float) -> np.ndarray:
    """(2,) unit xy direction of a push angle theta [rad]."""
    return np.array([math.cos(theta), math.sin(theta)])


def directions(theta):
    """(..., 2) unit xy directions of push angles theta (...) [rad] (torch or numpy)."""
    if isinstance(theta, np.ndarray):
        return np.stack([np.cos(theta), np.sin(theta)], -1)
    import torch

    return torch.stack([torch.cos(theta), torch.sin(theta)], -1)


def push_end(push) -> tuple[float, float]:
    """End point (x, y) [m] of one push (x, y, theta, length)."""
    x, y, theta, length = (float(v) for v in push)
    return x + length * math.cos(theta), y + length * math.sin(theta)


def push_steps(length: float, step_length: float) -> int:
    """Model steps of a push of ``length`` [m] (at least 1). Raises ValueError for a
    non-finite length (naming it)."""
    if not math.isfinite(length):
        raise ValueError(f"push length {length} is not finite")
    return max(1, math.ceil(length / step_length - 1e-6))


def push_ends(pushes):
    """(..., 2) end points [m] of pushes (..., 4) (torch tensor or numpy array)."""
    return pushes[..., :2] + pushes[..., 3:4] * directions(pushes[..., 2])


def batch_push_steps(pushes, step_length: float):
    """(B,) int64 model steps of pushes (B, 4) (torch): ``push_steps`` of each length."""
    import torch

    s = torch.ceil(pushes[:, 3].clamp(min=1e-6) / step_length - 1e-6)
    return s.clamp(min=1).to(torch.int64)


def tool_paths(pushes, height: float, step_length: float):
    """Tool positions (B, S + 1, 3) [m] of pushes (B, 4) (torch) at ``height``; S = steps
    of the longest push, shorter pushes padded with their last position (zero action)."""
    import torch

    lengths = pushes[:, 3].clamp(min=1e-6)
    s = push_steps(float(lengths.max()), step_length)
    travel = torch.arange(s + 1, device=pushes.device, dtype=pushes.dtype) * step_length
    travel = torch.minimum(travel[None], lengths[:, None])  # (B, S + 1)
    d = directions(pushes[:, 2])  # (B, 2)
    xy = pushes[:, None, :2] + travel[..., None] * d[:, None]
    z = torch.full_like(travel, height)[..., None]
    return torch.cat([xy, z], -1)


# --- push goals: one validation for every executor (simulator, real arms) ----------------


class PushRejected(ValueError):  # noqa: N818 - reads as the action status it maps to
    """The push goal is invalid (not finite, outside the workspace, too long...); nothing
    moved. The message names the offending value."""


@dataclasses.dataclass(frozen=True)
class Workspace:
    """Axis-aligned box the pusher tip may push in [m] (world frame): x, y ranges and the
    highest push height. Defaults: the workcell's (gs_common.workcell)."""

    x_min: float = WORKSPACE_X[0]
    x_max: float = WORKSPACE_X[1]
    y_min: float = WORKSPACE_Y[0]
    y_max: float = WORKSPACE_Y[1]
    z_max: float = 0.15

    def validate(self) -> None:
        vals = dataclasses.astuple(self)
        if not all(np.isfinite(vals)):
            raise ValueError(f"workspace bounds must be finite, got {vals}")
        if self.x_min >= self.x_max or self.y_min >= self.y_max or self.z_max <= 0:
            raise ValueError(f"workspace is empty: {self}")

    def contains_xy(self, x: float, y: float) -> bool:
        return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max


@dataclasses.dataclass(frozen=True)
class PushLimits:
    """Defaults and limits of push goals: default_height / default_speed are used when a
    goal gives <= 0 [m], [m/s]; min_length / max_length [m]; max_speed [m/s]; min_tip_height:
    lowest push height [m] (table clearance of the tip)."""

    default_height: float = 0.005
    default_speed: float = 0.05
    min_length: float = 0.005
    max_length: float = 0.5
    max_speed: float = 0.5
    min_tip_height: float = 0.0


PUSH_SETTINGS = [
    Setting("workspace_x", list(WORKSPACE_X), "m", "workspace x range of the pusher tip",
            check=min_max),
    Setting("workspace_y", list(WORKSPACE_Y), "m", "workspace y range of the pusher tip",
            check=min_max),
    Setting("workspace_z_max", Workspace.z_max, "m", "maximum push height", range=(0.001, 0.5)),
    Setting("arm_base", list(ARM_BASE), "m", "xy of the arm base on the table (world)",
            check=finite_pair),
    Setting("default_push_height", PushLimits.default_height, "m",
            "tip height when a goal gives height <= 0", range=(0.0005, 0.2)),
    Setting("default_push_speed", PushLimits.default_speed, "m/s",
            "tip speed when a goal gives speed <= 0", range=(0.001, 0.5)),
    Setting("max_push_speed", 0.3, "m/s", "fastest accepted push", range=(0.001, 2.0)),
]  # fmt: skip
"""Settings rows of the workcell box and push limits, shared by every ``robot/execute_push``
server (the simulator and the push executor): one default for both."""


def workspace_from_settings(settings: dict) -> Workspace:
    """The :class:`Workspace` of a settings dict holding the :data:`PUSH_SETTINGS` rows."""
    x, y = settings["workspace_x"], settings["workspace_y"]
    z = settings["workspace_z_max"]
    return Workspace(float(x[0]), float(x[1]), float(y[0]), float(y[1]), float(z))


def push_limit_values(settings: dict) -> dict[str, float]:
    """Keyword values of :class:`PushLimits` (and its subclasses) set by the
    :data:`PUSH_SETTINGS` rows of a settings dict."""
    return {
        "default_height": float(settings["default_push_height"]),
        "default_speed": float(settings["default_push_speed"]),
        "max_speed": float(settings["max_push_speed"]),
    }


@dataclasses.dataclass(frozen=True)
class PushGoal:
    """A validated push: start/end (2,) tip xy [m], height [m], speed [m/s]."""

    start: np.ndarray
    end: np.ndarray
    height: float
    speed: float

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.end - self.start))

    @property
    def theta(self) -> float:
        d = self.end - self.start
        return math.atan2(d[1], d[0])


def validate_push(
    start, end, height: float, speed: float, workspace: Workspace, limits: PushLimits = PushLimits()
) -> PushGoal:
    """Check a push request; return a :class:`PushGoal` or raise :class:`PushRejected` with a
    message naming the offending value. ``height``/``speed`` <= 0 select the defaults."""
    values = {
        "start.x": start[0],
        "start.y": start[1],
        "end.x": end[0],
        "end.y": end[1],
        "height": height,
        "speed": speed,
    }
    for name, value in values.items():
        if not math.isfinite(float(value)):
            raise PushRejected(f"{name} = {value} is not finite")
    h = float(height) if height > 0 else limits.default_height
    v = float(speed) if speed > 0 else limits.default_speed
    if h > workspace.z_max:
        raise PushRejected(
            f"height = {h:.3f} m is above the workspace limit {workspace.z_max:.3f} m"
        )
    if h < limits.min_tip_height:
        raise PushRejected(
            f"height = {h:.4f} m is below the table clearance {limits.min_tip_height:.4f} m"
        )
    if v > limits.max_speed:
        raise PushRejected(f"speed = {v:.3f} m/s exceeds the limit {limits.max_speed:.3f} m/s")
    s = np.array([float(start[0]), float(start[1])])
    e = np.array([float(end[0]), float(end[1])])
    for name, p in (("start", s), ("end", e)):
        if not workspace.contains_xy(*p):
            raise PushRejected(
                f"{name} = ({p[0]:.3f}, {p[1]:.3f}) m is outside the workspace "
                f"x in [{workspace.x_min:.3f}, {workspace.x_max:.3f}], "
                f"y in [{workspace.y_min:.3f}, {workspace.y_max:.3f}]"
            )
    length = float(np.linalg.norm(e - s))
    if length < limits.min_length:
        raise PushRejected(
            f"push length = {length:.4f} m is shorter than {limits.min_length:.4f} m"
        )
    if length > limits.max_length:
        raise PushRejected(f"push length = {length:.3f} m exceeds {limits.max_length:.3f} m")
    return PushGoal(s, e, h, v)
