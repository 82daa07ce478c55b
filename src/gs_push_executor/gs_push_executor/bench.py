"""``python -m gs_push_executor.bench``: plan random pushes over the workspace and report the
tip error along the executed joint trajectory and the planning time. ROS-free.

Tip error: FK of the linearly interpolated joint trajectory (what the controllers execute),
sampled 10x finer than the plan, against the planned Cartesian path at the same times.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from tqdm import tqdm

from gs_push_executor.kinematics import PusherKinematics
from gs_push_executor.motion import (
    MotionLimits,
    PushRejected,
    Workspace,
    plan_motion,
    validate_push,
)
from gs_push_executor.robot import PRESETS, load_robot


def tip_error(kin: PusherKinematics, plan) -> float:
    """Max distance [m] of the interpolated trajectory's tip from the planned path."""
    ts = np.linspace(0.0, plan.duration, 10 * len(plan.times))
    tip = kin.tip(np.stack([plan.position_at(t) for t in ts]))[0]
    ref = np.stack([np.interp(ts, plan.times, plan.tip[:, c]) for c in range(3)], axis=1)
    return float(np.linalg.norm(tip - ref, axis=1).max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pushes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--robot", default="xarm7", choices=sorted(PRESETS))
    ap.add_argument(
        "--retreat", type=float, nargs=3, default=None, help="start/retreat tip point [m]"
    )
    args = ap.parse_args(argv)
    kin = PusherKinematics(load_robot(args.robot, base_xyz=(-0.40, 0.0, 0.0)))
    lim, ws = MotionLimits(), Workspace()
    if args.retreat:
        lim = dataclasses.replace(lim, retreat=tuple(args.retreat))
    q0 = kin.solve(np.array([lim.retreat]), kin.home, iterations=200).q[0]
    rng = np.random.default_rng(args.seed)
    lo, hi = np.array([ws.x_min, ws.y_min]), np.array([ws.x_max, ws.y_max])
    errors, times, rejected = [], [], []
    for _ in tqdm(range(args.pushes), desc="pushes"):
        s = rng.uniform(lo, hi)
        ang, length = rng.uniform(-np.pi, np.pi), rng.uniform(0.05, 0.2)
        e = np.clip(s + length * np.array([np.cos(ang), np.sin(ang)]), lo, hi)
        t0 = time.perf_counter()
        try:
            plan = plan_motion(
                kin, q0, lim, validate_push(s, e, 0.005, rng.uniform(0.02, 0.3), ws, lim)
            )
        except PushRejected as exc:
            rejected.append(str(exc))
            continue
        times.append(time.perf_counter() - t0)
        errors.append(tip_error(kin, plan))
    err = np.array(errors) * 1000
    print(f"{args.robot}: {len(errors)} planned, {len(rejected)} rejected")
    if len(err):
        print(
            f"max tip error per push [mm]: median {np.median(err):.3f}, "
            f"min {err.min():.3f}, max {err.max():.3f}"
        )
        print(f"planning time [s]: median {np.median(times):.2f}, max {np.max(times):.2f}")
    for r in rejected:
        print("rejected:", r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
