"""The rendering API: one function, three backends.

``render`` draws N 3D Gaussians into C pinhole cameras and returns colour, expected depth
and alpha images plus per-Gaussian screen-space information. Backends:

* ``"gsplat"``: :func:`gsplat.rasterization` (CUDA tensors, gsplat installed);
* ``"torch"``: this package's EWA projection + tiled compositor (any device; the CPU one);
* ``"dense"``: the same projection + brute-force compositor (reference, slow);
* ``"auto"``: ``"gsplat"`` for CUDA tensors when gsplat imports, else ``"torch"``.

All are differentiable w.r.t. means, quats, scales, opacities and colours (and the torch
backends also w.r.t. viewmats and Ks).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from .compositor import composite_tiles
from .dense import composite_dense
from .gsplat_backend import gsplat_available, rasterize_gsplat
from .projection import project_gaussians
from .sh import sh0_to_rgb

BACKENDS = ("auto", "gsplat", "torch", "dense")
#: Default tile edge of the torch compositor (fastest on the 2-core benchmark machine;
#: small tiles waste fewer (pixel, candidate) pairs, see README) and of gsplat.
TORCH_TILE_SIZE = 4
GSPLAT_TILE_SIZE = 16


@dataclass
class RenderOutput:
    """Result of :func:`render` (C cameras, N Gaussians, H x W pixels).

    Attributes:
        rgb: (C, H, W, 3) colour, composited over the background.
        depth: (C, H, W, 1) expected camera-frame z-depth in metres,
            sum_i(w_i z_i) / alpha (gsplat "ED"); 0 where alpha is 0.
        alpha: (C, H, W, 1) accumulated opacity, 1 - final transmittance.
        means2d: (C, N, 2) projected means in pixels (OpenCV: pixel (row v, col u) is
            centred at (u, v)); differentiable, call ``retain_grad()`` for screen-space
            gradient statistics.
        depths: (C, N) camera-frame z of the means, metres.
        radii: (C, N, 2) int32 cut-off half-widths in pixels along u and v; 0 = culled.
        n_touched: (C, N) int64 number of pixels in which the Gaussian had a nonzero
            compositing weight (torch and dense backends; None for gsplat).
        n_dropped: (tile, Gaussian) intersections dropped by the tile cap (torch backend).
        backend: the backend that ran ("gsplat", "torch" or "dense").
    """

    rgb: torch.Tensor
    depth: torch.Tensor
    alpha: torch.Tensor
    means2d: torch.Tensor
    depths: torch.Tensor
    radii: torch.Tensor
    n_touched: torch.Tensor | None
    n_dropped: int
    backend: str

    @property
    def visible(self) -> torch.Tensor:
        """(C, N) bool: the Gaussian survived culling in that camera."""
        return (self.radii > 0).all(dim=-1)


def select_backend(backend: str, device: torch.device) -> str:
    """Resolve ``backend`` for tensors on ``device`` (see module docstring)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        if device.type == "cuda" and gsplat_available():
            return "gsplat"
        if device.type == "cuda":
            warnings.warn(
                "CUDA tensors but gsplat is not installed: using the torch compositor",
                stacklevel=3,
            )
        return "torch"
    if backend == "gsplat":
        if device.type != "cuda":
            raise ValueError("backend='gsplat' needs CUDA tensors")
        if not gsplat_available():
            raise ImportError("backend='gsplat' needs the gsplat package (pip install gsplat)")
    return backend


def render(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    viewmats: torch.Tensor,
    Ks: torch.Tensor,
    width: int,
    height: int,
    *,
    near: float = 0.01,
    far: float = 1e10,
    background: torch.Tensor | None = None,
    sh_degree: int | None = None,
    backend: str = "auto",
    tile_size: int | None = None,
    max_per_tile: int = 4096,
    eps2d: float = 0.3,
) -> RenderOutput:
    """Render 3D Gaussians into a batch of cameras.

    Args:
        means: (N, 3) centres in the world frame (z up), metres.
        quats: (N, 4) orientations as (w, x, y, z) quaternions; normalised internally.
        scales: (N, 3) standard deviations along the Gaussian's local axes, metres
            (linear, not log).
        opacities: (N,) opacities in [0, 1] (already activated, not logits).
        colors: (N, 3) RGB in [0, 1]; with ``sh_degree=0``, (N, 3) or (N, 1, 3) degree-0
            SH coefficients (colour = max(0.2821 * sh + 0.5, 0), as in 3DGS).
        viewmats: (C, 4, 4) world-to-camera transforms; camera axes as OpenCV
            (x right, y down, z forward).
        Ks: (C, 3, 3) pinhole intrinsics in pixels; pixel (row v, col u) has its centre at
            (u, v) (OpenCV / ROS CameraInfo convention).
        width, height: image size in pixels.
        near, far: Gaussians whose mean has camera z outside (near, far) metres are culled.
        background: (3,) or (C, 3) colour behind the Gaussians; default black.
        sh_degree: None for RGB colours, 0 for DC spherical-harmonics coefficients.
        backend: "auto" | "gsplat" | "torch" | "dense" (see module docstring).
        tile_size: tile edge in pixels (torch and gsplat backends); default
            ``TORCH_TILE_SIZE`` (4) for torch, ``GSPLAT_TILE_SIZE`` (16) for gsplat.
        max_per_tile: torch backend: candidates kept per tile, nearest first.
        eps2d: px^2 added to every projected covariance (3DGS anti-aliasing dilation).

    Returns:
        A :class:`RenderOutput` with images (C, H, W, k) in the dtype of ``means``.
    """
    if sh_degree not in (None, 0):
        raise ValueError("only sh_degree None (RGB) or 0 is supported")
    n = means.shape[0]
    for name, t, shape in (
        ("means", means, (n, 3)),
        ("quats", quats, (n, 4)),
        ("scales", scales, (n, 3)),
        ("opacities", opacities, (n,)),
    ):
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(t.shape)}")
    if viewmats.dim() != 3 or viewmats.shape[1:] != (4, 4) or Ks.shape != (len(viewmats), 3, 3):
        raise ValueError("viewmats must be (C, 4, 4) and Ks (C, 3, 3)")
    rgb_in = sh0_to_rgb(colors) if sh_degree == 0 else colors
    if rgb_in.shape != (n, 3):
        raise ValueError(f"colors must have shape ({n}, 3), got {tuple(colors.shape)}")
    n_cams = viewmats.shape[0]
    chosen = select_backend(backend, means.device)

    n_touched, n_dropped = None, 0
    if chosen == "gsplat":
        res = rasterize_gsplat(
            means, quats, scales, opacities, rgb_in, viewmats, Ks, width, height,
            near, far, eps2d, tile_size or GSPLAT_TILE_SIZE,
        )  # fmt: skip
        out, means2d, depths, radii = res["out"], res["means2d"], res["depths"], res["radii"]
    else:
        proj = project_gaussians(
            means, quats, scales, opacities, viewmats, Ks, width, height, near, far, eps2d
        )
        if chosen == "torch":
            out, n_touched, n_dropped = composite_tiles(
                proj,
                rgb_in,
                width,
                height,
                tile_size=tile_size or TORCH_TILE_SIZE,
                max_per_tile=max_per_tile,
            )
        else:
            out, n_touched = composite_dense(proj, rgb_in, width, height)
        means2d, depths, radii = proj.means2d, proj.depths, proj.radii

    alpha = out[..., 4:5]
    rgb = out[..., :3]
    if background is not None:
        bg = background.to(rgb).reshape(-1, 1, 1, 3).expand(n_cams, 1, 1, 3)
        rgb = rgb + (1.0 - alpha) * bg
    depth = out[..., 3:4] / alpha.clamp_min(1e-10)
    return RenderOutput(
        rgb=rgb,
        depth=depth,
        alpha=alpha,
        means2d=means2d,
        depths=depths,
        radii=radii,
        n_touched=n_touched,
        n_dropped=n_dropped,
        backend=chosen,
    )
