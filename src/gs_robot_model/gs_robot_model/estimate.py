"""Pose estimation through the renderer (``gs-robot estimate``): joint angles, and optionally
the cameras' poses, from one or more images by gradient descent (Adam) from an initial guess.

Loss: L1(rgb) over the image (when colour is given) + ``w_mask`` L1(alpha, mask) (when a
robot mask is given). Joint angles are clamped to the URDF limits after every step.
Camera refinement: each view's camera_from_world is left-multiplied by exp(delta), delta
(V, 6) = (axis-angle [rad], translation [m]) in the camera frame, starting at zero.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from pytorch_kinematics.transforms import axis_angle_to_quaternion

from gs_common.geometry import quat_to_matrix
from gs_robot_model.model import RobotGaussianModel


@dataclasses.dataclass
class EstimateResult:
    """q: (J,) rad estimate; viewmats: (V, 4, 4) camera_from_world (refined or as given);
    losses: per-iteration loss."""

    q: np.ndarray
    viewmats: np.ndarray
    losses: list[float]


def delta_transform(delta: torch.Tensor) -> torch.Tensor:
    """(V, 6) (axis-angle, translation) -> (V, 4, 4) rigid transforms."""
    v = delta.shape[0]
    out = torch.eye(4, dtype=delta.dtype).repeat(v, 1, 1)
    rot = quat_to_matrix(axis_angle_to_quaternion(delta[:, :3]))
    out = torch.cat([torch.cat([rot, delta[:, 3:, None]], -1), out[:, 3:]], -2)
    return out


def estimate_pose(
    model: RobotGaussianModel,
    viewmats: torch.Tensor,
    Ks: torch.Tensor,
    width: int,
    height: int,
    q_init: torch.Tensor,
    rgb: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    iters: int = 100,
    lr: float = 0.02,
    w_mask: float = 1.0,
    optimize_camera: bool = False,
    lr_camera: float = 0.002,
    world_from_base: torch.Tensor | None = None,
) -> EstimateResult:
    """Estimate the configuration seen in ``rgb`` (V, H, W, 3) in [0, 1] and/or ``mask``
    (V, H, W) in {0, 1} by cameras ``viewmats`` (V, 4, 4) camera_from_world, ``Ks`` (V, 3, 3),
    starting from ``q_init`` (J,) rad."""
    if rgb is None and mask is None:
        raise ValueError("estimate_pose needs rgb and/or mask images, got neither")
    dtype = model.means.dtype
    nv = viewmats.shape[0]
    for name, img in (("rgb", rgb), ("mask", mask)):
        if img is not None and tuple(img.shape[:3]) != (nv, height, width):
            raise ValueError(
                f"{name} has shape {tuple(img.shape)}, expected ({nv}, {height}, {width}, ...)"
            )
    q = q_init.detach().clone().to(dtype).requires_grad_(True)
    params = [{"params": [q], "lr": lr}]
    delta = torch.zeros(nv, 6, dtype=dtype, requires_grad=optimize_camera)
    if optimize_camera:
        params.append({"params": [delta], "lr": lr_camera})
    opt = torch.optim.Adam(params)
    lo, hi = model.kin.lower.to(dtype), model.kin.upper.to(dtype)
    vm0 = viewmats.to(dtype)
    target_mask = None if mask is None else mask.to(dtype).reshape(nv, height, width, 1)
    losses = []
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for it in range(iters):
            for g, base in zip(opt.param_groups, (lr, lr_camera)):
                g["lr"] = base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * it / iters)))
            opt.zero_grad()
            vm = delta_transform(delta) @ vm0 if optimize_camera else vm0
            out = model.render(q, vm, Ks, width, height, world_from_base=world_from_base)
            loss = torch.zeros((), dtype=dtype)
            if rgb is not None:
                loss = loss + (out.rgb - rgb.to(dtype)).abs().mean()
            if target_mask is not None:
                loss = loss + w_mask * (out.alpha - target_mask).abs().mean()
            loss.backward()
            opt.step()
            with torch.no_grad():
                q.copy_(torch.maximum(torch.minimum(q, hi), lo))
            losses.append(float(loss.detach()))
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    with torch.no_grad():
        vm = delta_transform(delta) @ vm0 if optimize_camera else vm0
    return EstimateResult(q.detach().numpy().copy(), vm.detach().numpy().copy(), losses)
