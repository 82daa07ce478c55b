"""Naive dense compositor: every visible Gaussian against every pixel.

The correctness reference for :mod:`gs_render.compositor` and its benchmark baseline. It
uses the same projection and the same compositing rules (alpha clamp 0.99, skip below
1/255, stop when transmittance falls below 1e-4) but no tiles, no candidate cap and the
textbook form of the exponent, -1/2 (a dx^2 + 2 b dx dy + c dy^2).

Cost is O(C * H * W * N) time. Pixels are processed in chunks of at most
``max_pairs_per_chunk`` (pixel, Gaussian) pairs; under autograd every chunk is
checkpointed, so memory stays bounded (the forward pass is recomputed in backward).
"""

from __future__ import annotations

import torch
from torch.utils.checkpoint import checkpoint

from .compositor import ALPHA_MAX, T_MIN
from .projection import ALPHA_MIN, Projected


def _dense_chunk(
    px: torch.Tensor,
    py: torch.Tensor,
    mean: torch.Tensor,
    conic: torch.Tensor,
    opac: torch.Tensor,
    feat: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(P,) pixels x (V,) depth-sorted Gaussians -> (P, 5) composited features and (V,)
    number of these pixels each Gaussian got a nonzero weight in."""
    dx = px[:, None] - mean[None, :, 0]
    dy = py[:, None] - mean[None, :, 1]
    a, b, c = conic.unbind(-1)
    sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
    # (exp of arguments below about -87 takes a very slow underflow path on CPU; past 60
    # sigmas alpha is far below 1/255 anyway, so the clamp changes no result.)
    alpha = torch.clamp_max(opac * torch.exp(-sigma.clamp_max(60.0)), ALPHA_MAX)
    alpha = torch.where(alpha >= ALPHA_MIN, alpha, torch.zeros_like(alpha))
    t_incl = torch.cumprod(1.0 - alpha, dim=1)
    t_excl = torch.cat([torch.ones_like(t_incl[:, :1]), t_incl[:, :-1]], dim=1)
    weights = torch.where(t_incl >= T_MIN, alpha * t_excl, torch.zeros_like(alpha))
    with torch.no_grad():
        touched = (weights > 0).sum(dim=0)
    return weights @ feat, touched


def composite_dense(
    proj: Projected,
    colors: torch.Tensor,
    width: int,
    height: int,
    max_pairs_per_chunk: int = 1 << 22,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rasterize projected Gaussians by brute force.

    Args:
        proj: projection of N Gaussians into C cameras.
        colors: (N, 3) or (C, N, 3) colours.
        width, height: image size, pixels.
        max_pairs_per_chunk: (pixel, Gaussian) pairs evaluated at once.

    Returns:
        ``(out, touched)``: out (C, H, W, 5) = [premultiplied rgb, alpha-weighted depth,
        alpha]; touched (C, N) int64 pixels with nonzero weight per Gaussian.
    """
    n_cams, n_gauss = proj.depths.shape
    dtype, device = proj.means2d.dtype, proj.means2d.device
    if colors.dim() == 2:
        colors = colors.expand(n_cams, -1, -1)
    rows = torch.arange(height, dtype=dtype, device=device)
    cols = torch.arange(width, dtype=dtype, device=device)
    py, px = (g.reshape(-1) for g in torch.meshgrid(rows, cols, indexing="ij"))
    visible = proj.visible
    images, touched = [], torch.zeros(n_cams, n_gauss, dtype=torch.long, device=device)
    for cam in range(n_cams):
        ids = visible[cam].nonzero().squeeze(1)
        ids = ids[torch.argsort(proj.depths[cam, ids].detach())]
        opac = proj.opacities[ids]
        feat = torch.cat(
            [colors[cam, ids], proj.depths[cam, ids, None], torch.ones_like(opac)[:, None]], -1
        )
        gauss = (proj.means2d[cam, ids], proj.conics[cam, ids], opac, feat)
        step = max(1, max_pairs_per_chunk // max(1, ids.numel()))
        chunks = []
        for start in range(0, px.numel(), step):
            pix = (px[start : start + step], py[start : start + step])
            if torch.is_grad_enabled():
                out, cnt = checkpoint(_dense_chunk, *pix, *gauss, use_reentrant=False)
            else:
                out, cnt = _dense_chunk(*pix, *gauss)
            touched[cam].index_add_(0, ids, cnt)
            chunks.append(out)
        images.append(torch.cat(chunks).reshape(height, width, 5))
    return torch.stack(images), touched
