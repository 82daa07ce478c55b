"""Deformable objects (MuJoCo ``flexcomp``): rope (dim 1), cloth (dim 2), stuffed toy (dim 3,
a textured plush block).

Every object is described by an :class:`ObjectParams` (physical parameters, SI units) and a
seeded randomization of its shape and initial configuration (:func:`sample_object`), and is
turned into an MJCF ``<flexcomp>`` element by :func:`object_mjcf`. The object rests on the
table (``z = 0`` in the world frame) near the workspace centre.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

OBJECT_TYPES = ("rope", "cloth", "toy")
FLEX_NAME = "object"


@dataclasses.dataclass(frozen=True)
class ObjectParams:
    """Physical parameters of a deformable object.

    size: characteristic size [m] (rope length, cloth side, toy diameter).
    stiffness: Young's modulus [Pa] for cloth/toy elasticity; edge spring stiffness [N/m]
        for the rope (0 = inextensible edges via equality constraints only).
    damping: material damping (flex ``damping`` [s] / edge damping).
    friction: sliding friction coefficient with table and pusher.
    mass: total mass [kg].
    radius: collision radius of the flex elements [m] (rope/cloth thickness / 2).
    """

    kind: str = "rope"
    size: float = 0.45
    stiffness: float = 0.0
    damping: float = 0.02
    friction: float = 0.6
    mass: float = 0.05
    radius: float = 0.008
    resolution: int = 24

    def validate(self) -> None:
        if self.kind not in OBJECT_TYPES:
            raise ValueError(f"object type {self.kind!r} is not one of {OBJECT_TYPES}")
        checks = {
            "size": (self.size, 0.02, 1.0),
            "stiffness": (self.stiffness, 0.0, 1e9),
            "damping": (self.damping, 0.0, 1e3),
            "friction": (self.friction, 0.0, 5.0),
            "mass": (self.mass, 1e-4, 10.0),
            "radius": (self.radius, 1e-4, 0.05),
        }
        for name, (value, lo, hi) in checks.items():
            if not (math.isfinite(value) and lo <= value <= hi):
                raise ValueError(f"object {name}={value!r} must be in [{lo}, {hi}]")
        if not 3 <= self.resolution <= 64:
            raise ValueError(f"object resolution={self.resolution!r} must be in [3, 64]")


DEFAULT_PARAMS = {
    "rope": ObjectParams(
        "rope",
        size=0.45,
        stiffness=0.0,
        damping=0.05,
        friction=0.7,
        mass=0.04,
        radius=0.008,
        resolution=30,
    ),
    "cloth": ObjectParams(
        "cloth",
        size=0.22,
        stiffness=0.0,
        damping=0.02,
        friction=0.7,
        mass=0.03,
        radius=0.004,
        resolution=9,
    ),
    "toy": ObjectParams(
        "toy",
        size=0.12,
        stiffness=3e3,
        damping=0.02,
        friction=0.8,
        mass=0.08,
        radius=0.002,
        resolution=5,
    ),
}


@dataclasses.dataclass(frozen=True)
class ObjectInstance:
    """A sampled object: parameters + initial configuration.

    points: (V, 3) float64 initial vertex positions [m], world frame (direct flexcomp) or
        None for generated shapes (cloth/toy use flexcomp generators placed by pos/yaw).
    elements: (E, dim+1) int vertex indices of the elements (direct flexcomp) or None.
    center: (3,) object centre [m]; yaw: rotation about world z [rad];
    scale: (3,) per-axis size factors for cloth/toy.
    """

    params: ObjectParams
    points: np.ndarray | None
    elements: np.ndarray | None
    center: np.ndarray
    yaw: float
    scale: np.ndarray


def default_params(kind: str, **overrides) -> ObjectParams:
    if kind not in DEFAULT_PARAMS:
        raise ValueError(f"object type {kind!r} is not one of {OBJECT_TYPES}")
    params = dataclasses.replace(DEFAULT_PARAMS[kind], **overrides)
    params.validate()
    return params


def _rope_polyline(rng: np.random.Generator, length: float, n: int) -> np.ndarray:
    """A smooth random planar curve of arc length ``length`` with ``n`` vertices, (n, 2) [m]."""
    seg = length / (n - 1)
    curvature_amp = rng.uniform(0.0, 6.0)  # [1/m]
    phase = rng.uniform(0, 2 * math.pi)
    freq = rng.uniform(0.5, 1.5)
    s = np.arange(n - 1) * seg
    heading = np.cumsum(curvature_amp * np.sin(2 * math.pi * freq * s / length + phase) * seg)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=1) * seg
    pts = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
    return pts - pts.mean(axis=0)


ROPE_SHAPES = ("random", "u", "s")
"""Initial rope shapes: a smooth random curve (seeded), a U (one arc turning
:data:`U_TURN_DEG`) or an S (two opposite arcs turning :data:`S_TURN_DEG` each)."""
U_TURN_DEG = 150.0
S_TURN_DEG = 120.0


def _bent_polyline(shape: str, length: float, n: int) -> np.ndarray:
    """(n, 2) [m] vertices of a U or S of arc length ``length``, centred at the origin."""
    s = np.arange(n - 1) / (n - 1)  # arc-length fraction at each segment's start
    if shape == "u":
        heading = math.radians(U_TURN_DEG) * (s - 0.5)
    else:  # "s": turn one way over the first half, back over the second
        heading = math.radians(S_TURN_DEG) * (1.0 - np.abs(2.0 * s - 1.0) - 0.5)
    seg = length / (n - 1)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=1) * seg
    pts = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
    return pts - pts.mean(axis=0)


def sample_object(
    params: ObjectParams,
    rng: np.random.Generator,
    randomize: bool = True,
    rope_shape: str = "random",
) -> ObjectInstance:
    """Sample shape and initial configuration (seeded by ``rng``). ``rope_shape`` (rope
    only, one of :data:`ROPE_SHAPES`): ``random`` samples the curve from ``rng`` (a straight
    rope without ``randomize``); ``u`` / ``s`` fix the curve, ``rng`` still places and
    turns it."""
    params.validate()
    if rope_shape not in ROPE_SHAPES:
        raise ValueError(f"rope_shape {rope_shape!r} is not one of {ROPE_SHAPES}")
    center = np.zeros(3)
    yaw = 0.0
    scale = np.ones(3)
    if randomize:
        center[:2] = rng.uniform(-0.04, 0.04, size=2)
        yaw = float(rng.uniform(-math.pi, math.pi))
    points = elements = None
    if params.kind == "rope":
        n = params.resolution
        if rope_shape != "random":
            xy = _bent_polyline(rope_shape, params.size, n)
        elif randomize:
            xy = _rope_polyline(rng, params.size, n)
        else:
            xy = np.stack([np.linspace(-params.size / 2, params.size / 2, n), np.zeros(n)], 1)
        c, s = math.cos(yaw), math.sin(yaw)
        xy = xy @ np.array([[c, s], [-s, c]]) + center[:2]
        points = np.concatenate([xy, np.full((n, 1), params.radius + 0.001)], axis=1)
        elements = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    elif params.kind == "cloth":
        if randomize:
            scale = np.array([rng.uniform(0.8, 1.2), rng.uniform(0.8, 1.2), 1.0])
        center[2] = params.radius + 0.001
    else:
        if randomize:
            scale = np.array([rng.uniform(0.9, 1.4), rng.uniform(0.8, 1.1), rng.uniform(0.6, 0.9)])
        else:
            scale = np.array([1.2, 1.0, 0.75])
        center[2] = params.size * scale[2] / 2 + 0.002
    return ObjectInstance(params, points, elements, center, yaw, scale)


def _fmt(values) -> str:
    return " ".join(f"{v:.6g}" for v in np.asarray(values).ravel())


def object_mjcf(obj: ObjectInstance, rgba: str = "0.85 0.35 0.15 1") -> str:
    """MJCF ``<flexcomp>`` element for ``obj`` (to be placed in ``<worldbody>``)."""
    p = obj.params
    contact = (
        f'<contact condim="3" friction="{p.friction:g} 0.005 0.0001" '
        f'selfcollide="none" solref="0.004 1"/>'
    )
    quat = f"{math.cos(obj.yaw / 2):.6g} 0 0 {math.sin(obj.yaw / 2):.6g}"
    if p.kind == "rope":
        edge = f'<edge equality="true" damping="{p.damping:g}" stiffness="{p.stiffness:g}"/>'
        return (
            f'<flexcomp name="{FLEX_NAME}" type="direct" dim="1" radius="{p.radius:g}" '
            f'mass="{p.mass:g}" rgba="{rgba}" point="{_fmt(obj.points)}" '
            f'element="{_fmt(obj.elements.astype(int))}">{edge}{contact}</flexcomp>'
        )
    if p.kind == "cloth":
        n = p.resolution
        spacing = p.size / (n - 1)
        sx, sy = spacing * obj.scale[0], spacing * obj.scale[1]
        return (
            f'<flexcomp name="{FLEX_NAME}" type="grid" dim="2" count="{n} {n} 1" '
            f'spacing="{sx:.6g} {sy:.6g} {spacing:.6g}" radius="{p.radius:g}" '
            f'mass="{p.mass:g}" rgba="{rgba}" pos="{_fmt(obj.center)}" quat="{quat}">'
            f'<edge equality="true" damping="{p.damping:g}"/>{contact}</flexcomp>'
        )
    # The toy is a plush block (a box of trilinear elastic material), not an ellipsoid: an
    # ellipsoid pushed at its curved underside rolls over like a rigid egg (measured on
    # seeds 5000-5002: flipped 170 degrees, then rocked 3-30 cm with the pusher away),
    # which a stuffed toy resting on its belly does not do.
    n = p.resolution
    spacing = p.size / (n - 1) * obj.scale
    return (
        f'<flexcomp name="{FLEX_NAME}" type="box" dim="3" count="{n} {n} {n}" '
        'material="toy_fabric" '
        f'spacing="{_fmt(spacing)}" radius="{p.radius:g}" mass="{p.mass:g}" rgba="{rgba}" '
        f'pos="{_fmt(obj.center)}" quat="{quat}" dof="trilinear">'
        f'<elasticity young="{p.stiffness:g}" poisson="0.3" damping="{p.damping:g}"/>'
        f"{contact}</flexcomp>"
    )
