"""Segmentation + fusion of one multi-view frame: masks per camera and the object cloud.

The node, ``gs-seg eval`` and the tests all go through :class:`ObjectPerception`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gs_common.fusion import EmptyCloudError, fuse_views
from gs_segmentation.geometric import FrameResult, GeometricConfig, GeometricSegmenter
from gs_segmentation.views import RGBDView

BACKENDS = ("geometric", "learned")


class SegmentationBackend(Protocol):
    """A segmentation backend: object masks of one multi-view frame (stateful over time)."""

    name: str

    def segment(self, views: Sequence[RGBDView]) -> FrameResult: ...

    def reset(self) -> None: ...


def make_backend(
    name: str,
    config: GeometricConfig | None = None,
    weights: str = "",
    device: str = "cpu",
) -> SegmentationBackend:
    """``geometric`` (default) or ``learned`` (promptable model from local ``weights``)."""
    geometric = GeometricSegmenter(config)
    if name == "geometric":
        return geometric
    if name == "learned":
        from gs_segmentation.learned import PromptableBackend

        return PromptableBackend(weights, prompts=geometric, device=device)
    raise ValueError(f"segmentation backend '{name}' is not one of {list(BACKENDS)}")


@dataclass
class PerceptionResult:
    """masks: C (H, W) bool object masks; occluders: C (H, W) bool pixels above the table
    that are not object (robot, clutter: where the object may be hidden); points (N, 3)
    float32 world [m] and colours (N, 3) float32 [0, 1] of the fused object cloud (N = 0
    when nothing was found)."""

    masks: list[np.ndarray]
    points: np.ndarray
    colors: np.ndarray
    stages: dict[str, list[int]]
    messages: list[str]
    occluders: list[np.ndarray] | None = None


class ObjectPerception:
    """Backend masks, then fusion of the masked depth into one world-frame cloud
    (gs_common.fusion: voxel grid of ``voxel_size`` m, statistical outlier removal)."""

    def __init__(
        self,
        backend: SegmentationBackend,
        voxel_size: float = 0.004,
        nb_neighbors: int = 20,
        std_ratio: float = 2.0,
    ):
        self.backend = backend
        self.voxel_size = voxel_size
        self.nb_neighbors = nb_neighbors
        self.std_ratio = std_ratio

    def process(self, views: Sequence[RGBDView], fuse: bool = True) -> PerceptionResult:
        res = self.backend.segment(views)
        empty = np.zeros((0, 3), np.float32)
        pts, cols = empty, empty
        messages = list(res.messages)
        if fuse:
            try:
                pts, cols = fuse_views(
                    [v.depth for v in views],
                    res.masks,
                    [v.intrinsics for v in views],
                    np.stack([v.world_from_camera for v in views]),
                    [v.color for v in views],
                    voxel_size=self.voxel_size,
                    nb_neighbors=self.nb_neighbors,
                    std_ratio=self.std_ratio,
                )
            except EmptyCloudError as exc:
                messages.append(f"no object cloud: {exc}")
        return PerceptionResult(res.masks, pts, cols, res.stages, messages, res.occluders)
