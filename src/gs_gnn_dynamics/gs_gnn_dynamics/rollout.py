"""Batched rollouts of the learned dynamics: along tool paths (training, evaluation) and
under push sequences (the predict service, the planners).

Push geometry (push -> tool path, steps) is gs_common.push: the tool moves in a straight
line at ``push_height``; the model steps once per ``step_length`` of travel (the last step
of a push is shortened so that it ends exactly at the push's end).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from gs_common.push import batch_push_steps, tool_paths
from gs_gnn_dynamics.model import ParticleDynamics


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


@dataclasses.dataclass
class PushRollout:
    """Predicted trajectories of B push sequences.

    states: (B, T + 1, N, 3) particle positions [m], step 0 = start state;
    tool: (B, T + 1, 3) tool positions [m]; push_start_step: (H,) model step at which push h
    starts (the same for every sample: segments are padded to the batch's longest push);
    pushes: (B, H, 4) the pushes rolled out; end_step: (B, H) step at which each sample's
    push h ends (after it only padding follows: the model would keep extrapolating the
    object's recent motion there, so a sample's state is read at its own end step).
    """

    states: torch.Tensor
    tool: torch.Tensor
    push_start_step: list[int]
    pushes: torch.Tensor
    end_step: torch.Tensor

    def at_end(self, h: int) -> torch.Tensor:
        """(B, N, 3) predicted states [m] at the end of each sample's push h."""
        b = torch.arange(self.states.shape[0], device=self.states.device)
        return self.states[b, self.end_step[:, h]]

    @property
    def final(self) -> torch.Tensor:
        """(B, N, 3) predicted states [m] at the end of each sample's last push."""
        return self.at_end(self.end_step.shape[1] - 1)


@torch.no_grad()
def rollout_pushes(
    model: ParticleDynamics,
    particles: torch.Tensor,
    pushes: torch.Tensor,
    height: float | None = None,
    to_push: Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> PushRollout:
    """Roll B samples forward under their push sequences (the one push rollout of the
    project: the predict service calls it with B = 1, the planners with their samples).

    particles: (N, 3) or (B, N, 3) start state [m]; pushes: (B, H, 4) or (B, 4);
    height: tool height [m] (None: the model's ``push_height``). Between consecutive pushes
    the object is at rest (history reset); in a batch, tool paths are padded to the longest
    push by repeating the last position (zero action).
    to_push(h, actions (B, 4), state (B, N, 3)) -> pushes (B, 4): optional conversion of
    planner actions into pushes on the (predicted) state at push h's start.
    """
    cfg = model.cfg
    h_tool = cfg.push_height if height is None else height
    dev = next(model.parameters()).device
    if pushes.dim() == 2:
        pushes = pushes[:, None]
    b, h, _ = pushes.shape
    dtype = torch.float32
    x = particles.to(dev, dtype)
    if x.dim() == 2:
        x = x[None].expand(b, -1, -1).contiguous()
    pushes = pushes.to(dev, dtype)
    states, tools, starts, done, ends, step = [x[:, None]], [], [], [], [], 0
    idx = torch.arange(b, device=dev)
    for k in range(h):
        pk = pushes[:, k] if to_push is None else to_push(k, pushes[:, k], x).to(dtype)
        done.append(pk)
        path = tool_paths(pk, h_tool, cfg.step_length)
        traj = rollout(model, x, path)  # (B, S + 1, N, 3)
        own = batch_push_steps(pk, cfg.step_length).clamp(max=path.shape[1] - 1)  # unpadded
        starts.append(step)
        ends.append(step + own)
        step += path.shape[1] - 1
        states.append(traj[:, 1:])
        tools.append(path if k == 0 else path[:, 1:])
        x = traj[idx, own]  # the object at rest after its own push, not the padding
    return PushRollout(
        torch.cat(states, 1),
        torch.cat(tools, 1),
        starts,
        torch.stack(done, 1),
        torch.stack(ends, 1),
    )


def predict_pushes(
    model: ParticleDynamics, points: np.ndarray, pushes: np.ndarray, height: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predict one state (N, 3) [m] under a sequence of pushes (P, 4): ``rollout_pushes``
    with a batch of 1. Returns (positions (T + 1, N, 3), tool positions (T + 1, 3), push
    start steps (P,)). Step 0 = start state."""
    dev = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(points, np.float32), device=dev)
    p = torch.as_tensor(np.asarray(pushes, np.float32).reshape(1, -1, 4), device=dev)
    ro = rollout_pushes(model, x, p, height)
    return (
        ro.states[0].cpu().numpy(),
        ro.tool[0].cpu().numpy(),
        np.array(ro.push_start_step, np.int64),
    )
