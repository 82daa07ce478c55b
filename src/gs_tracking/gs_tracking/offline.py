"""Track a recorded episode end to end: fuse, initialize, optimize every frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from gs_common.episode import Episode
from gs_tracking.fusion import fuse_views
from gs_tracking.gaussians import GaussianSet, gaussians_from_cloud
from gs_tracking.observation import Observation, RigTensors
from gs_tracking.tracker import FrameStats, GaussianTracker, TrackerConfig


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

    def gaussians(self, t: int) -> GaussianSet:
        f = torch.as_tensor
        return GaussianSet(
            f(self.means[t]), f(self.quats[t]), f(self.scales), f(self.opacities), f(self.colors)
        )


def episode_observation(
    ep: Episode, frame: int, scale: float, device="cpu", use_robot_mask: bool = True
) -> Observation:
    cams = range(len(ep.camera_names))
    return Observation.from_arrays(
        [ep.color(frame, c) for c in cams],
        [ep.object_mask(frame, c) for c in cams],
        [ep.robot_mask(frame, c) for c in cams] if use_robot_mask else None,
        [ep.depth(frame, c) for c in cams],
        scale=scale,
        device=device,
    )


def initial_gaussians(
    ep: Episode, frame: int = 0, voxel_size: float = 0.004, device="cpu"
) -> GaussianSet:
    """Gaussians from the fused, masked first-frame depth of all cameras."""
    cams = range(len(ep.camera_names))
    masks = [ep.object_mask(frame, c) & ~ep.robot_mask(frame, c) for c in cams]
    pts, cols = fuse_views(
        [ep.depth(frame, c) for c in cams],
        masks,
        ep.intrinsics,
        ep.world_from_camera,
        [ep.color(frame, c) for c in cams],
        voxel_size=voxel_size,
    )
    return gaussians_from_cloud(pts, cols, device=device)


def track_episode(
    ep: Episode,
    config: TrackerConfig | None = None,
    scale: float = 0.5,
    frames: range | None = None,
    voxel_size: float = 0.004,
    progress: Callable[[int, FrameStats], None] | None = None,
    device="cpu",
) -> TrackedSequence:
    """Track ``frames`` (default: all) of an episode at ``scale`` x the camera resolution."""
    frames = frames or range(ep.num_frames)
    rig = RigTensors.from_rig(ep.intrinsics, ep.world_from_camera, scale, device)
    tracker = GaussianTracker(rig, config or TrackerConfig())
    first = frames[0]
    stats = [
        tracker.initialize(
            initial_gaussians(ep, first, voxel_size, device),
            episode_observation(ep, first, scale, device),
        )
    ]
    if progress:
        progress(first, stats[0])
    means, quats = [tracker.gaussians.means.cpu()], [tracker.gaussians.quats.cpu()]
    for f in frames[1:]:
        stats.append(tracker.track(episode_observation(ep, f, scale, device)))
        means.append(tracker.gaussians.means.cpu())
        quats.append(tracker.gaussians.quats.cpu())
        if progress:
            progress(f, stats[-1])
    g = tracker.gaussians
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
