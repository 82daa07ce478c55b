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


def estimate_from_views(
    model: RobotGaussianModel,
    world_from_base: np.ndarray,
    world_from_cameras: np.ndarray,
    intrinsics: list,
    images: list[np.ndarray],
    q_init: np.ndarray,
    iters: int = 100,
    optimize_camera: bool = False,
    render_scale: float = 1.0,
) -> tuple[EstimateResult, np.ndarray]:
    """Pose estimation from calibrated views, as the node's service and tools call it.

    world_from_base: (4, 4) robot base in ``world``; world_from_cameras: (V, 4, 4) optical
    frames in ``world``; intrinsics: V ``gs_common.camera.CameraIntrinsics`` of one size;
    images: V arrays of that size, each a robot mask (H, W) bool/uint8 (nonzero = robot) or an
    RGB image (H, W, 3) uint8 of the robot; q_init: (J,) rad. ``render_scale`` renders at a
    fraction of the camera resolution (CPU budget). Returns the estimate and the refined
    world_from_cameras (V, 4, 4) (as given without ``optimize_camera``). Raises ValueError
    naming the offending view."""
    v = len(images)
    if v == 0 or v != len(intrinsics) or v != len(world_from_cameras):
        raise ValueError(
            f"{v} images, {len(intrinsics)} intrinsics, {len(world_from_cameras)} poses: "
            "need the same non-zero number"
        )
    if not 0.0 < render_scale <= 1.0:
        raise ValueError(f"render_scale={render_scale} must be in (0, 1]")
    size = (intrinsics[0].width, intrinsics[0].height)
    kinds = set()
    for i, (img, intr) in enumerate(zip(images, intrinsics)):
        if (intr.width, intr.height) != size:
            raise ValueError(
                f"view {i} is {intr.width}x{intr.height}, view 0 is {size[0]}x{size[1]}"
            )
        if img.shape[:2] != (intr.height, intr.width):
            raise ValueError(
                f"image {i} is {img.shape[1]}x{img.shape[0]}, its camera {intr.width}x{intr.height}"
            )
        kinds.add("rgb" if img.ndim == 3 else "mask")
    if len(kinds) != 1:
        raise ValueError("images must be all masks or all RGB images, got both")
    small = [i.scaled(render_scale) if render_scale < 1.0 else i for i in intrinsics]
    w, h = small[0].width, small[0].height
    stack = torch.stack([torch.as_tensor(np.asarray(img), dtype=torch.float32) for img in images])
    if "rgb" in kinds:
        stack = stack / 255.0
        target = torch.nn.functional.interpolate(
            stack.permute(0, 3, 1, 2), size=(h, w), mode="area"
        ).permute(0, 2, 3, 1)
        rgb, mask = target, None
    else:
        stack = (stack > 0).float()[:, None]
        mask = torch.nn.functional.interpolate(stack, size=(h, w), mode="area")[:, 0]
        rgb = None
    viewmats = torch.as_tensor(np.linalg.inv(np.asarray(world_from_cameras)), dtype=torch.float32)
    ks = torch.as_tensor(np.stack([s.K for s in small]), dtype=torch.float32)
    result = estimate_pose(
        model,
        viewmats,
        ks,
        w,
        h,
        torch.as_tensor(np.asarray(q_init), dtype=torch.float32),
        rgb=rgb,
        mask=mask,
        iters=iters,
        optimize_camera=optimize_camera,
        world_from_base=torch.as_tensor(world_from_base, dtype=torch.float32),
    )
    return result, np.linalg.inv(result.viewmats.astype(np.float64))
