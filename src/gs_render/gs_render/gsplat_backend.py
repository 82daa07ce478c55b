"""CUDA backend: :func:`gsplat.rasterization` in ``RGB+ED`` mode.

gsplat is imported lazily (it is only installed on CUDA machines / in the docker image).
gsplat puts pixel centres at integer + 0.5, this package at integers (OpenCV / ROS), so
the principal point is shifted by +0.5 px on the way in and the returned 2D means by
-0.5 px on the way out. The background is composited here, after rasterization, so it
never leaks into the depth channel. gsplat clamps per-sample alpha at 0.999 where the torch
backends use 0.99 (3DGS); the two agree wherever no single sample is that opaque.
"""

from __future__ import annotations

import importlib.util

import torch


def gsplat_available() -> bool:
    """True if the ``gsplat`` package can be imported (it is not imported here)."""
    return importlib.util.find_spec("gsplat") is not None


def rasterize_gsplat(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    viewmats: torch.Tensor,
    Ks: torch.Tensor,
    width: int,
    height: int,
    near: float,
    far: float,
    eps2d: float,
    tile_size: int,
) -> dict[str, torch.Tensor]:
    """Render with gsplat; shapes as in :func:`gs_render.api.render`.

    Returns:
        dict with ``out`` (C, H, W, 5) = [premultiplied rgb, expected depth * alpha, alpha]
        and ``means2d`` (C, N, 2), ``depths`` (C, N), ``radii`` (C, N, 2) int32.
    """
    import gsplat  # optional, CUDA-only dependency: imported on first use

    shift = torch.zeros_like(Ks)
    shift[:, 0, 2] = 0.5
    shift[:, 1, 2] = 0.5
    render, alphas, meta = gsplat.rasterization(
        means=means,
        quats=quats,
        scales=scales,
        opacities=opacities,
        colors=colors,
        viewmats=viewmats,
        Ks=Ks + shift,
        width=width,
        height=height,
        near_plane=near,
        far_plane=far,
        eps2d=eps2d,
        packed=False,
        tile_size=tile_size,
        render_mode="RGB+ED",
        rasterize_mode="classic",
    )
    radii = meta["radii"]
    if radii.dim() == 2:  # gsplat < 1.5 reports one radius per Gaussian
        radii = radii[..., None].expand(*radii.shape, 2)
    # gsplat's ED channel is already divided by alpha; store it premultiplied like ours.
    out = torch.cat([render[..., :3], render[..., 3:4] * alphas, alphas], dim=-1)
    return {
        "out": out,
        "means2d": meta["means2d"] - 0.5,
        "depths": meta["depths"],
        "radii": radii.to(torch.int32),
    }
