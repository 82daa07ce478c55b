"""Model / graph configuration (stored as JSON next to the safetensors weights)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from gs_common.push import CONTACT_HEIGHT


@dataclasses.dataclass(frozen=True)
class DynamicsConfig:
    """Everything that defines a model and its graph; defaults follow the paper's configs.

    Lengths in metres. ``step_length``: end-effector travel of one model step.
    ``motion_scale``: motions and heights are divided by it before entering the network
    (so inputs are O(1) at 1 cm steps).
    """

    history: int = 3  # k: past motions per vertex
    horizon: int = 5  # tau: training rollout length
    mp_steps: int = 3  # message-passing steps
    hidden: int = 64  # width of every MLP
    radius: float = 0.08  # object-object edge radius [m]
    topk: int = 5  # object neighbours per object particle
    tool_radius: float = 0.08  # object-tool edge radius [m]
    max_particles: int = 100  # control particles per object (FPS)
    min_spacing: float = 0.03  # minimum FPS spacing [m]
    step_length: float = 0.01  # [m] of end-effector travel per model step
    motion_scale: float = 0.01  # [m]
    push_height: float = 0.005  # tool height for pushes given as (x, y, theta, length) [m]
    contact_height: float = CONTACT_HEIGHT  # ee below this height counts as pushing (data) [m]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DynamicsConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown model config keys {unknown}; known: {sorted(names)}")
        return cls(**data)

    def validate(self) -> None:
        if self.history < 1 or self.horizon < 1 or self.mp_steps < 1 or self.hidden < 1:
            raise ValueError(f"history, horizon, mp_steps and hidden must be >= 1: {self}")
        for name in ("radius", "tool_radius", "step_length", "motion_scale"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.topk < 1 or self.max_particles < 2:
            raise ValueError(f"topk must be >= 1 and max_particles >= 2: {self}")
