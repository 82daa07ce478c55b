"""Batched rollouts and push -> tool-path conversion.

A push (x, y, theta, length) moves the tool in a straight line at ``push_height``; the model
steps once per ``step_length`` of travel (the last step of a push is shortened so that it
ends exactly at the push's end).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gs_gnn_dynamics.model import ParticleDynamics


def push_steps(length: float, step_length: float) -> int:
    """Number of model steps of a push of ``length`` [m] (at least 1)."""
    return max(1, math.ceil(length / step_length - 1e-6))


def push_tool_path(push, height: float, step_length: float) -> np.ndarray:
    """Tool positions (S + 1, 3) [m] along one push (x, y, theta, length)."""
    x, y, theta, length = (float(v) for v in push)
    s = push_steps(length, step_length)
    travel = np.minimum(np.arange(s + 1) * step_length, length)
    d = np.array([math.cos(theta), math.sin(theta)])
    xy = np.array([x, y]) + travel[:, None] * d
    return np.concatenate([xy, np.full((s + 1, 1), height)], 1)


def rollout(
    model: ParticleDynamics,
    points: torch.Tensor,
    tool_path: torch.Tensor,
    mask: torch.Tensor | None = None,
    point_history: torch.Tensor | None = None,
    tool_history: torch.Tensor | None = None,
) -> torch.Tensor:
    """Roll B graphs forward along their tool paths.

    points: (B, N, 3) start state [m]; tool_path: (B, T + 1, 3) or (B, T + 1, M, 3) tool
    positions [m], step 0 = now; mask: (B, N) bool; point_history (B, k, N, 3) and
    tool_history (B, k, M, 3): past motions (default zeros: at rest). Returns positions
    (B, T + 1, N, 3) [m], step 0 = ``points``. Differentiable (training uses it).
    """
    k = model.cfg.history
    if tool_path.dim() == 3:
        tool_path = tool_path[:, :, None, :]
    b, t1, m, _ = tool_path.shape
    n = points.shape[1]
    if point_history is None:
        point_history = points.new_zeros(b, k, n, 3)
    if tool_history is None:
        tool_history = points.new_zeros(b, k, m, 3)
    states = [points]
    x = points
    for t in range(t1 - 1):  # sequential in time; batched over graphs and particles
        tools = tool_path[:, t]
        action = tool_path[:, t + 1] - tools
        motion = model(x, point_history, tools, tool_history, action, mask)
        x = x + motion
        point_history = torch.cat([point_history[:, 1:], motion[:, None]], 1)
        tool_history = torch.cat([tool_history[:, 1:], action[:, None]], 1)
        states.append(x)
    return torch.stack(states, 1)


def predict_pushes(
    model: ParticleDynamics, points: np.ndarray, pushes: np.ndarray, height: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predict one state (N, 3) [m] under a sequence of pushes (P, 4).

    Between pushes the object is at rest (the history is reset). Returns (positions
    (T + 1, N, 3), tool positions (T + 1, 3), push start steps (P,)). Step 0 = start state.
    """
    cfg = model.cfg
    h = cfg.push_height if height is None else height
    dev = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(points, np.float32), device=dev)[None]
    out_x, out_tool, starts = [x[0].cpu().numpy()], [], []
    step = 0
    with torch.no_grad():
        for push in np.asarray(pushes, np.float64).reshape(-1, 4):
            path = torch.as_tensor(
                push_tool_path(push, h, cfg.step_length), dtype=x.dtype, device=dev
            )
            states = rollout(model, x, path[None])
            starts.append(step)
            step += len(path) - 1
            out_x.extend(states[0, 1:].cpu().numpy())
            if not out_tool:
                out_tool.append(path[0].cpu().numpy())
            out_tool.extend(path[1:].cpu().numpy())
            x = states[:, -1]
    return np.stack(out_x), np.stack(out_tool), np.array(starts, np.int64)
