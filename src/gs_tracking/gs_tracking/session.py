"""One tracking session: first frame -> Gaussians, then every later frame tracked.

The single core behind the offline tool (``gs-track``, ``gs-track-eval``,
``gs-track-bench`` via :func:`gs_tracking.offline.track_episode`) and the ``tracking`` node.
A session owns the camera rig, the :class:`GaussianTracker` and, optionally, the control
particles; :meth:`TrackingSession.step` takes one multi-view frame:

1. first frame: the object mask minus the robot mask of every camera selects depth pixels,
   which are fused into one world cloud (:func:`fuse_views`), turned into Gaussians
   (:func:`gaussians_from_cloud`), fitted to the frame (:meth:`GaussianTracker.initialize`)
   and, with ``particles > 0``, sampled into anchored control particles
   (:func:`gs_tracking.particles.particle_anchors`);
2. every later frame: :meth:`GaussianTracker.track` (with the pusher tip when known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from gs_common.camera import CameraIntrinsics
from gs_render.gaussians import Gaussians
from gs_tracking.anchors import Anchors
from gs_tracking.fusion import fuse_views
from gs_tracking.gaussians import gaussians_from_cloud
from gs_tracking.observation import Observation, RigTensors
from gs_tracking.particles import particle_anchors
from gs_tracking.tracker import FrameStats, GaussianTracker, TrackerConfig


@dataclass
class FrameImages:
    """One multi-view frame as the cameras deliver it, cameras in rig order.

    color: (H, W, 3) uint8 RGB; depth: (H, W) float metres (0/NaN = no reading);
    object_mask / robot_mask: (H, W) bool.
    """

    color: Sequence[np.ndarray]
    depth: Sequence[np.ndarray]
    object_mask: Sequence[np.ndarray]
    robot_mask: Sequence[np.ndarray]


@dataclass
class TrackingSession:
    """Tracks one object through frames of a fixed rig.

    intrinsics: per camera, at the delivered resolution; world_from_camera (C, 4, 4)
    OpenCV optical frames; scale: tracking resolution / camera resolution; voxel_size [m]
    of the fused first-frame cloud; particles: control particles (0 = none) at least
    particle_spacing [m] apart.
    """

    intrinsics: Sequence[CameraIntrinsics]
    world_from_camera: np.ndarray
    config: TrackerConfig = field(default_factory=TrackerConfig)
    scale: float = 0.5
    voxel_size: float = 0.004
    particles: int = 0
    particle_spacing: float = 0.005
    device: str | torch.device = "cpu"

    def __post_init__(self) -> None:
        self.rig = RigTensors.from_rig(
            self.intrinsics, self.world_from_camera, self.scale, self.device
        )
        self.tracker = GaussianTracker(self.rig, self.config)
        self.anchors: Anchors | None = None
        self.frames = 0

    @property
    def initialized(self) -> bool:
        return self.tracker.gaussians is not None

    @property
    def gaussians(self) -> Gaussians:
        if self.tracker.gaussians is None:
            raise RuntimeError("no frame tracked yet")
        return self.tracker.gaussians

    def observation(self, frame: FrameImages) -> Observation:
        return Observation.from_arrays(
            frame.color,
            frame.object_mask,
            frame.robot_mask,
            frame.depth,
            scale=self.scale,
            device=self.device,
        )

    def initial_gaussians(self, frame: FrameImages) -> Gaussians:
        """Gaussians from the fused, masked depth of all cameras (raises EmptyCloudError)."""
        masks = [o & ~r for o, r in zip(frame.object_mask, frame.robot_mask)]
        pts, cols = fuse_views(
            frame.depth,
            masks,
            self.intrinsics,
            self.world_from_camera,
            frame.color,
            voxel_size=self.voxel_size,
        )
        return gaussians_from_cloud(pts, cols, device=self.device)

    def step(self, frame: FrameImages, pusher_tip: np.ndarray | None = None) -> FrameStats:
        """Track one frame (the first one initializes). pusher_tip: (3,) m, world, or None."""
        obs = self.observation(frame)
        if not self.initialized:
            stats = self.tracker.initialize(self.initial_gaussians(frame), obs)
            if self.particles > 0:
                g = self.tracker.gaussians
                self.anchors = particle_anchors(
                    g.means, g.quats, self.particles, self.particle_spacing
                )
        else:
            stats = self.tracker.track(obs, pusher_tip)
        self.frames += 1
        return stats

    def particle_positions(self) -> np.ndarray:
        """(M, 3) float32 control particles [m, world] at the last frame."""
        if self.anchors is None:
            raise RuntimeError("this session tracks no particles (particles=0)")
        g = self.gaussians
        return self.anchors.positions(g.means, g.quats).detach().cpu().numpy().astype(np.float32)
