"""Target object configurations: the presets of the Plan action and helpers. ROS-free, numpy.

All points are (N, 3) [m] in the world frame (z up).
"""

from __future__ import annotations

import math

import numpy as np

from gs_common.names import WORLD_FRAME
from gs_common.pointsets import centreline_samples, validated_points

PRESETS = ("straight_line", "translate", "rotate", "relocate")
LINE_POINTS = 64  # points of a straight-line target (resampled for the cost)


class InvalidTargetError(ValueError):
    """A target that cannot be planned for; the message names the value."""


def object_length(points: np.ndarray) -> float:
    """Length [m] of a rope-like point set (M, 3): the longest path in its Euclidean minimum
    spanning tree (order-free, so it works for tracked, unordered particles)."""
    from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path
    from scipy.spatial.distance import cdist

    p = np.asarray(points, np.float64)
    if len(p) < 2:
        return 0.0
    mst = minimum_spanning_tree(cdist(p, p))
    d = shortest_path(mst, directed=False)
    return float(d[np.isfinite(d)].max())


CENTRELINE_SPACING = 0.03  # [m] sample spacing of centreline_length (about 2 rope diameters)


def centreline_length(points: np.ndarray, spacing: float = CENTRELINE_SPACING) -> float:
    """Length [m] of a rope-like object from any sampling of its surface (M, 3): tracked
    particles, simulator vertices or a segmented cloud many points wide. The object's
    :func:`object_length` is measured on local centroids: farthest-point samples at least
    ``spacing`` apart, each replaced by the mean of the points within 0.75 ``spacing``, plus
    ``spacing`` / 2 for the ends the centroids pull in. (The tree path over a dense cloud
    zig-zags across the rope's width: 0.88 m for a 0.45 m rope; this gives 0.43-0.45 m on
    simulated ropes and on such clouds, tested.)"""
    if len(points) < 2:
        return 0.0
    return object_length(centreline_samples(points, spacing)) + 0.5 * spacing


def principal_yaw(points: np.ndarray) -> float:
    """Direction [rad] of the largest principal axis of the points' xy spread."""
    xy = np.asarray(points, np.float64)[:, :2]
    xy = xy - xy.mean(0)
    w, v = np.linalg.eigh(xy.T @ xy)
    a = v[:, int(np.argmax(w))]
    return math.atan2(a[1], a[0])


def straight_line(
    x: float, y: float, yaw: float, length: float, z: float = 0.0, n: int = LINE_POINTS
) -> np.ndarray:
    """(n, 3) points evenly spaced on a segment centred at (x, y), direction yaw [rad]."""
    s = np.linspace(-length / 2, length / 2, n)
    return np.stack([x + s * math.cos(yaw), y + s * math.sin(yaw), np.full(n, z)], 1).astype(
        np.float32
    )


def translate(points: np.ndarray, dx: float, dy: float) -> np.ndarray:
    return (np.asarray(points, np.float32) + np.array([dx, dy, 0.0], np.float32)).astype(np.float32)


def rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """Points rotated by ``angle`` [rad] about the vertical axis through their centroid."""
    p = np.asarray(points, np.float64)
    c = p.mean(0)
    r = np.array(
        [[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]]
    )
    return ((p - c) @ r.T + c).astype(np.float32)


def relocate(points: np.ndarray, dx: float, dy: float, angle: float) -> np.ndarray:
    """Points moved to a new pose: rotated by ``angle`` [rad] about the vertical axis
    through their centroid, then translated by (dx, dy) [m] (the centroid moves by exactly
    (dx, dy); the shape is unchanged). Relocation tasks (toy, cloth) use it as the target."""
    return translate(rotate(points, angle), dx, dy)


def preset_target(
    name: str,
    current: np.ndarray,
    x: float = 0.0,
    y: float = 0.0,
    yaw: float = 0.0,
    length: float = 0.0,
    n: int = LINE_POINTS,
) -> np.ndarray:
    """Target points of a preset (see action/Plan.action) for the observed object ``current``.

    straight_line: ``n`` points on a segment centred at (x, y) with direction ``yaw`` and
    ``length`` (<= 0: the object's current length, :func:`centreline_length`), at the
    object's median height;
    translate: the current points moved by (x, y); rotate: rotated by ``yaw`` about their
    centroid; relocate: rotated by ``yaw`` about their centroid, then moved by (x, y)
    (:func:`relocate`).
    """
    for key, v in (
        ("preset_x", x),
        ("preset_y", y),
        ("preset_yaw", yaw),
        ("preset_length", length),
    ):
        if not math.isfinite(v):
            raise InvalidTargetError(f"{key} = {v} is not finite")
    cur = np.asarray(current, np.float32)
    if name == "straight_line":
        ln = length if length > 0 else centreline_length(cur)
        if ln <= 0:
            raise InvalidTargetError("straight_line: the object's length is 0")
        return straight_line(x, y, yaw, ln, float(np.median(cur[:, 2])), n)
    if name == "translate":
        return translate(cur, x, y)
    if name == "rotate":
        return rotate(cur, yaw)
    if name == "relocate":
        return relocate(cur, x, y, yaw)
    raise InvalidTargetError(f"target_preset = {name!r} is not one of {['', *PRESETS]}")


def check_target(
    points: np.ndarray,
    workspace: tuple[float, float, float, float],
    margin: float,
    frame_id: str | None = None,
) -> np.ndarray:
    """Validated (M, 3) float32 target; raises InvalidTargetError naming the problem.

    workspace: (x_min, x_max, y_min, y_max) of the pusher [m]; target points may lie up to
    ``margin`` [m] outside it (the object can be pushed from inside), no further.
    """
    if frame_id is not None and frame_id != WORLD_FRAME:
        raise InvalidTargetError(f"target frame_id = {frame_id!r}; expected '{WORLD_FRAME}'")
    p = validated_points(points, "target", InvalidTargetError)
    x0, x1, y0, y1 = workspace
    out = (
        (p[:, 0] < x0 - margin)
        | (p[:, 0] > x1 + margin)
        | (p[:, 1] < y0 - margin)
        | (p[:, 1] > y1 + margin)
    )
    if out.any():
        i = int(np.argmax(out))
        raise InvalidTargetError(
            f"target is unreachable: point {i} at ({p[i, 0]:.3f}, {p[i, 1]:.3f}) m is more than "
            f"{margin:.3f} m outside the workspace x in [{x0:.3f}, {x1:.3f}], "
            f"y in [{y0:.3f}, {y1:.3f}] ({int(out.sum())} points outside)"
        )
    return p
