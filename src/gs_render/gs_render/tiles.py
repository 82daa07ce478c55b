"""Tile binning: which Gaussians each screen tile must composite, nearest first.

The image of every camera is cut into ``tile_size`` x ``tile_size`` tiles. Each visible
(camera, Gaussian) pair is intersected with the tiles covered by its cut-off box (see
:mod:`gs_render.projection`); the resulting (tile, Gaussian) list is sorted by tile and
then by depth with a single integer sort, and cut into per-tile candidate lists.

Overflow policy: a tile keeps at most ``max_per_tile`` candidates, the *nearest* ones (by
camera-frame depth of the mean). Gaussians further back in an overfull tile are dropped for
that tile, which changes the image only where the kept ones leave transmittance behind.
:attr:`TileBins.n_dropped` reports how many (tile, Gaussian) pairs were dropped.

Nothing here is differentiable: it produces integer indices only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TileBins:
    """Per-tile candidate lists in a flat, depth-sorted layout.

    Attributes:
        gauss_ids: (I,) int64 flat (camera * N + gaussian) ids of the kept intersections,
            grouped by tile, nearest first within a tile.
        tile_ids: (T,) int64 ids (camera * tiles_y * tiles_x + ty * tiles_x + tx) of the
            non-empty tiles, in the order their lists appear in ``gauss_ids``.
        starts: (T,) int64 offset of each tile's list in ``gauss_ids``.
        counts: (T,) int64 length of each tile's list (<= max_per_tile).
        tiles_x, tiles_y: tile grid size per camera.
        n_dropped: intersections dropped by the overflow policy.
    """

    gauss_ids: torch.Tensor
    tile_ids: torch.Tensor
    starts: torch.Tensor
    counts: torch.Tensor
    tiles_x: int
    tiles_y: int
    n_dropped: int


def bin_gaussians(
    means2d: torch.Tensor,
    radii: torch.Tensor,
    depths: torch.Tensor,
    width: int,
    height: int,
    tile_size: int,
    max_per_tile: int,
) -> TileBins:
    """Build the per-tile, depth-sorted candidate lists.

    Args:
        means2d: (C, N, 2) projected means, pixels.
        radii: (C, N, 2) int cut-off half-widths, pixels (0 = culled).
        depths: (C, N) camera-frame depths used for the ordering.
        width, height: image size, pixels.
        tile_size: tile edge, pixels.
        max_per_tile: candidate-list cap (overflow policy: keep nearest).
    """
    device = means2d.device
    n_cams, n_gauss = depths.shape
    tiles_x = (width + tile_size - 1) // tile_size
    tiles_y = (height + tile_size - 1) // tile_size

    flat_vis = (radii > 0).all(-1).reshape(-1).nonzero().squeeze(1)  # (V,) c * N + n
    m2d = means2d.detach().reshape(-1, 2)[flat_vis]
    rad = radii.reshape(-1, 2)[flat_vis].to(m2d.dtype)
    # Pixel j is in tile j // tile_size; the box covers pixels within [m - r, m + r].
    lo = torch.floor((m2d - rad) / tile_size).long()
    hi = torch.floor((m2d + rad) / tile_size).long()
    lo_x, hi_x = lo[:, 0].clamp(0, tiles_x - 1), hi[:, 0].clamp(0, tiles_x - 1)
    lo_y, hi_y = lo[:, 1].clamp(0, tiles_y - 1), hi[:, 1].clamp(0, tiles_y - 1)
    span_x = hi_x - lo_x + 1
    n_tiles = span_x * (hi_y - lo_y + 1)  # (V,) tiles touched by each visible pair

    # Expand to one row per (pair, tile) without Python loops.
    owner = torch.repeat_interleave(torch.arange(flat_vis.numel(), device=device), n_tiles)
    first = torch.cumsum(n_tiles, 0) - n_tiles
    local = torch.arange(owner.numel(), device=device) - first[owner]
    tx = lo_x[owner] + local % span_x[owner]
    ty = lo_y[owner] + local // span_x[owner]
    cam = flat_vis[owner] // n_gauss
    tile = (cam * tiles_y + ty) * tiles_x + tx

    # Sort by (tile, depth) in one go: key = tile * V + depth rank.
    n_vis = flat_vis.numel()
    depth_rank = torch.empty(n_vis, dtype=torch.long, device=device)
    depth_rank[torch.argsort(depths.detach().reshape(-1)[flat_vis])] = torch.arange(
        n_vis, device=device
    )
    order = torch.argsort(tile * max(n_vis, 1) + depth_rank[owner])
    tile_sorted = tile[order]
    gauss_sorted = flat_vis[owner[order]]

    per_tile = torch.bincount(tile_sorted, minlength=n_cams * tiles_x * tiles_y)
    tile_ids = per_tile.nonzero().squeeze(1)
    full_counts = per_tile[tile_ids]
    full_starts = torch.cumsum(full_counts, 0) - full_counts
    rank_in_tile = torch.arange(tile_sorted.numel(), device=device) - torch.repeat_interleave(
        full_starts, full_counts
    )
    kept = rank_in_tile < max_per_tile
    counts = full_counts.clamp_max(max_per_tile)
    return TileBins(
        gauss_ids=gauss_sorted[kept],
        tile_ids=tile_ids,
        starts=torch.cumsum(counts, 0) - counts,
        counts=counts,
        tiles_x=tiles_x,
        tiles_y=tiles_y,
        n_dropped=int(tile_sorted.numel() - int(kept.sum())),
    )


def plan_chunks(
    counts: torch.Tensor, tile_pixels: int, max_pairs: int, min_fill: float = 0.75
) -> list[torch.Tensor]:
    """Group non-empty tiles into chunks for the compositor.

    Tiles are sorted by candidate count (descending); a chunk is padded to the count of its
    first tile, so a new chunk starts when the count drops below ``min_fill`` times the
    chunk's padded length (bounding the padding waste) or when the chunk would exceed
    ``max_pairs`` (pixel, candidate) pairs (bounding memory).

    Args:
        counts: (T,) candidates per non-empty tile.
        tile_pixels: pixels per tile.
        max_pairs: budget of (pixel, candidate) pairs per chunk.

    Returns:
        A list of int64 index tensors into the T tiles.
    """
    order = torch.argsort(counts, descending=True)
    sorted_counts = counts[order].tolist()
    chunks, begin = [], 0
    for i, k in enumerate(sorted_counts):
        if i == begin:
            continue
        pad = sorted_counts[begin]
        if k < min_fill * pad or (i - begin + 1) * pad * tile_pixels > max_pairs:
            chunks.append(order[begin:i])
            begin = i
    if sorted_counts:
        chunks.append(order[begin:])
    return chunks
