"""Push goals: validation against the workspace and the tip trajectory of one push.

A push (DESIGN.md section 4) is a straight line of the pusher tip at a fixed height above the
table. The executed motion is: transit above the start point, descend, push, lift, retreat to
the rest pose. Positions in metres (world frame), speeds in m/s.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# one validation for every executor lives in gs_common.push (re-exported here)
from gs_common.push import PushGoal, PushRejected, Workspace, validate_push  # noqa: F401
from gs_common.push import PushLimits as CommonPushLimits


@dataclasses.dataclass(frozen=True)
class PushLimits(CommonPushLimits):
    """Push limits (gs_common.push.PushLimits) + the simulator's transit motion:
    transit_height: tip height for moves between pushes [m]; transit_speed [m/s]."""

    transit_height: float = 0.15
    transit_speed: float = 0.25


@dataclasses.dataclass(frozen=True)
class Segment:
    """Straight tip motion p0 -> p1 (3,) [m] at ``speed`` [m/s]; ``is_push`` marks the push."""

    p0: np.ndarray
    p1: np.ndarray
    speed: float
    is_push: bool = False

    @property
    def duration(self) -> float:
        return float(np.linalg.norm(self.p1 - self.p0)) / self.speed


class TipTrajectory:
    """Piecewise-linear tip trajectory over time (s from its start)."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = [s for s in segments if s.duration > 1e-9] or segments[:1]
        self.starts = np.concatenate([[0.0], np.cumsum([s.duration for s in self.segments])])
        self.duration = float(self.starts[-1])
        push = [i for i, s in enumerate(self.segments) if s.is_push]
        self.push_start = float(self.starts[push[0]]) if push else 0.0
        self.push_end = float(self.starts[push[0] + 1]) if push else 0.0

    def at(self, t: float) -> np.ndarray:
        """Tip position (3,) [m] at time ``t`` [s] (clamped to the ends)."""
        t = min(max(t, 0.0), self.duration)
        i = int(np.searchsorted(self.starts, t, side="right") - 1)
        i = min(max(i, 0), len(self.segments) - 1)
        seg = self.segments[i]
        dur = seg.duration
        a = 0.0 if dur <= 0 else min(max((t - self.starts[i]) / dur, 0.0), 1.0)
        return seg.p0 + a * (seg.p1 - seg.p0)

    def push_progress(self, t: float) -> float:
        """Fraction 0..1 of the push segment completed at time ``t``."""
        if self.push_end <= self.push_start:
            return 1.0 if t >= self.duration else 0.0
        return float(min(max((t - self.push_start) / (self.push_end - self.push_start), 0), 1))


def push_trajectory(
    goal: PushGoal, tip_now: np.ndarray, rest_tip: np.ndarray, limits: PushLimits = PushLimits()
) -> TipTrajectory:
    """Transit -> descend -> push -> lift -> retreat, starting from the tip at ``tip_now``."""
    zt = max(limits.transit_height, goal.height)
    above_start = np.array([goal.start[0], goal.start[1], zt])
    start = np.array([goal.start[0], goal.start[1], goal.height])
    end = np.array([goal.end[0], goal.end[1], goal.height])
    above_end = np.array([goal.end[0], goal.end[1], zt])
    lift = np.array([tip_now[0], tip_now[1], max(zt, tip_now[2])])
    vt = limits.transit_speed
    return TipTrajectory(
        [
            Segment(np.asarray(tip_now, float), lift, vt),
            Segment(lift, above_start, vt),
            Segment(above_start, start, vt * 0.5),
            Segment(start, end, goal.speed, is_push=True),
            Segment(end, above_end, vt * 0.5),
            Segment(above_end, np.asarray(rest_tip, float), vt),
        ]
    )
