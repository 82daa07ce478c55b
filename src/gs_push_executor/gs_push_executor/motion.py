"""A straight push -> a checked, time-parameterized joint trajectory. ROS-free.

Motion (tip positions in ``world``, z up, metres): from where the tip is, straight up to the
transit height; over to above the push start; descend; push to the end at constant speed;
lift; retreat to the retreat point. Every segment has a trapezoidal speed profile (the push
segment reaches the requested speed after ``speed**2 / (2 * accel)`` metres and keeps it).

Before anything moves, :func:`plan_push` checks the goal against the workspace box and push
limits, the IK reach along the whole path (tip error, tool axis), joint limits, joint
velocity limits (transit segments are slowed down to respect them; a push that would need
too fast joints is rejected), clearance of every link above the table, and a coarse
self-proximity check between link origins. Every rejection raises :class:`PushRejected` with
a message naming the violated limit and the value.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

# one push validation for every executor (re-exported here for the node and tests)
from gs_common.push import PushGoal, PushLimits, PushRejected, Workspace, validate_push  # noqa: F401
from gs_push_executor.kinematics import PusherKinematics


@dataclasses.dataclass(frozen=True)
class MotionLimits(PushLimits):
    """Push limits and motion settings (SI units).

    default_height / default_speed: used when a goal gives <= 0; min/max_length [m];
    max_speed: fastest push [m/s]; transit_height: tip height between pushes [m];
    transit_speed [m/s] (the descent and lift at half of it); accel: tip acceleration of
    every segment's ramps [m/s^2]; retreat: (3,) tip point after the push [m, world];
    velocity_scale: fraction of the URDF joint velocity limits that may be used;
    sample_dt: trajectory sample spacing [s] (also bounded to <= max_sample_spacing [m]
    of tip travel); ik_tolerance [m] / axis_tolerance [rad]: reach limits;
    table_clearance: minimum height of every link origin above the table [m] (the tip is
    checked against min_tip_height [m]); self_margin: minimum distance between origins of
    links at least 3 apart in the chain [m]; max_joint_step: largest joint change between
    samples [rad] (continuity: no IK branch jump). The goal limits (default_height,
    default_speed, min/max_length, max_speed, min_tip_height) are gs_common.push's, the
    push validation every executor shares.
    """

    max_speed: float = 0.3
    transit_height: float = 0.15
    transit_speed: float = 0.25
    accel: float = 0.5
    retreat: tuple[float, float, float] = (-0.22, 0.0, 0.25)
    velocity_scale: float = 0.5
    sample_dt: float = 0.02
    max_sample_spacing: float = 0.005
    ik_tolerance: float = 1e-3
    axis_tolerance: float = math.radians(2.0)
    table_clearance: float = 0.03
    self_margin: float = 0.05
    max_joint_step: float = 0.1


@dataclasses.dataclass
class JointPlan:
    """A time-parameterized joint trajectory with its Cartesian tip path.

    times: (T,) [s] from the start, strictly increasing; q: (T, n) [rad]; qd: (T, n)
    [rad/s]; tip: (T, 3) planned tip positions [m, world]; segment: (T,) int index of the
    segment each sample belongs to; names: segment names; push_segment: index of the push
    segment (-1: none); joint_names: (n,).
    """

    times: np.ndarray
    q: np.ndarray
    qd: np.ndarray
    tip: np.ndarray
    segment: np.ndarray
    names: list[str]
    push_segment: int
    joint_names: list[str]

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    def push_window(self) -> tuple[int, int]:
        """First and last sample index of the push segment."""
        idx = np.nonzero(self.segment == self.push_segment)[0]
        # the push starts at the previous segment's last sample (shared end point)
        return (max(int(idx[0]) - 1, 0), int(idx[-1])) if idx.size else (0, 0)

    def push_progress(self, index: float) -> float:
        """Fraction 0..1 of the push done when the arm is at sample ``index``."""
        a, b = self.push_window()
        if b <= a:
            return 1.0 if index >= len(self.times) - 1 else 0.0
        return float(min(max((index - a) / (b - a), 0.0), 1.0))

    def position_at(self, t: float) -> np.ndarray:
        """(n,) joints at time ``t`` [s] (linear interpolation, clamped to the ends)."""
        t = min(max(t, 0.0), self.duration)
        i = int(np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2))
        t0, t1 = self.times[i], self.times[i + 1]
        a = 0.0 if t1 <= t0 else (t - t0) / (t1 - t0)
        return self.q[i] + a * (self.q[i + 1] - self.q[i])


def _trapezoid(
    length: float, speed: float, accel: float, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sample times (K,) [s] from 0 and travelled distance (K,) [m] of a rest-to-rest
    trapezoidal profile (triangular when too short to reach ``speed``)."""
    if length <= 1e-9:
        return np.zeros(1), np.zeros(1)
    t_ramp = speed / accel
    if accel * t_ramp**2 >= length:  # triangular
        t_ramp = math.sqrt(length / accel)
        speed = accel * t_ramp
        t_flat = 0.0
    else:
        t_flat = (length - accel * t_ramp**2) / speed
    total = 2 * t_ramp + t_flat
    k = max(2, math.ceil(total / dt) + 1)
    t = np.linspace(0.0, total, k)
    s = np.where(
        t < t_ramp,
        0.5 * accel * t**2,
        np.where(
            t <= t_ramp + t_flat,
            0.5 * accel * t_ramp**2 + speed * (t - t_ramp),
            length - 0.5 * accel * np.maximum(total - t, 0.0) ** 2,
        ),
    )
    return t, np.clip(s, 0.0, length)


def _segments(goal: PushGoal | None, tip_now, limits: MotionLimits, lift_only: bool):
    zt = max(limits.transit_height, goal.height if goal else 0.0)
    tip_now = np.asarray(tip_now, float)
    lift = np.array([tip_now[0], tip_now[1], max(zt, tip_now[2])])
    vt = limits.transit_speed
    if lift_only:
        return [("lift", tip_now, lift, vt * 0.5)]
    a = np.array([*goal.start, zt])
    s = np.array([*goal.start, goal.height])
    e = np.array([*goal.end, goal.height])
    b = np.array([*goal.end, zt])
    return [
        ("lift", tip_now, lift, vt * 0.5),
        ("approach", lift, a, vt),
        ("descend", a, s, vt * 0.5),
        ("push", s, e, goal.speed),
        ("lift", e, b, vt * 0.5),
        ("retreat", b, np.asarray(limits.retreat, float), vt),
    ]


def _fmt(p) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in p) + ")"


def plan_motion(
    kin: PusherKinematics,
    q_now,
    limits: MotionLimits,
    goal: PushGoal | None = None,
    lift_only: bool = False,
) -> JointPlan:
    """The joint trajectory of a push ``goal`` (or, with ``lift_only``, of lifting the tip
    straight up to the transit height) from the joint state ``q_now`` (n,) [rad].

    IK: the segment end points are solved one after the other (each seeded with the previous
    solution), then every dense sample in one batch, seeded with and pulled toward the
    joint-space interpolation of its segment's end solutions (continuity along the path).
    Raises :class:`PushRejected` naming the violated limit and value."""
    q_now = np.asarray(q_now, float).reshape(kin.n)
    for j, name in enumerate(kin.joint_names):
        if not kin.lower[j] - 1e-6 <= q_now[j] <= kin.upper[j] + 1e-6:
            raise PushRejected(
                f"current {name} = {q_now[j]:.3f} rad is outside its limits "
                f"[{kin.lower[j]:.3f}, {kin.upper[j]:.3f}] rad"
            )
    tip_now = kin.tip(q_now)[0][0]
    segs = _segments(goal, tip_now, limits, lift_only)
    # 1) segment end points, sequentially seeded
    q_ends = [q_now]
    for name, _, p1, _ in segs:
        sol = kin.solve(p1[None], q_ends[-1], iterations=150)
        if not _reached(sol, limits):  # a local minimum from this seed: retry from home
            sol = kin.solve(p1[None], kin.home, posture=kin.home, iterations=300)
        _check_reach(sol, p1[None], limits, f"{name} end")
        q_ends.append(sol.q[0])
    # 2) dense samples
    times, tips, seeds, seg_idx = [], [], [], []
    t_offset = 0.0
    for i, (_, p0, p1, v) in enumerate(segs):
        length = float(np.linalg.norm(p1 - p0))
        dt = min(limits.sample_dt, limits.max_sample_spacing / max(v, 1e-6))
        t, s = _trapezoid(length, v, limits.accel, dt)
        a = s / length if length > 1e-9 else np.zeros_like(s)
        if i > 0:  # the first sample duplicates the previous segment's last one
            t, s, a = t[1:], s[1:], a[1:]
        if t.size == 0:
            continue
        times.append(t_offset + t)
        tips.append(p0 + a[:, None] * (p1 - p0))
        seeds.append(q_ends[i] + a[:, None] * (q_ends[i + 1] - q_ends[i]))
        seg_idx.append(np.full(t.size, i))
        t_offset += float(t[-1]) if t.size else 0.0
    times = np.concatenate(times)
    tips = np.concatenate(tips)
    seeds = np.concatenate(seeds)
    seg_idx = np.concatenate(seg_idx)
    sol = kin.solve(tips, seeds, posture=seeds, iterations=60)
    _check_reach(sol, tips, limits, "path")
    q = sol.q
    q[0] = q_now  # the trajectory starts exactly where the arm is
    step = np.abs(np.diff(q, axis=0))
    if step.size and step.max() > limits.max_joint_step:
        k, j = np.unravel_index(int(step.argmax()), step.shape)
        raise PushRejected(
            f"{kin.joint_names[j]} jumps {step[k, j]:.3f} rad between path samples near tip "
            f"{_fmt(tips[k + 1])} m (continuity limit {limits.max_joint_step:.3f} rad): "
            "the IK changes branch"
        )
    names = [s[0] for s in segs]
    push_seg = names.index("push") if "push" in names else -1
    times = _respect_velocity_limits(kin, times, q, seg_idx, push_seg, limits)
    qd = np.gradient(q, times, axis=0) if len(times) > 1 else np.zeros_like(q)
    qd[0] = 0.0
    qd[-1] = 0.0
    plan = JointPlan(times, q, qd, tips, seg_idx, names, push_seg, list(kin.joint_names))
    check_clearance(kin, plan, limits)
    return plan


def _reached(sol, limits: MotionLimits) -> bool:
    return bool(
        (sol.position_error <= limits.ik_tolerance).all()
        and (sol.axis_error <= limits.axis_tolerance).all()
    )


def _check_reach(sol, targets, limits: MotionLimits, what: str) -> None:
    bad = (sol.position_error > limits.ik_tolerance) | (sol.axis_error > limits.axis_tolerance)
    if bad.any():
        k = int(np.argmax(np.where(bad, sol.position_error, -1.0)))
        raise PushRejected(
            f"tip pose {_fmt(targets[k])} m ({what}) is unreachable by the arm: IK error "
            f"{sol.position_error[k] * 1000:.1f} mm (limit {limits.ik_tolerance * 1000:.1f} "
            f"mm), tool axis {math.degrees(sol.axis_error[k]):.1f} deg (limit "
            f"{math.degrees(limits.axis_tolerance):.1f} deg)"
        )


def _respect_velocity_limits(kin, times, q, seg_idx, push_seg, limits) -> np.ndarray:
    """Stretch the timing of transit segments whose joint speeds exceed the allowed limit;
    reject a push that would need faster joints."""
    vmax = np.abs(kin.velocity_limits).min(axis=0) if kin.velocity_limits.ndim == 2 else None
    vmax = (vmax if vmax is not None else np.abs(kin.velocity_limits)) * limits.velocity_scale
    dts = np.diff(times)
    dq = np.abs(np.diff(q, axis=0))
    rate = dq / np.maximum(dts, 1e-9)[:, None] / vmax  # (T-1, n): fraction of the limit
    seg_of_step = seg_idx[1:]
    scale = np.ones_like(dts)
    for seg in np.unique(seg_of_step):
        mask = seg_of_step == seg
        worst = float(rate[mask].max()) if mask.any() else 0.0
        if worst <= 1.0:
            continue
        if seg == push_seg:
            k, j = np.unravel_index(int(np.argmax(np.where(mask[:, None], rate, -1))), rate.shape)
            raise PushRejected(
                f"{kin.joint_names[j]} velocity {rate[k, j] * vmax[j]:.2f} rad/s exceeds the "
                f"limit {vmax[j]:.2f} rad/s ({limits.velocity_scale:.0%} of the URDF's) at "
                f"this push speed"
            )
        scale[mask] = worst * 1.01
    return np.concatenate([[0.0], np.cumsum(dts * scale)]) + times[0]


def check_clearance(kin: PusherKinematics, plan: JointPlan, limits: MotionLimits) -> None:
    """Table clearance of every link origin and the tip; coarse self-proximity of link
    origins (the URDF's collision meshes are not used)."""
    links = kin.link_positions(plan.q)
    tip_z = links.pop("tip")[:, 2]
    k = int(tip_z.argmin())
    if tip_z[k] < limits.min_tip_height - 1e-4:
        raise PushRejected(
            f"tip height {tip_z[k]:.4f} m at t = {plan.times[k]:.2f} s is below the table "
            f"clearance {limits.min_tip_height:.4f} m"
        )
    # links that never move (world, the base) are mounted where they are: not checked
    moving = [n for n in links if np.abs(links[n] - links[n][:1]).max() > 1e-9]
    for name in moving:
        z = links[name][:, 2]
        k = int(z.argmin())
        if z[k] < limits.table_clearance:
            raise PushRejected(
                f"link {name} origin at height {z[k]:.3f} m (t = {plan.times[k]:.2f} s) is "
                f"below the table clearance {limits.table_clearance:.3f} m"
            )
    order = moving  # chain order
    for a in range(len(order)):
        for b in range(a + 3, len(order)):
            d = np.linalg.norm(links[order[a]] - links[order[b]], axis=-1)
            k = int(d.argmin())
            if d[k] < limits.self_margin:
                raise PushRejected(
                    f"links {order[a]} and {order[b]} come {d[k]:.3f} m apart (t = "
                    f"{plan.times[k]:.2f} s), under the self-collision margin "
                    f"{limits.self_margin:.3f} m"
                )
