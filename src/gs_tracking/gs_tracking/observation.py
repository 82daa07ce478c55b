"""One multi-view RGB-D observation, as tensors ready for the tracking losses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import invert_transform


@dataclass
class RigTensors:
    """Cameras for gs_render: viewmats (C, 4, 4) world->camera, Ks (C, 3, 3), size [px]."""

    viewmats: torch.Tensor
    Ks: torch.Tensor
    width: int
    height: int

    @classmethod
    def from_rig(
        cls,
        intrinsics: Sequence[CameraIntrinsics],
        world_from_camera: np.ndarray,
        scale: float = 1.0,
        device="cpu",
    ) -> RigTensors:
        """Cameras of a rig, optionally at ``scale`` x the resolution (e.g. 0.5)."""
        intr = [i.scaled(scale) if scale != 1.0 else i for i in intrinsics]
        sizes = {(i.width, i.height) for i in intr}
        if len(sizes) != 1:
            raise ValueError(f"all cameras must share one image size, got {sorted(sizes)}")
        w, h = sizes.pop()
        viewmats = invert_transform(np.asarray(world_from_camera, np.float64))
        return cls(
            torch.as_tensor(viewmats, dtype=torch.float32, device=device),
            torch.as_tensor(np.stack([i.K for i in intr]), dtype=torch.float32, device=device),
            w,
            h,
        )


@dataclass
class Observation:
    """Images of all C cameras at one instant, at the tracking resolution.

    rgb (C, H, W, 3) in [0, 1] with non-object pixels set to 0 (the object is rendered over
    a black background); object (C, H, W) float {0, 1}; valid (C, H, W) float {0, 1}: 0 on
    robot pixels, excluded from every image loss; depth (C, H, W) m, 0 = no reading.
    """

    rgb: torch.Tensor
    object: torch.Tensor
    valid: torch.Tensor
    depth: torch.Tensor

    @classmethod
    def from_arrays(
        cls,
        rgb: Sequence[np.ndarray],
        object_mask: Sequence[np.ndarray],
        robot_mask: Sequence[np.ndarray] | None,
        depth: Sequence[np.ndarray],
        scale: float = 1.0,
        device="cpu",
    ) -> Observation:
        """From per-camera uint8 RGB (H, W, 3), bool masks (H, W), depth (H, W) metres."""
        rgb_t = torch.as_tensor(np.stack(rgb), dtype=torch.float32, device=device) / 255.0
        obj = torch.as_tensor(np.stack(object_mask), dtype=torch.float32, device=device)
        if robot_mask is None:
            robot = torch.zeros_like(obj)
        else:
            robot = torch.as_tensor(np.stack(robot_mask), dtype=torch.float32, device=device)
        d = torch.as_tensor(
            np.nan_to_num(np.stack(depth).astype(np.float32), nan=0.0), device=device
        )
        if scale != 1.0:
            rgb_t = _resize(rgb_t.permute(0, 3, 1, 2), scale, "area").permute(0, 2, 3, 1)
            obj = _resize(obj[:, None], scale, "area")[:, 0]
            robot = _resize(robot[:, None], scale, "area")[:, 0]
            d = _resize(d[:, None], scale, "nearest")[:, 0]
        obj = (obj > 0.5).float()
        valid = (robot < 0.05).float()
        return cls(rgb_t * obj[..., None], obj, valid, d)


def _resize(x: torch.Tensor, scale: float, mode: str) -> torch.Tensor:
    size = (round(x.shape[-2] * scale), round(x.shape[-1] * scale))
    return F.interpolate(x, size=size, mode=mode)
