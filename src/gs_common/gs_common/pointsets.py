"""Point-set helpers shared by tracking, dynamics and planning.

- :func:`farthest_point_sampling`: FPS indices (``fpsample`` when installed, torch fallback),
  optionally stopping when the next sample would be closer than a minimum spacing.
- :func:`knn`: k nearest neighbours, batched, torch (``cdist`` + ``topk``).
- :func:`chamfer_distance`: symmetric Chamfer distance, batched, torch or numpy.
- :func:`voxel_means`: one point per occupied cube, at the mean of its points.
- :func:`curve_points` / :func:`curve_chamfer`: a sampled curve (or thin object) filled in
  along its minimum spanning tree, and the Chamfer distance of two such curves, free of
  the sampling phase of the points.
- :func:`earth_movers_distance`: exact EMD by optimal assignment (scipy).

Distances are Euclidean in the points' unit (metres in this project), not squared.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = Any  # numpy.ndarray or torch.Tensor


def _fps_torch(points: np.ndarray, n: int, start_idx: int) -> np.ndarray:
    import torch

    p = torch.as_tensor(points, dtype=torch.float64)
    idx = torch.empty(n, dtype=torch.long)
    idx[0] = start_idx
    d = ((p - p[start_idx]) ** 2).sum(-1)
    for i in range(1, n):  # sequential by definition: each sample depends on the previous ones
        idx[i] = torch.argmax(d)
        d = torch.minimum(d, ((p - p[idx[i]]) ** 2).sum(-1))
    return idx.numpy()


def farthest_point_sampling(
    points: np.ndarray, n: int, start_idx: int = 0, min_spacing: float | None = None
) -> np.ndarray:
    """Indices (M,) int64 of up to ``n`` farthest-point samples of ``points`` (N, 3).

    Deterministic for a given ``start_idx``. With ``min_spacing`` [same unit as points], the
    sampling stops before the first sample whose distance to the already chosen ones is
    below it (FPS distances are non-increasing), so all chosen points are at least
    ``min_spacing`` apart. Always returns at least one index for a non-empty input.
    """
    pts = np.asarray(points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"points must be (N, 3), got {pts.shape}")
    if len(pts) == 0:
        raise ValueError("farthest point sampling of an empty point set")
    if not np.isfinite(pts).all():
        raise ValueError("points contain non-finite values")
    n = int(min(max(n, 1), len(pts)))
    if min_spacing is not None and min_spacing > 0:
        n = min(n, _packing_bound(pts, float(min_spacing)))  # the same prefix, sooner
    if n == 1:
        idx = np.array([start_idx], np.int64)
    else:
        try:
            import fpsample

            idx = np.asarray(fpsample.fps_sampling(pts, n, start_idx=int(start_idx)), np.int64)
        except ImportError:  # pragma: no cover - fpsample is a listed dependency
            idx = _fps_torch(pts, n, int(start_idx)).astype(np.int64)
    if min_spacing is not None and len(idx) > 1:
        idx = idx[: _first_closer(pts[idx].astype(np.float64), float(min_spacing))]
    return idx


def _packing_bound(points: np.ndarray, spacing: float) -> int:
    """At most this many of ``points`` (N, 3) can be ``spacing`` apart: balls of radius
    ``spacing`` / 2 around them are disjoint and lie in the bounding box grown by
    ``spacing`` / 2 on every side: the grown box's volume over a ball's."""
    ext = points.max(0).astype(np.float64) - points.min(0) + spacing
    ball = math.pi / 6.0 * spacing**3
    return int(min(len(points), math.ceil(float(np.prod(ext)) / ball) + 1))


def _first_closer(samples: np.ndarray, spacing: float) -> int:
    """Index of the first of FPS-ordered ``samples`` (M, 3) closer than ``spacing`` to the
    samples before it (M when none is). FPS gaps do not increase, so a bisection finds it
    with nearest-neighbour queries instead of an M x M distance matrix."""
    from scipy.spatial import cKDTree

    lo, hi = 1, len(samples)
    while lo < hi:
        mid = (lo + hi) // 2
        gap, _ = cKDTree(samples[:mid]).query(samples[mid])
        if gap < spacing:
            hi = mid
        else:
            lo = mid + 1
    return lo


def voxel_means(points: np.ndarray, size: float) -> np.ndarray:
    """(K, 3) the mean of the ``points`` (N, 3) in each occupied cube of edge ``size``."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    _, inv, count = np.unique(
        np.floor(p / size).astype(np.int64), axis=0, return_inverse=True, return_counts=True
    )
    inv = inv.reshape(-1)
    sums = np.zeros((len(count), 3))
    np.add.at(sums, inv, p)
    return sums / count[:, None]


def local_centroids(points: np.ndarray, centres: np.ndarray, radius: float) -> np.ndarray:
    """(K, 3) mean of the ``points`` (N, 3) within ``radius`` of each of ``centres`` (K, 3)
    (a centre with no point near it stays where it is): samples of a cloud many points wide
    moved onto its middle, e.g. a segmented rope's surface onto its centreline."""
    from scipy.spatial import cKDTree

    p = np.asarray(points, np.float64)
    c = np.asarray(centres, np.float64)
    near = cKDTree(p).query_ball_point(c, radius)
    return np.array([p[i].mean(0) if len(i) else q for i, q in zip(near, c)]).reshape(-1, 3)


#: larger inputs of :func:`centreline_samples` are first reduced to the means of
#: ``spacing`` / 4 cubes (segmented clouds and simulator vertices are far smaller)
MAX_CENTRELINE_POINTS = 20_000


def centreline_samples(
    points: np.ndarray, spacing: float, radius: float | None = None, iterations: int = 1
) -> np.ndarray:
    """(K, 3) samples along the middle of an object seen as ``points`` (N, 3): farthest-point
    samples at least ``spacing`` apart, each moved to the mean of the points within
    ``radius`` (default 0.75 ``spacing``; :func:`local_centroids`). A polyline sampled at
    ``spacing`` or coarser stays as it is; a band of surface points as wide as a rope
    collapses onto its middle.

    With ``iterations`` > 1 the move is repeated from where the samples got to (mean shift),
    and samples that met are merged (farthest-point samples ``spacing`` / 2 apart): one
    move leaves samples started at the edges of a band wider than ``spacing`` (a 16 mm rope
    seen from above, 15 mm spacing) part-way in, two per cross-section; on segmented ropes
    three moves at ``radius`` = ``spacing`` brought the samples from 6 mm to 1.3-2.2 mm of the
    true centreline (gs_mppi_planner.mpc.dense_chamfer)."""
    p = np.asarray(points, np.float64)
    if len(p) > MAX_CENTRELINE_POINTS:  # e.g. a 200 000-point target cloud
        p = voxel_means(p, 0.25 * spacing)
    r = 0.75 * spacing if radius is None else radius
    c = p[farthest_point_sampling(p, len(p), min_spacing=spacing)]
    for _ in range(max(int(iterations), 1)):
        c = local_centroids(p, c, r)
    if iterations > 1:
        c = c[farthest_point_sampling(c, len(c), min_spacing=0.5 * spacing)]
    return c


def curve_points(points: np.ndarray, step: float, max_edge: float | None = None) -> np.ndarray:
    """(M, 3) ``points`` (N, 3) plus points every ``step`` along the edges of their minimum
    spanning tree no longer than ``max_edge`` (default 2.5 x the median nearest-neighbour
    spacing): samples of a curve become the curve, in any order, and an edge across a gap
    of the object (a skipped sample, two arms of a U) is not filled in."""
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import cKDTree

    p = np.asarray(points, np.float64).reshape(-1, 3)
    if len(p) < 2:
        return p
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step}")
    kd = cKDTree(p)
    if max_edge is None:
        nn, _ = kd.query(p, k=2)
        max_edge = 2.5 * float(np.median(nn[:, 1]))
    # the tree's edges up to max_edge are the minimum spanning forest of the graph of the
    # pairs up to max_edge apart (Kruskal takes the short edges first either way)
    tree = minimum_spanning_tree(kd.sparse_distance_matrix(kd, max_edge).tocsr()).tocoo()
    i, j, length = tree.row, tree.col, tree.data
    fill = [p]
    for a, b, n in zip(i, j, np.ceil(length / step).astype(int)):
        if n > 1:
            t = np.linspace(0.0, 1.0, n + 1)[1:-1, None]
            fill.append(p[a] + t * (p[b] - p[a]))
    return np.concatenate(fill)


def curve_chamfer(a: np.ndarray, b: np.ndarray, step: float = 0.0005) -> float:
    """Symmetric Chamfer distance (:func:`chamfer_distance`) [points' unit] between the
    curves through ``a`` (N, 3) and ``b`` (M, 3) (:func:`curve_points` at ``step``).

    On the sampled points themselves the distance measures their sampling phase as well
    as the shape: two straight ropes lying on the same line with vertices 1.55 cm apart
    read 0 to 15.5 mm depending on how far one is slid along the line (2x the slide, up to
    half a spacing). Between the curves it reads the shape and the pose: the same ropes
    read below 1 mm (the ends slid off; test_curve_chamfer_is_free_of_the_sampling_phase)."""
    from scipy.spatial import cKDTree

    ca, cb = curve_points(a, step), curve_points(b, step)
    # = chamfer_distance(ca, cb), by nearest-neighbour queries: tens of thousands of
    # filled points would need a dense matrix of gigabytes
    return float(cKDTree(cb).query(ca)[0].mean() + cKDTree(ca).query(cb)[0].mean())


def knn(query: Array, ref: Array, k: int) -> tuple[Array, Array]:
    """k nearest neighbours of ``query`` (..., Q, 3) in ``ref`` (..., R, 3) (torch).

    Returns (distances (..., Q, k), indices (..., Q, k) int64), nearest first. ``k`` is
    clamped to R.
    """
    import torch

    q = torch.as_tensor(query)
    r = torch.as_tensor(ref, dtype=q.dtype, device=q.device)
    d = torch.cdist(q, r)
    k = min(int(k), r.shape[-2])
    dist, idx = torch.topk(d, k, dim=-1, largest=False)
    return dist, idx


def chamfer_distance(a: Array, b: Array) -> Array:
    """Symmetric Chamfer distance between point sets ``a`` (..., N, 3) and ``b`` (..., M, 3).

    CD = mean_i min_j |a_i - b_j| + mean_j min_i |a_i - b_j| (Euclidean, not squared),
    batched over leading dimensions. Returns (...) of the input's kind (numpy or torch).
    """
    import torch

    torch_in = type(a).__module__.startswith("torch")
    at = a if torch_in else torch.as_tensor(np.asarray(a, np.float64))
    bt = torch.as_tensor(b, dtype=at.dtype, device=at.device)
    d = torch.cdist(at, bt)
    cd = d.min(-1).values.mean(-1) + d.min(-2).values.mean(-1)
    return cd if torch_in else cd.numpy()


def earth_movers_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Exact EMD: mean distance of the optimal one-to-one assignment of ``a`` (N, 3) to
    ``b`` (M, 3) (scipy's Hungarian solver). With N != M, the min(N, M) best-matched pairs
    are used (a partial assignment)."""
    from scipy.optimize import linear_sum_assignment

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("EMD of an empty point set")
    cost = np.linalg.norm(a[:, None] - b[None], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def validated_points(
    points, what: str = "points", error: type[Exception] = ValueError
) -> np.ndarray:
    """(N, 3) float32 copy of ``points``; raises ``error`` naming ``what`` and the problem
    (wrong shape, empty, non-finite values with their count and first index)."""
    p = np.asarray(points, np.float32)
    if p.ndim != 2 or p.shape[1] != 3:
        raise error(f"{what} must be (N, 3) points, got shape {p.shape}")
    if len(p) == 0:
        raise error(f"{what} is empty (0 points)")
    bad = ~np.isfinite(p).all(1)
    if bad.any():
        raise error(
            f"{what} has {int(bad.sum())} non-finite points (first at index {int(np.argmax(bad))})"
        )
    return p
