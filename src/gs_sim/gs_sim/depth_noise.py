"""RealSense-D400-like depth noise: axial noise growing with z^2, dropout at depth edges,
random speckle dropout and a maximum range, then quantisation to the 16UC1 unit.

sigma_z(z) = subpixel * z^2 / (focal_px * baseline)  (stereo disparity error model).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class DepthNoise:
    """subpixel [px]; focal_px [px]; baseline [m]; edge_threshold [m] depth jump that drops
    a pixel; dropout: probability a valid pixel is lost; max_range [m]; quantum [m]."""

    subpixel: float = 0.08
    focal_px: float = 615.0
    baseline: float = 0.05
    edge_threshold: float = 0.03
    dropout: float = 0.01
    max_range: float = 3.0
    quantum: float = 0.001

    def apply(self, depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy copy of ``depth`` (H, W) float32 metres (0 = invalid)."""
        z = np.asarray(depth, dtype=np.float32)
        valid = (z > 0) & (z <= self.max_range)
        sigma = self.subpixel * z * z / (self.focal_px * self.baseline)
        out = z + rng.standard_normal(z.shape).astype(np.float32) * sigma
        jump = np.zeros_like(valid)
        dx = np.abs(np.diff(z, axis=1)) > self.edge_threshold
        dy = np.abs(np.diff(z, axis=0)) > self.edge_threshold
        jump[:, 1:] |= dx
        jump[1:, :] |= dy
        drop = rng.random(z.shape) < self.dropout
        out = np.where(valid & ~jump & ~drop, out, 0.0)
        if self.quantum > 0:
            out = np.round(out / self.quantum) * self.quantum
        return out.astype(np.float32)
