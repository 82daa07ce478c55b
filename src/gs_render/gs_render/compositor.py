"""Tile-based front-to-back alpha compositing in plain torch (the CPU backend).

For every non-empty tile (see :mod:`gs_render.tiles`) and every candidate Gaussian k of
that tile (nearest first) and every pixel p of the tile:

    alpha_kp = min(0.99, o_k exp(-1/2 d^T Q_k d)),   d = p - mu_k,  Q_k the conic
    alpha_kp = 0 where alpha_kp < 1/255                       (skipped sample)
    T_kp     = prod_{j<k} (1 - alpha_jp)                      (exclusive cumprod)
    w_kp     = alpha_kp T_kp, and 0 from the first k where prod_{j<=k}(1 - alpha_jp) < 1e-4
               (early termination: that sample and all behind it are not composited)
    out_p    = sum_k w_kp [r, g, b, z, 1]_k       -> colour, alpha-weighted depth, alpha

Tricks that keep it fast and small, all with ordinary autograd:

* the exponent is a quadratic in pixel coordinates, so for a whole tile it is one matrix
  product of per-candidate coefficients (K, 6) with a fixed basis (6, P) of
  [x^2, xy, y^2, x, y, 1] at the tile's pixels (coordinates relative to the tile centre);
* the weighted sum over candidates is a batched matrix product (P, K) @ (K, 5);
* tiles are processed in chunks padded to the chunk's longest list (see
  :func:`gs_render.tiles.plan_chunks`), so peak memory per chunk is bounded; when
  gradients are needed and the whole frame holds more than ``checkpoint_pairs`` pairs,
  each chunk is wrapped in activation checkpointing, which bounds the memory kept for
  the backward pass too (at the price of recomputing the chunk).

Padding slots point at a "null" Gaussian with log-opacity -40 (alpha ~ 4e-18, skipped).
"""

from __future__ import annotations

import math

import torch
from torch.utils.checkpoint import checkpoint

from .projection import ALPHA_MIN, Projected
from .tiles import bin_gaussians, plan_chunks

#: Per-sample alpha clamp (3DGS uses 0.99; gsplat 0.999).
ALPHA_MAX = 0.99
#: Compositing stops once the transmittance would fall below this (3DGS / gsplat).
T_MIN = 1e-4
#: Log-value standing for "masked out". exp(-40) = 4e-18 is far below float32 resolution
#: of any composited value (samples that count have weight >= 1/255 * 1e-4), and unlike
#: -inf or -1e4 it keeps every exp() argument above -87, off the very slow
#: underflow / denormal path of CPU exp (20-60x slower there).
_MASKED = -40.0
#: A weight above this is a real contribution (<= 4e-16 means masked).
_W_EPS = 1e-10
_LOG_ALPHA_MAX = math.log(ALPHA_MAX)
# torch.threshold keeps x > t; these make that "alpha >= 1/255" and "T >= 1e-4" up to
# one float ulp, as in 3DGS / gsplat.
_LOG_ALPHA_MIN = math.nextafter(math.log(ALPHA_MIN), -math.inf)
_LOG_T_MIN = math.nextafter(math.log(T_MIN), -math.inf)


def _tile_basis(tile_size: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(6, P) quadratic basis [x^2, xy, y^2, x, y, 1] at the pixels of a tile, row-major,
    with x, y relative to the tile centre."""
    c = torch.arange(tile_size, dtype=dtype, device=device) - 0.5 * (tile_size - 1)
    y, x = torch.meshgrid(c, c, indexing="ij")
    x, y = x.reshape(-1), y.reshape(-1)
    return torch.stack([x * x, x * y, y * y, x, y, torch.ones_like(x)])


def _composite_chunk(
    coef: torch.Tensor, feat: torch.Tensor, basis_t: torch.Tensor, clamp: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite one chunk of tiles.

    Args:
        coef: (Tc, K, 6) exponent coefficients (log-opacity folded in), nearest first.
        feat: (Tc, K, 5) per-candidate [r, g, b, z, 1].
        basis_t: (P, 6) tile basis (see :func:`_tile_basis`), transposed.
        clamp: apply the 0.99 alpha clamp (only needed if some opacity exceeds 0.99).

    Returns:
        (Tc, P, 5) composited [premultiplied rgb, alpha-weighted depth, alpha] and a
        (Tc, K) count of the pixels each candidate contributed to (no gradient).

    Everything is computed in log space, with masks expressed as ``torch.threshold``
    (which sends masked entries to a log-value of -40, i.e. alpha / weight ~ 0)
    because on CPU that is much cheaper, forward and backward, than boolean masking:

        log_alpha = log(o) - sigma                    (Tc, P, K), one matrix product
        log_alpha = min(log_alpha, log 0.99)          (clamp)
        log_alpha = -40 where alpha < 1/255           (skip: alpha 0, T unchanged)
        log_t     = cumsum_k log(1 - alpha)           (inclusive log transmittance)
        log_t     = -40 where T < 1e-4                (early termination)
        w         = exp(log_alpha + log_t - log(1 - alpha))   (= alpha * exclusive T)
    """
    log_alpha = basis_t @ coef.transpose(1, 2)  # (Tc, P, K)
    if clamp:
        log_alpha = -torch.threshold(-log_alpha, -_LOG_ALPHA_MAX, -_LOG_ALPHA_MAX)
    log_alpha = torch.threshold(log_alpha, _LOG_ALPHA_MIN, _MASKED)
    log_one_minus = torch.log1p(-torch.exp(log_alpha))
    log_t = torch.threshold(torch.cumsum(log_one_minus, dim=2), _LOG_T_MIN, _MASKED)
    weights = torch.exp(log_alpha + (log_t - log_one_minus))
    out = weights @ feat  # (Tc, P, 5)
    with torch.no_grad():
        touched = (weights > _W_EPS).sum(dim=1)
    return out, touched


def composite_tiles(
    proj: Projected,
    colors: torch.Tensor,
    width: int,
    height: int,
    tile_size: int = 16,
    max_per_tile: int = 4096,
    max_pairs_per_chunk: int = 1 << 22,
    checkpoint_pairs: int = 1 << 25,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Rasterize projected Gaussians with the tiled compositor.

    Args:
        proj: output of :func:`gs_render.projection.project_gaussians` for C cameras.
        colors: (N, 3) or (C, N, 3) linear colours.
        width, height: image size, pixels.
        tile_size: tile edge in pixels.
        max_per_tile: candidate cap per tile (overflow: nearest kept).
        max_pairs_per_chunk: (pixel, candidate) pairs per chunk (memory bound).
        checkpoint_pairs: total pairs above which chunks are checkpointed under autograd.

    Returns:
        ``(out, touched, n_dropped)``: out (C, H, W, 5) = [premultiplied rgb, alpha-weighted
        depth, alpha]; touched (C, N) int64 pixels with nonzero weight per Gaussian;
        n_dropped the intersections dropped by the overflow policy.
    """
    n_cams, n_gauss = proj.depths.shape
    dtype, device = proj.means2d.dtype, proj.means2d.device
    bins = bin_gaussians(
        proj.means2d, proj.radii, proj.depths, width, height, tile_size, max_per_tile
    )
    n_px = tile_size * tile_size
    basis_t = _tile_basis(tile_size, dtype, device).T.contiguous()

    # Per (camera, Gaussian) attributes in one flat table (gathered once per chunk, so the
    # backward pass is a single index_add): [u, v, a, b, c, log o, r, g, b, z, 1], plus a
    # trailing null Gaussian for padding slots.
    if colors.dim() == 2:
        colors = colors.expand(n_cams, -1, -1)
    log_o = torch.log(proj.opacities.clamp_min(1e-10)).expand(n_cams, -1)
    ones = torch.ones(n_cams, n_gauss, 1, dtype=dtype, device=device)
    table = torch.cat(
        [proj.means2d, proj.conics, log_o[..., None], colors, proj.depths[..., None], ones],
        dim=-1,
    ).reshape(-1, 11)
    null_row = torch.zeros(1, 11, dtype=dtype, device=device)
    null_row[0, 5] = _MASKED
    table = torch.cat([table, null_row])
    null_id = n_cams * n_gauss

    # Tile centres in pixel coordinates, per non-empty tile.
    tiles_per_cam = bins.tiles_x * bins.tiles_y
    in_cam = bins.tile_ids % tiles_per_cam
    centre = torch.stack([in_cam % bins.tiles_x, in_cam // bins.tiles_x], dim=-1).to(
        dtype
    ) * tile_size + 0.5 * (tile_size - 1)

    total_pairs = int(bins.counts.sum()) * n_px
    use_ckpt = torch.is_grad_enabled() and total_pairs > checkpoint_pairs
    clamp = bool((proj.opacities.detach() > ALPHA_MAX).any())
    touched = torch.zeros(null_id + 1, dtype=torch.long, device=device)
    outs, out_tiles = [], []
    for idx in plan_chunks(bins.counts, n_px, max_pairs_per_chunk):
        k_pad = int(bins.counts[idx[0]])
        slot = torch.arange(k_pad, device=device)
        cand = torch.where(
            slot < bins.counts[idx, None],
            bins.gauss_ids[(bins.starts[idx, None] + slot).clamp_max(bins.gauss_ids.numel() - 1)],
            null_id,
        )  # (Tc, K)
        rows = table.index_select(0, cand.reshape(-1)).reshape(*cand.shape, 11)
        dx = rows[..., 0] - centre[idx, None, 0]  # mean relative to the tile centre
        dy = rows[..., 1] - centre[idx, None, 1]
        a, b, c = rows[..., 2], rows[..., 3], rows[..., 4]
        qx, qy = a * dx + b * dy, b * dx + c * dy
        coef = torch.stack(
            [-0.5 * a, -b, -0.5 * c, qx, qy, rows[..., 5] - 0.5 * (qx * dx + qy * dy)], dim=-1
        )
        feat = rows[..., 6:]
        if use_ckpt:
            out, cnt = checkpoint(_composite_chunk, coef, feat, basis_t, clamp, use_reentrant=False)
        else:
            out, cnt = _composite_chunk(coef, feat, basis_t, clamp)
        touched.index_add_(0, cand.reshape(-1), cnt.reshape(-1))
        outs.append(out)
        out_tiles.append(bins.tile_ids[idx])

    n_all_tiles = n_cams * tiles_per_cam
    grid = torch.zeros(n_all_tiles, n_px, 5, dtype=dtype, device=device)
    if outs:
        grid = grid.index_copy(0, torch.cat(out_tiles), torch.cat(outs))
    img = (
        grid.reshape(n_cams, bins.tiles_y, bins.tiles_x, tile_size, tile_size, 5)
        .permute(0, 1, 3, 2, 4, 5)
        .reshape(n_cams, bins.tiles_y * tile_size, bins.tiles_x * tile_size, 5)
    )[:, :height, :width]
    # Pixels that only saw masked samples hold ~1e-16 instead of 0: make them exactly 0.
    img = img * (img[..., 4:5].detach() > _W_EPS)
    return img, touched[:null_id].reshape(n_cams, n_gauss), bins.n_dropped
