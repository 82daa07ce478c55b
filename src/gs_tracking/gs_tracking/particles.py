"""Control particles for the dynamics model from tracked Gaussians.

1. farthest point sampling of the first-frame Gaussians (``num`` particles, at least
   ``min_spacing`` apart), each particle carried by LBS anchors on its nearest Gaussians;
2. motion-outlier removal: particles whose frame-to-frame motion deviates from their
   neighbours' by more than ``outlier_sigma`` robust standard deviations in any frame are
   dropped (tracking failures, not object motion);
3. temporal smoothing with a centred moving average of ``smooth_window`` frames.
"""

from __future__ import annotations

import numpy as np
import torch

from gs_common.pointsets import farthest_point_sampling, knn
from gs_tracking.anchors import Anchors


def particle_anchors(means0, quats0, num: int = 150, min_spacing: float = 0.005) -> Anchors:
    """Up to ``num`` farthest-point-sampled particles of first-frame Gaussians (means0
    (N, 3) m, quats0 (N, 4) wxyz; tensors or arrays), at least ``min_spacing`` [m] apart,
    anchored to their nearest Gaussians."""
    m0 = torch.as_tensor(means0)
    idx = farthest_point_sampling(m0.detach().cpu().numpy(), num, min_spacing=min_spacing or None)
    return Anchors.attach(m0[idx], m0, torch.as_tensor(quats0))


def particle_tracks(
    means: np.ndarray, quats: np.ndarray, num: int = 150, min_spacing: float = 0.005
) -> np.ndarray:
    """(T, M, 3) trajectories of up to ``num`` FPS particles of tracked Gaussians.

    means (T, N, 3) m, quats (T, N, 4) wxyz of the tracked Gaussians.
    """
    anchors = particle_anchors(means[0], quats[0], num, min_spacing)
    return np.stack(
        [
            anchors.positions(torch.as_tensor(m), torch.as_tensor(q)).numpy()
            for m, q in zip(means, quats)
        ]
    )


def motion_outliers(
    tracks: np.ndarray, k: int = 6, outlier_sigma: float = 5.0, floor: float = 0.002
) -> np.ndarray:
    """(M,) bool: particles whose motion disagrees with their k first-frame neighbours.

    tracks (T, M, 3) m. The deviation of a particle's per-frame displacement from the median
    of its neighbours' is compared with ``outlier_sigma`` x the robust (MAD) spread over all
    particles, never less than ``floor`` metres.
    """
    if len(tracks) < 2 or tracks.shape[1] <= k:
        return np.zeros(tracks.shape[1], bool)
    _, nbr = knn(torch.as_tensor(tracks[0]), torch.as_tensor(tracks[0]), k + 1)
    nbr = nbr[:, 1:].numpy()  # drop self
    disp = np.diff(tracks, axis=0)  # (T-1, M, 3)
    dev = np.linalg.norm(disp - np.median(disp[:, nbr], axis=2), axis=-1)  # (T-1, M)
    worst = dev.max(0)
    mad = np.median(np.abs(worst - np.median(worst))) * 1.4826
    return worst > max(np.median(worst) + outlier_sigma * mad, floor)


def smooth_tracks(tracks: np.ndarray, window: int = 3) -> np.ndarray:
    """Centred moving average over time (edges use the available frames)."""
    if window <= 1 or len(tracks) < 2:
        return tracks.copy()
    half = window // 2
    csum = np.concatenate([np.zeros_like(tracks[:1]), np.cumsum(tracks, axis=0)])
    t = np.arange(len(tracks))
    lo, hi = np.clip(t - half, 0, len(tracks)), np.clip(t + half + 1, 0, len(tracks))
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None, None]


def extract_particles(
    means: np.ndarray,
    quats: np.ndarray,
    num: int = 150,
    min_spacing: float = 0.005,
    smooth_window: int = 3,
    outlier_sigma: float = 5.0,
) -> tuple[np.ndarray, int]:
    """Clean (T, M', 3) particle trajectories and the number of outliers removed."""
    tracks = particle_tracks(means, quats, num, min_spacing)
    bad = motion_outliers(tracks, outlier_sigma=outlier_sigma)
    return smooth_tracks(tracks[:, ~bad], smooth_window).astype(np.float32), int(bad.sum())
