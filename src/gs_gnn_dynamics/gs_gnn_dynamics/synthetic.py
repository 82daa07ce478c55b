"""Synthetic push trajectories for tests and benchmarks (no simulator needed)."""

from __future__ import annotations

import numpy as np

from gs_common.episode import Trajectories


def synthetic_push(seed: int, frames: int = 40, n: int = 20) -> Trajectories:
    """A straight rope of ``n`` points along x, pushed along +y through its middle by a
    pusher that descends, travels 6 mm per frame, and lifts; points within 2.5 cm of the
    pusher in the plane move with it (a crude kinematic push)."""
    rng = np.random.default_rng(seed)
    yaw = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    rope = np.stack([np.linspace(-0.2, 0.2, n), np.zeros(n)], 1) @ rot.T
    pusher = np.array([rng.uniform(-0.1, 0.1), -0.05]) @ rot.T
    direction = np.array([0.0, 1.0]) @ rot.T
    pts, ee = [], []
    xy = rope.copy()
    for f in range(frames):
        pushing = 2 <= f < frames - 2
        if pushing and f > 2:
            step = 0.006 * direction
            pusher = pusher + step
            near = np.linalg.norm(xy - pusher, axis=1) < 0.025
            xy[near] += step
        pts.append(np.concatenate([xy, np.full((n, 1), 0.008)], 1))
        ee.append([*pusher, 0.005 if pushing else 0.1])
    return Trajectories(
        np.array(pts, np.float32),
        np.array(ee, np.float32),
        np.array([[*pusher, 0.0, 0.15]]),
        np.arange(frames) / 15.0,
        1 / 15.0,
        "synthetic",
    )
