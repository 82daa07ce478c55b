"""The learned particle dynamics as a batched push simulator for planning.

A push is (x, y, theta, length) [m, m, rad, m] (DESIGN.md §4): the tool moves from (x, y)
along theta at the model's ``push_height``; the model steps once per ``step_length`` (1 cm)
of travel, the last step of a push shortened so that it ends at the push's end. In a batch
of pushes of different lengths every tool path is padded to the longest one by repeating its
last position (zero action). Between consecutive pushes the object is at rest (history reset).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable

import numpy as np
import torch

from gs_gnn_dynamics.predictor import Predictor
from gs_gnn_dynamics.rollout import push_steps, rollout


@dataclasses.dataclass
class Rollout:
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


class PushModel:
    """Loads a dynamics checkpoint and rolls out batches of push sequences.

    ``rollouts`` counts (sample, push) model rollouts, the compute budget unit of the
    planners (one rollout = one push of one sample through the model).
    """

    def __init__(
        self, checkpoint: str | os.PathLike = "", device: str = "auto", num_particles: int = 0
    ):
        self.predictor = Predictor(checkpoint, device, num_particles)
        self.model = self.predictor.model
        self.cfg = self.model.cfg
        self.device = self.predictor.device
        self.checkpoint = self.predictor.checkpoint
        self.rollouts = 0

    def control_particles(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) float32 control particles (FPS with the model's spacing) of a state (M, 3)."""
        return self.predictor.control_particles(points)

    def tool_paths(self, pushes: torch.Tensor, height: float | None = None) -> torch.Tensor:
        """Tool positions (B, S + 1, 3) [m] of pushes (B, 4); S = steps of the longest push,
        shorter pushes padded with their last position (zero action)."""
        h = self.cfg.push_height if height is None else height
        step = self.cfg.step_length
        lengths = pushes[:, 3].clamp(min=1e-6)
        s = max(push_steps(float(lengths.max()), step), 1)
        travel = torch.arange(s + 1, device=pushes.device, dtype=pushes.dtype) * step
        travel = torch.minimum(travel[None], lengths[:, None])  # (B, S + 1)
        d = torch.stack([torch.cos(pushes[:, 2]), torch.sin(pushes[:, 2])], -1)  # (B, 2)
        xy = pushes[:, None, :2] + travel[..., None] * d[:, None]
        z = torch.full_like(travel, h)[..., None]
        return torch.cat([xy, z], -1)

    @torch.no_grad()
    def predict(
        self,
        particles: torch.Tensor,
        pushes: torch.Tensor,
        to_push: Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ) -> Rollout:
        """Roll B samples forward under their push sequences.

        particles: (N, 3) or (B, N, 3) start state [m]; pushes: (B, H, 4) or (B, 4).
        to_push(h, actions (B, 4), state (B, N, 3)) -> pushes (B, 4): optional conversion of
        planner actions into pushes on the (predicted) state at push h's start.
        """
        if pushes.dim() == 2:
            pushes = pushes[:, None]
        b, h, _ = pushes.shape
        dtype = torch.float32
        x = particles.to(self.device, dtype)
        if x.dim() == 2:
            x = x[None].expand(b, -1, -1).contiguous()
        pushes = pushes.to(self.device, dtype)
        states, tools, starts, done, ends, step = [x[:, None]], [], [], [], [], 0
        idx = torch.arange(b, device=self.device)
        for k in range(h):
            pk = pushes[:, k] if to_push is None else to_push(k, pushes[:, k], x).to(dtype)
            done.append(pk)
            path = self.tool_paths(pk)
            traj = rollout(self.model, x, path)  # (B, S + 1, N, 3)
            own = self.steps(pk).clamp(max=path.shape[1] - 1)  # (B,) unpadded steps
            starts.append(step)
            ends.append(step + own)
            step += path.shape[1] - 1
            states.append(traj[:, 1:])
            tools.append(path if k == 0 else path[:, 1:])
            x = traj[idx, own]  # the object at rest after its own push, not the padding
        self.rollouts += b * h
        return Rollout(
            torch.cat(states, 1),
            torch.cat(tools, 1),
            starts,
            torch.stack(done, 1),
            torch.stack(ends, 1),
        )

    def steps(self, pushes: torch.Tensor) -> torch.Tensor:
        """(B,) int64 model steps of pushes (B, 4) (``push_steps`` of gs_gnn_dynamics)."""
        s = torch.ceil(pushes[:, 3].clamp(min=1e-6) / self.cfg.step_length - 1e-6)
        return s.clamp(min=1).to(torch.int64)


def push_end(push) -> tuple[float, float]:
    """End point (x, y) [m] of one push (x, y, theta, length)."""
    x, y, theta, length = (float(v) for v in push)
    return x + length * math.cos(theta), y + length * math.sin(theta)
