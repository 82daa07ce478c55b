"""Mask metrics of the DAVIS benchmark: region similarity J (IoU) and boundary F-score."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def mask_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """J: intersection over union of two (H, W) bool masks (1.0 when both are empty)."""
    pred, truth = pred.astype(bool), truth.astype(bool)
    union = np.logical_or(pred, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, truth).sum() / union)


def _boundary(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=np.ones((3, 3), bool), border_value=0)


def boundary_f(pred: np.ndarray, truth: np.ndarray, tol_fraction: float = 0.008) -> float:
    """F: boundary F-score of two (H, W) bool masks, boundaries matched within
    ``tol_fraction`` x the image diagonal (DAVIS: 0.008, i.e. 3.2 px at 320x240)."""
    pred, truth = pred.astype(bool), truth.astype(bool)
    bp, bt = _boundary(pred), _boundary(truth)
    if not bp.any() and not bt.any():
        return 1.0
    if not bp.any() or not bt.any():
        return 0.0
    tol = max(1.0, tol_fraction * float(np.hypot(*pred.shape)))
    dist_to_t = ndimage.distance_transform_edt(~bt)
    dist_to_p = ndimage.distance_transform_edt(~bp)
    precision = float((dist_to_t[bp] <= tol).mean())
    recall = float((dist_to_p[bt] <= tol).mean())
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)
