"""Trivial tracking baseline: nearest-neighbour association of fused clouds frame to frame.

Each query point jumps to the nearest point of the next frame's fused object cloud. It needs
no optimization and shows what dense Gaussian tracking adds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def nearest_neighbour_tracks(queries: np.ndarray, clouds: Sequence[np.ndarray]) -> np.ndarray:
    """(T, N, 3) tracks of (N, 3) ``queries`` (frame 0) through ``clouds[1:]`` ((M_t, 3) each)."""
    current = torch.as_tensor(np.asarray(queries, np.float32))
    tracks = [current.numpy().copy()]
    for cloud in clouds[1:]:
        c = torch.as_tensor(np.asarray(cloud, np.float32))
        if len(c) == 0:
            tracks.append(current.numpy().copy())  # nothing observed: stay put
            continue
        idx = torch.cdist(current, c).argmin(dim=1)
        current = c[idx]
        tracks.append(current.numpy().copy())
    return np.stack(tracks)
