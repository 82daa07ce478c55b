"""Push geometry (DESIGN.md §4), one definition for the simulator, the dynamics model, the
planner and the plots. ROS-free; numpy for single pushes, torch for batches.

A push (x, y, theta, length) [m, m, rad, m] moves the pusher tip in a straight line from
(x, y) along the direction theta for ``length`` metres. A learned model steps once per
``step_length`` of travel; the last step is shortened so that the path ends at the push's
end (``push_steps`` steps, at least 1).
"""

from __future__ import annotations

import math

import numpy as np


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
