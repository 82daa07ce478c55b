"""Marker construction for the stack's visualisation: plain numpy in, :class:`MarkerSpec` out.

ROS-free (no rclpy, no message classes): ``gs_viz.markers_node`` translates every
MarkerSpec field 1:1 into a ``visualization_msgs/Marker``. All coordinates are metres in
``world`` (table frame, z up); colours are RGBA in [0, 1].

What is drawn (namespace -> content):

- ``push``            one ARROW per planned push, from the start point along theta for its length
- ``push_label``      a TEXT_VIEW_FACING "push i" above each arrow's start
- ``predicted_paths`` one LINE_LIST: every particle's predicted path, one segment per model
  step, each vertex coloured by its step (time colour map, early -> late)
- ``predicted_states`` one SPHERE_LIST: the particles at a few steps of the prediction,
  coloured by step (the final state is the last colour of the map)
- ``ee_path``         LINE_STRIP per push of the end-effector (tool vertex) positions
- ``target``          SPHERE_LIST of the goal's target configuration
- ``workspace``       LINE_LIST of the 12 edges of the pusher's workspace box
- ``particles``       SPHERE_LIST of the control particles the dynamics model sees
- ``edges``           LINE_LIST of their graph edges (the model's radius / top-k graph)
- ``camera``          LINE_LIST view pyramid per camera of the rig (+ ``camera_label``)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

from gs_common.workcell import WORKSPACE_X, WORKSPACE_Y

# visualization_msgs/Marker type and action constants (the message's own values).
ARROW, CUBE, SPHERE, CYLINDER, LINE_STRIP, LINE_LIST = 0, 1, 2, 3, 4, 5
CUBE_LIST, SPHERE_LIST, POINTS, TEXT_VIEW_FACING = 6, 7, 8, 9
ADD, DELETE, DELETEALL = 0, 2, 3

# the pusher workspace x, y [m] (gs_common.workcell, the single source the simulator reads)
# and the simulator's maximum push height [m] (gs_sim setting workspace_z_max; a unit test
# keeps them equal)
SIM_WORKSPACE = (WORKSPACE_X, WORKSPACE_Y, 0.15)
TIME_COLORMAP = "viridis"  # early steps dark blue -> late steps yellow
PUSH_COLOR = (1.0, 0.35, 0.05, 1.0)  # orange
EE_COLOR = (0.9, 0.1, 0.6, 0.9)  # magenta
TARGET_COLOR = (0.1, 0.8, 0.25, 0.55)  # green
WORKSPACE_COLOR = (0.55, 0.55, 0.6, 1.0)  # grey
PARTICLE_COLOR = (0.15, 0.45, 1.0, 1.0)  # blue
EDGE_COLOR = (0.6, 0.75, 1.0, 0.6)  # light blue


@dataclasses.dataclass
class MarkerSpec:
    """One visualization_msgs/Marker, field for field (frame ``world``).

    points: (K, 3) float64 [m]; colors: (K, 4) RGBA per point or None (use ``color``);
    position / orientation: the marker pose (xyzw quaternion); scale: marker-type specific
    (ARROW with points: shaft diameter, head diameter, head length; lists: sphere size or
    line width; TEXT: z = text height); lifetime: seconds, 0 = until replaced or deleted.
    """

    ns: str
    id: int
    type: int
    scale: tuple[float, float, float]
    color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    points: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 3)))
    colors: np.ndarray | None = None
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    text: str = ""
    lifetime: float = 0.0
    action: int = ADD

    @property
    def key(self) -> tuple[str, int]:
        return (self.ns, self.id)


def delete_marker(ns: str, marker_id: int) -> MarkerSpec:
    return MarkerSpec(ns=ns, id=marker_id, type=ARROW, scale=(1.0, 1.0, 1.0), action=DELETE)


def deletions(previous: Iterable[tuple[str, int]], current: Sequence[MarkerSpec]):
    """DELETE markers for the (ns, id) keys of ``previous`` that ``current`` no longer draws
    (e.g. a plan with fewer pushes than the last one)."""
    now = {m.key for m in current}
    return [delete_marker(ns, i) for ns, i in sorted(set(previous) - now)]


def time_colors(num_steps: int, colormap: str = TIME_COLORMAP) -> np.ndarray:
    """(num_steps, 4) RGBA of steps 0..num_steps-1, early -> late along ``colormap``."""
    from matplotlib import colormaps

    t = np.linspace(0.0, 1.0, max(num_steps, 1))
    return np.asarray(colormaps[colormap](t), np.float64)[:num_steps]


# --------------------------------------------------------------------------------------
# A plan (gs_dynamics_interfaces/PredictedStates) as arrays


@dataclasses.dataclass
class Plan:
    """A predicted plan, unflattened.

    positions: (T+1, N, 3) particle positions [m], world, step 0 = start state;
    ee_positions: (T+1, 3) tool vertex [m] or (0, 3) when absent;
    pushes: (P, 4) x [m], y [m], theta [rad], length [m]; push_start_step: (P,) int.
    """

    positions: np.ndarray
    ee_positions: np.ndarray
    pushes: np.ndarray
    push_start_step: np.ndarray


def plan_from_flat(
    num_steps: int,
    num_particles: int,
    positions: Sequence[float],
    ee_positions: Sequence[float],
    pushes: Sequence[Sequence[float]],
    push_start_step: Sequence[int],
) -> Plan:
    """Unflatten a PredictedStates message's arrays; raises ValueError naming the field
    and value that do not fit the declared shapes."""
    t1, n = int(num_steps) + 1, int(num_particles)
    pos = np.asarray(positions, np.float64)
    if n <= 0:
        raise ValueError(f"num_particles = {num_particles} must be > 0")
    if pos.size != t1 * n * 3:
        raise ValueError(
            f"positions has {pos.size} values, expected (num_steps + 1) * num_particles * 3 "
            f"= {t1} * {n} * 3 = {t1 * n * 3}"
        )
    if not np.isfinite(pos).all():
        raise ValueError("positions contains non-finite values")
    ee = np.asarray(ee_positions, np.float64)
    if ee.size not in (0, t1 * 3):
        raise ValueError(f"ee_positions has {ee.size} values, expected 0 or {t1 * 3}")
    push_arr = np.asarray(pushes, np.float64).reshape(-1, 4)
    if not np.isfinite(push_arr).all():
        raise ValueError(f"pushes contain non-finite values: {push_arr.tolist()}")
    if (push_arr[:, 3] < 0).any():
        raise ValueError(f"push lengths must be >= 0, got {push_arr[:, 3].tolist()}")
    starts = np.asarray(push_start_step, np.int64).reshape(-1)
    if starts.size not in (0, len(push_arr)):
        raise ValueError(f"push_start_step has {starts.size} entries for {len(push_arr)} pushes")
    return Plan(pos.reshape(t1, n, 3), ee.reshape(-1, 3), push_arr, starts)


# --------------------------------------------------------------------------------------
# Builders


def push_markers(
    pushes: np.ndarray, height: float, lifetime: float = 0.0, ns: str = "push"
) -> list[MarkerSpec]:
    """ARROW (start -> end at ``height`` [m]) and a label per push; pushes (P, 4)."""
    out = []
    for i, (x, y, theta, length) in enumerate(np.asarray(pushes, np.float64).reshape(-1, 4)):
        start = np.array([x, y, height])
        end = start + length * np.array([np.cos(theta), np.sin(theta), 0.0])
        out.append(
            MarkerSpec(
                ns=ns,
                id=i,
                type=ARROW,
                scale=(0.006, 0.016, 0.02),
                color=PUSH_COLOR,
                points=np.stack([start, end]),
                lifetime=lifetime,
            )
        )
        out.append(
            MarkerSpec(
                ns=f"{ns}_label",
                id=i,
                type=TEXT_VIEW_FACING,
                scale=(0.0, 0.0, 0.02),
                color=PUSH_COLOR,
                position=(
                    float(x - 0.025 * np.cos(theta)),
                    float(y - 0.025 * np.sin(theta)),
                    float(height) + 0.03,
                ),
                text=f"push {i + 1}",
                lifetime=lifetime,
            )
        )
    return out


def path_segments(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line-list vertices of every particle's path: positions (T+1, N, 3) ->
    (2 * T * N, 3) vertices (segment k of particle j joins steps k and k+1) and
    (2 * T * N,) the step index of each vertex."""
    t1, n, _ = positions.shape
    if t1 < 2:
        return np.zeros((0, 3)), np.zeros(0, np.int64)
    a, b = positions[:-1], positions[1:]  # (T, N, 3)
    verts = np.stack([a, b], axis=2).reshape(-1, 3)  # (T, N, 2, 3) -> step-major
    steps = np.stack(
        [np.repeat(np.arange(t1 - 1), n), np.repeat(np.arange(1, t1), n)], axis=1
    ).reshape(-1)
    return verts, steps


def plan_markers(
    plan: Plan,
    push_height: float = 0.005,
    lifetime: float = 0.0,
    num_state_snapshots: int = 5,
    line_width: float = 0.0025,
    sphere_size: float = 0.008,
) -> list[MarkerSpec]:
    """Pushes, predicted paths (coloured by step), snapshots of the predicted states and the
    end-effector path of one plan."""
    pos = plan.positions
    t1 = pos.shape[0]
    colors = time_colors(t1)
    out = push_markers(plan.pushes, push_height, lifetime)
    verts, steps = path_segments(pos)
    if len(verts):
        out.append(
            MarkerSpec(
                ns="predicted_paths",
                id=0,
                type=LINE_LIST,
                scale=(line_width, 0.0, 0.0),
                points=verts,
                colors=colors[steps],
                lifetime=lifetime,
            )
        )
    snap = np.unique(np.linspace(0, t1 - 1, max(2, num_state_snapshots)).round().astype(int))
    snap_steps = np.repeat(snap, pos.shape[1])
    out.append(
        MarkerSpec(
            ns="predicted_states",
            id=0,
            type=SPHERE_LIST,
            scale=(sphere_size,) * 3,
            points=pos[snap].reshape(-1, 3),
            colors=colors[snap_steps],
            lifetime=lifetime,
        )
    )
    for i, strip in enumerate(ee_strips(plan)):
        out.append(
            MarkerSpec(
                ns="ee_path",
                id=i,
                type=LINE_STRIP,
                scale=(0.004, 0.0, 0.0),
                color=EE_COLOR,
                points=strip,
                lifetime=lifetime,
            )
        )
    return out


def ee_strips(plan: Plan) -> list[np.ndarray]:
    """The end-effector path per push, without a line across the travel between pushes.

    State s_i = push_start_step[i] is where push i starts acting (the tool of that state is
    still at the previous push's end), so push i's strip is its start point followed by the
    tool positions of states s_i + 1 .. s_{i+1} (s_P = T). Without per-push start steps the
    whole path is one strip. Strips have at least two positions."""
    ee = plan.ee_positions
    if len(ee) < 2:
        return []
    starts = [int(v) for v in plan.push_start_step]
    if len(starts) != len(plan.pushes) or not starts:
        return [ee]
    ends = [*starts[1:], len(ee) - 1]
    strips = []
    for (x, y, _, _), a, b in zip(plan.pushes, starts, ends, strict=True):
        if not 0 <= a < b < len(ee):
            continue
        start = np.array([[x, y, ee[a + 1, 2]]])
        strips.append(np.concatenate([start, ee[a + 1 : b + 1]]))
    return strips


def target_markers(points: np.ndarray, sphere_size: float = 0.01) -> list[MarkerSpec]:
    """The goal's target configuration: points (M, 3) [m]."""
    return [
        MarkerSpec(
            ns="target",
            id=0,
            type=SPHERE_LIST,
            scale=(sphere_size,) * 3,
            color=TARGET_COLOR,
            points=np.asarray(points, np.float64).reshape(-1, 3),
        )
    ]


def box_edges(lo: Sequence[float], hi: Sequence[float]) -> np.ndarray:
    """(24, 3) line-list vertices of the 12 edges of the axis-aligned box [lo, hi]."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    corners = np.array([[(hi if (c >> k) & 1 else lo)[k] for k in range(3)] for c in range(8)])
    pairs = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]
    return corners[np.array(pairs).reshape(-1)]


def workspace_markers(
    x_range: Sequence[float], y_range: Sequence[float], z_max: float, line_width: float = 0.002
) -> list[MarkerSpec]:
    """The pusher's workspace box x_range x y_range x [0, z_max] [m]."""
    lo = (x_range[0], y_range[0], 0.0)
    hi = (x_range[1], y_range[1], z_max)
    return [
        MarkerSpec(
            ns="workspace",
            id=0,
            type=LINE_LIST,
            scale=(line_width, 0.0, 0.0),
            color=WORKSPACE_COLOR,
            points=box_edges(lo, hi),
        )
    ]


def graph_edges(points: np.ndarray, radius: float, topk: int) -> np.ndarray:
    """(E, 2) undirected object-object edges (i < j) of the dynamics model's graph over
    ``points`` (N, 3) [m]: gs_gnn_dynamics.graph.build_graph with the same radius / top-k."""
    import torch

    from gs_gnn_dynamics.graph import build_graph

    pts = torch.as_tensor(np.asarray(points, np.float32).reshape(1, -1, 3))
    n = pts.shape[1]
    if n < 2:
        return np.zeros((0, 2), np.int64)
    graph = build_graph(pts, pts.new_zeros(1, 0, 3), None, radius, topk, 0.0)
    senders = graph.senders[0].numpy()  # (N, S)
    valid = graph.valid[0].numpy() & ~graph.is_tool[0].numpy()
    recv = np.broadcast_to(np.arange(n)[:, None], senders.shape)
    pairs = np.stack([recv[valid], senders[valid]], 1)
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else np.zeros((0, 2), np.int64)


def particle_markers(
    points: np.ndarray,
    edges: np.ndarray,
    lifetime: float = 0.0,
    sphere_size: float = 0.008,
    line_width: float = 0.0015,
) -> list[MarkerSpec]:
    """Control particles (N, 3) [m] and their graph edges (E, 2) (indices into points)."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    e = np.asarray(edges, np.int64).reshape(-1, 2)
    return [
        MarkerSpec(
            ns="particles",
            id=0,
            type=SPHERE_LIST,
            scale=(sphere_size,) * 3,
            color=PARTICLE_COLOR,
            points=pts,
            lifetime=lifetime,
        ),
        MarkerSpec(
            ns="edges",
            id=0,
            type=LINE_LIST,
            scale=(line_width, 0.0, 0.0),
            color=EDGE_COLOR,
            points=pts[e.reshape(-1)] if len(e) else np.zeros((0, 3)),
            lifetime=lifetime,
        ),
    ]


CAMERA_COLOR = (0.95, 0.95, 0.3, 1.0)  # yellow


def frustum_edges(intrinsics, world_from_camera: np.ndarray, depth: float) -> np.ndarray:
    """(16, 3) line-list vertices of a camera's view pyramid [m], world: 4 edges from the
    optical centre to the image corners at ``depth`` along the optical axis (OpenCV frame:
    z forward) and the 4 edges of that image rectangle."""
    k = intrinsics
    corners = np.array(
        [
            [(u - k.cx) / k.fx * depth, (v - k.cy) / k.fy * depth, depth]
            for u, v in ((0, 0), (k.width, 0), (k.width, k.height), (0, k.height))
        ]
    )
    world = corners @ world_from_camera[:3, :3].T + world_from_camera[:3, 3]
    apex = world_from_camera[:3, 3]
    verts = []
    for i in range(4):
        verts += [apex, world[i], world[i], world[(i + 1) % 4]]
    return np.asarray(verts)


def camera_markers(
    names: Sequence[str], intrinsics, world_from_camera: np.ndarray, depth: float = 0.08
) -> list[MarkerSpec]:
    """View pyramids and name labels of the rig's cameras; world_from_camera (C, 4, 4)."""
    out = []
    for i, (name, k, pose) in enumerate(zip(names, intrinsics, world_from_camera, strict=True)):
        out.append(
            MarkerSpec(
                ns="camera",
                id=i,
                type=LINE_LIST,
                scale=(0.002, 0.0, 0.0),
                color=CAMERA_COLOR,
                points=frustum_edges(k, pose, depth),
            )
        )
        px, py, pz = (float(v) for v in pose[:3, 3])
        out.append(
            MarkerSpec(
                ns="camera_label",
                id=i,
                type=TEXT_VIEW_FACING,
                scale=(0.0, 0.0, 0.03),
                color=CAMERA_COLOR,
                position=(px, py, pz + 0.04),
                text=name,
            )
        )
    return out
