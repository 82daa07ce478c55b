"""Track a recorded episode end to end with a :class:`TrackingSession`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gs_common.episode import Episode
from gs_render.gaussians import Gaussians
from gs_tracking.session import FrameImages, TrackingSession
from gs_tracking.tracker import FrameStats, TrackerConfig


@dataclass
class TrackedSequence:
    """Tracked Gaussians of frames ``frames`` (T,): means (T, N, 3) m, quats (T, N, 4) wxyz;
    fixed attributes scales (N, 3) m, opacities (N,), colors (N, 3); per-frame stats."""

    frames: np.ndarray
    times: np.ndarray
    means: np.ndarray
    quats: np.ndarray
    scales: np.ndarray
    opacities: np.ndarray
    colors: np.ndarray
    stats: list[FrameStats]

    def gaussians(self, t: int) -> Gaussians:
        f = torch.as_tensor
        return Gaussians(
            f(self.means[t]), f(self.quats[t]), f(self.scales), f(self.opacities), f(self.colors)
        )


def episode_frame(ep: Episode, frame: int) -> FrameImages:
    """The images of every camera of episode frame ``frame``."""
    cams = range(len(ep.camera_names))
    return FrameImages(
        [ep.color(frame, c) for c in cams],
        [ep.depth(frame, c) for c in cams],
        [ep.object_mask(frame, c) for c in cams],
        [ep.robot_mask(frame, c) for c in cams],
    )


def track_episode(
    ep: Episode,
    config: TrackerConfig | None = None,
    scale: float = 0.5,
    frames: Sequence[int] | None = None,
    voxel_size: float = 0.004,
    progress: Callable[[int, FrameStats], None] | None = None,
    device="cpu",
) -> TrackedSequence:
    """Track ``frames`` (ascending; default: all) of an episode at ``scale`` x the camera
    resolution, with the recorded pusher tip (``ep.ee_positions``) as the robot state."""
    frames = frames or range(ep.num_frames)
    session = TrackingSession(
        ep.intrinsics,
        ep.world_from_camera,
        config or TrackerConfig(),
        scale,
        voxel_size,
        device=device,
    )
    stats, means, quats = [], [], []
    last = gap = None
    for f in frames:
        if last is not None:
            if gap is not None and f - last != gap:  # e.g. the rest between two pushes skipped:
                session.tracker.forget_motion()  # the last step's motion is not this one's
            gap = f - last
        last = f
        stats.append(session.step(episode_frame(ep, f), ep.ee_positions[f]))
        means.append(session.gaussians.means.cpu())
        quats.append(session.gaussians.quats.cpu())
        if progress:
            progress(f, stats[-1])
    g = session.gaussians
    return TrackedSequence(
        np.asarray(list(frames)),
        ep.times[list(frames)],
        torch.stack(means).numpy(),
        torch.stack(quats).numpy(),
        g.scales.cpu().numpy(),
        g.opacities.cpu().numpy(),
        g.colors.cpu().numpy(),
        stats,
    )
