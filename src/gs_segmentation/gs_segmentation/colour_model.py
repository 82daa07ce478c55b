"""A colour model of the object, updated over time (CIE Lab, robust diagonal Gaussian)."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (..., 3) float32 CIE Lab (L in [0, 100], a/b about [-128, 127])."""
    flat = np.ascontiguousarray(rgb, np.uint8).reshape(-1, 1, 3)
    lab = cv2.cvtColor(flat.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab.reshape(rgb.shape).astype(np.float32)


@dataclass
class ColourModel:
    """Object colour as a per-channel robust Gaussian in Lab, blended over frames.

    mean (3,), std (3,) Lab units; ``momentum`` in (0, 1]: weight of a new frame's estimate;
    ``min_std``: floor of each channel's spread (shading, noise); L (lightness) is weighted
    by ``lightness_weight`` (< 1: shading changes brightness more than hue). ``spread``: the
    99.5th percentile of the model's own training pixels' distances [sigmas], blended over
    frames like the mean; :meth:`gate` scales it into a rejection threshold, so the gate
    adapts to how uniform the object's colour is.
    """

    momentum: float = 0.2
    min_std: float = 6.0
    lightness_weight: float = 0.3
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    spread: float = 0.0
    updates: int = 0
    _w: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._w = np.array([self.lightness_weight, 1.0, 1.0], np.float32)

    @property
    def ready(self) -> bool:
        return self.mean is not None

    def update(self, lab_pixels: np.ndarray, min_pixels: int = 50) -> bool:
        """Blend in the robust statistics of (N, 3) Lab object pixels; False if too few."""
        if len(lab_pixels) < min_pixels:
            return False
        med = np.median(lab_pixels, axis=0)
        mad = 1.4826 * np.median(np.abs(lab_pixels - med), axis=0)
        std = np.maximum(mad, self.min_std)
        if self.mean is None:
            self.mean, self.std = med, std
        else:
            m = self.momentum
            self.mean = (1 - m) * self.mean + m * med
            self.std = (1 - m) * self.std + m * std
        q = float(np.percentile(self.distance(lab_pixels), 99.5))
        m = self.momentum
        self.spread = q if self.updates == 0 else (1 - m) * self.spread + m * q
        self.updates += 1
        return True

    def gate(self, scale: float, floor: float = 2.0) -> float:
        """Distance [sigmas] above which a pixel is not the object: ``scale`` x spread."""
        return max(floor, scale * self.spread)

    def distance(self, lab_pixels: np.ndarray) -> np.ndarray:
        """(N,) weighted Mahalanobis distance [sigmas] of (N, 3) Lab pixels to the model."""
        if self.mean is None:
            return np.zeros(len(lab_pixels), np.float32)
        z = (lab_pixels - self.mean) / self.std * self._w
        return np.sqrt((z**2).sum(-1) / (self._w**2).sum())
