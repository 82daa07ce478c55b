"""The learned particle dynamics as the planners' batched push simulator.

The rollout itself is gs_gnn_dynamics.rollout.rollout_pushes (the one push rollout of the
project; the predict service uses it with a batch of 1); push geometry is gs_common.push.
This wrapper loads a checkpoint and counts the planners' compute budget.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from gs_common.pointsets import local_centroids
from gs_gnn_dynamics.predictor import Predictor
from gs_gnn_dynamics.rollout import PushRollout, rollout_pushes

Rollout = PushRollout  # the planners' name for a batch of predicted push sequences


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
        """(N, 3) float32 control particles of a state (M, 3) [m]: farthest-point samples
        with the model's spacing, each moved to the mean of the state's points within 0.75
        spacing. A segmented cloud is a band of surface points as wide as the rope; its
        samples then lie on the middle like the vertices / particles the model was trained
        on, and the cost does not count the band's width as error."""
        parts = self.predictor.control_particles(points)
        radius = 0.75 * self.cfg.min_spacing
        return local_centroids(points, parts, radius).astype(np.float32)

    def predict(
        self,
        particles: torch.Tensor,
        pushes: torch.Tensor,
        to_push: Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ) -> Rollout:
        """Roll B samples forward under their push sequences (see ``rollout_pushes``).

        particles: (N, 3) or (B, N, 3) start state [m]; pushes: (B, H, 4) or (B, 4).
        """
        ro = rollout_pushes(self.model, particles, pushes, None, to_push)
        self.rollouts += ro.pushes.shape[0] * ro.pushes.shape[1]
        return ro
