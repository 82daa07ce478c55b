"""Geometric segmentation backend (the default): the object is what stands on the table.

Per view: pixels whose 3D point lies above the table plane (calibrated, refined by RANSAC
on the first frame) and inside the workspace volume, minus the (dilated) robot mask; then
connected components (small ones dropped), a colour model of the object that rejects
components of another colour and is updated from the accepted pixels every frame, and
multi-view consistency (:mod:`gs_segmentation.consistency`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from gs_segmentation.colour_model import ColourModel, to_lab
from gs_segmentation.consistency import consistent_masks
from gs_segmentation.plane import TablePlane
from gs_segmentation.views import RGBDView


@dataclass
class GeometricConfig:
    """Settings of the geometric backend (metres, pixels at the camera resolution).

    min_height: object points are at least this high above the table plane [m];
    workspace_min / workspace_max: world-frame box the object lies in [m];
    robot_dilation_px: grow robot masks by this many pixels (their boundary is uncertain);
    min_component_fraction: drop connected components smaller than this fraction of the
    image (0.0004 = 31 px at 320x240);
    colour_gate: once the colour model exists, reject pixels (and components by their
    median) farther from it than ``colour_gate`` x the model's own spread (0 disables);
    colour_momentum: weight of each frame's update of the colour model;
    boundary_margin: drop components with a point within this distance [m] of the
    workspace box's sides or top: the object lies inside the box, the arm enters it from
    outside (0 disables);
    consistency: multi-view check on/off; consistency_tol [m], max_contradiction: see
    :mod:`gs_segmentation.consistency`;
    refine_plane: RANSAC refinement of the calibrated table plane on the first frame.
    """

    min_height: float = 0.002
    workspace_min: tuple[float, float, float] = (-0.40, -0.40, -0.01)
    workspace_max: tuple[float, float, float] = (0.40, 0.40, 0.20)
    robot_dilation_px: int = 1
    min_component_fraction: float = 0.0004
    colour_gate: float = 1.3
    colour_momentum: float = 0.2
    boundary_margin: float = 0.01
    consistency: bool = True
    consistency_tol: float = 0.01
    max_contradiction: float = 0.5
    refine_plane: bool = True
    table_height: float = 0.0

    def validate(self) -> None:
        lo, hi = np.asarray(self.workspace_min), np.asarray(self.workspace_max)
        if lo.shape != (3,) or hi.shape != (3,) or not (lo < hi).all():
            raise ValueError(
                f"workspace_min {self.workspace_min} must be below workspace_max "
                f"{self.workspace_max} on every axis"
            )
        if not 0.0 <= self.min_height < 0.1:
            raise ValueError(f"min_height must be in [0, 0.1) m, got {self.min_height}")
        if not 0.0 < self.colour_momentum <= 1.0:
            raise ValueError(f"colour_momentum must be in (0, 1], got {self.colour_momentum}")


@dataclass
class FrameResult:
    """Masks (C, H, W) bool of one frame and what each stage kept (pixel counts per view)."""

    masks: list[np.ndarray]
    stages: dict[str, list[int]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    occluders: list[np.ndarray] | None = None  # (H, W) bool: above the table, not object


class GeometricSegmenter:
    """Stateful per-stream segmenter: the table plane and the colour model persist."""

    name = "geometric"

    def __init__(self, config: GeometricConfig | None = None):
        self.config = config or GeometricConfig()
        self.config.validate()
        self.plane = TablePlane.from_calibration(self.config.table_height)
        self.colour = ColourModel(momentum=self.config.colour_momentum)
        self._plane_done = not self.config.refine_plane

    def reset(self) -> None:
        self.__init__(self.config)

    def candidates(
        self, views: Sequence[RGBDView]
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[str], list[np.ndarray]]:
        """Per view: above-table, in-workspace, non-robot pixels (H, W) bool; world points
        (H, W, 3); messages; excluded pixels (H, W) bool: above the table anywhere (outside
        the workspace too) or robot."""
        cfg = self.config
        messages = []
        pts = [v.world_points() for v in views]
        if not self._plane_done:
            sample = np.concatenate([p[::2, ::2].reshape(-1, 3) for p in pts])
            self.plane, msg = self.plane.refined(sample)
            self._plane_done = True
            messages.append(msg)
        lo, hi = np.asarray(cfg.workspace_min), np.asarray(cfg.workspace_max)
        masks, excluded = [], []
        for v, p in zip(views, pts):
            with np.errstate(invalid="ignore"):
                above = self.plane.height(p) > cfg.min_height
            m = above & (p >= lo).all(-1) & (p <= hi).all(-1)
            if v.robot_mask is not None:
                robot = v.robot_mask.astype(bool)
                if cfg.robot_dilation_px > 0:
                    robot = ndimage.binary_dilation(robot, iterations=cfg.robot_dilation_px)
                m &= ~robot
                above = above | robot
            masks.append(m)
            excluded.append(above)
        return masks, pts, messages, excluded

    def _components(self, mask: np.ndarray, lab: np.ndarray, pts: np.ndarray) -> np.ndarray:
        """Connected components of ``mask`` that are large enough, inside the workspace and
        of the object's colour (pixels of another colour removed first)."""
        cfg = self.config
        gate = self.colour.gate(cfg.colour_gate) if cfg.colour_gate > 0 and self.colour.ready else 0
        dist = None
        if gate:
            dist = np.full(mask.shape, np.inf, np.float32)
            dist[mask] = self.colour.distance(lab[mask])
            mask = mask & (dist <= gate)
        labels, n = ndimage.label(mask)
        if n == 0:
            return mask
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        keep = sizes >= cfg.min_component_fraction * mask.size
        keep[0] = False
        if cfg.boundary_margin > 0:
            lo = np.asarray(cfg.workspace_min) + cfg.boundary_margin
            hi = np.asarray(cfg.workspace_max) - cfg.boundary_margin
            p = pts[mask]
            outside = (p[:, :2] < lo[:2]).any(-1) | (p > hi).any(-1)
            touching = np.unique(labels[mask][outside])
            keep[touching] = False
        if dist is not None:
            for k in np.nonzero(keep)[0]:
                if np.median(dist[labels == k]) > gate:
                    keep[k] = False
        return keep[labels]

    def segment(self, views: Sequence[RGBDView]) -> FrameResult:
        """Object masks of one multi-view frame (updates the plane once, the colour model
        every frame)."""
        masks, pts, messages, excluded = self.candidates(views)
        stages = {"candidates": [int(m.sum()) for m in masks]}
        labs = [to_lab(v.color) for v in views]
        masks = [self._components(m, lab, p) for m, lab, p in zip(masks, labs, pts)]
        stages["components"] = [int(m.sum()) for m in masks]
        if self.config.consistency and len(views) > 1:
            masks = consistent_masks(
                views, masks, pts, self.config.consistency_tol, self.config.max_contradiction
            )
            # consistency may cut thin bridges: drop the crumbs it leaves
            masks = [self._components(m, lab, p) for m, lab, p in zip(masks, labs, pts)]
            stages["consistent"] = [int(m.sum()) for m in masks]
        pix = np.concatenate([lab[m] for lab, m in zip(labs, masks)])
        self.colour.update(pix)
        occluders = [e & ~m for e, m in zip(excluded, masks)]
        return FrameResult(masks, stages, messages, occluders)
