"""Camera helpers: pinhole intrinsics and the
default 4-camera rig of the workcell (table corners, looking down at the table centre).

World frame: z up, metres. Camera frame: x right, y down, z forward (OpenCV).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gs_common.geometry import invert_transform, look_at


def intrinsics(width: int, height: int, hfov_deg: float = 60.0) -> torch.Tensor:
    """(3, 3) pinhole K with square pixels, horizontal field of view ``hfov_deg`` and the
    principal point at the image centre ((W - 1) / 2, (H - 1) / 2 in OpenCV pixels)."""
    f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2)
    return torch.tensor([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def table_corner_rig(
    width: int,
    height: int,
    n_cams: int = 4,
    radius: float = 0.6,
    height_m: float = 0.5,
    target: tuple[float, float, float] = (0.0, 0.0, 0.0),
    hfov_deg: float = 60.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cameras evenly spaced on a circle around the table centre (at the corners for 4),
    ``height_m`` above the table, looking at ``target``.

    Returns:
        ``(viewmats, Ks)``: (n_cams, 4, 4) world-to-camera and (n_cams, 3, 3) float32.
    """
    views = []
    for i in range(n_cams):
        ang = 2 * math.pi * (i + 0.5) / n_cams
        eye = [radius * math.cos(ang), radius * math.sin(ang), height_m]
        views.append(invert_transform(look_at(eye, target)))
    k = intrinsics(width, height, hfov_deg)
    viewmats = torch.as_tensor(np.stack(views), dtype=torch.float32)
    return viewmats, k.expand(n_cams, 3, 3).clone()
