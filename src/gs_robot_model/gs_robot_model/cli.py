"""``gs-robot``: data generation, training, evaluation and pose estimation of the robot
self-model. All subcommands call the ROS-free core modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from gs_robot_model.robots import ROBOTS, get_robot


def default_model_dir(robot: str = "xarm7") -> Path:
    """The model shipped with the package (source tree or installed share/)."""
    here = Path(__file__).resolve().parent.parent / "models" / robot
    if here.is_dir():
        return here
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("gs_robot_model")) / "models" / robot
    except Exception:
        return here


def _positive(kind):
    def parse(text):
        v = kind(text)
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return v

    return parse


def cmd_data(a) -> int:
    from gs_robot_model.data import generate

    robot = get_robot(a.robot)
    out = Path(a.out)
    generate(
        robot, out / "train.npz", a.configs, a.views, a.res, a.res, a.fovy, a.seed, a.canonical
    )
    generate(robot, out / "test.npz", a.test_configs, a.views, a.res, a.res, a.fovy, a.seed + 1000)
    print(f"wrote {out / 'train.npz'} and {out / 'test.npz'}")
    return 0


def cmd_train(a) -> int:
    from gs_robot_model.model import ModelConfig
    from gs_robot_model.train import TrainConfig, train

    mc = ModelConfig(
        robot=a.robot,
        num_gaussians=a.gaussians,
        appearance=not a.no_appearance,
        flat_ratio=a.flat_ratio,
    )
    tc = TrainConfig(
        canonical_iters=a.canonical_iters,
        skinning_iters=a.skinning_iters,
        joint_iters=a.joint_iters,
        views_per_step=a.views_per_step,
        w_depth=a.w_depth,
        seed=a.seed,
    )
    info = train(Path(a.data), Path(a.out), mc, tc, resume=not a.restart, threads=a.threads)
    print(json.dumps(info["train"], indent=1))
    return 0


def cmd_eval(a) -> int:
    from gs_robot_model.checkpoint import load_model
    from gs_robot_model.evaluate import EvalConfig, evaluate, format_table

    model, _ = load_model(Path(a.model))
    ec = EvalConfig(pose_configs=a.pose_configs, pose_iters=a.pose_iters, seed=a.seed)
    r = evaluate(model, Path(a.data), Path(a.out), ec)
    print(format_table(r))
    print(f"wrote {Path(a.out) / 'eval.json'} and {Path(a.out) / 'eval_strip.png'}")
    return 0


def cmd_estimate(a) -> int:
    from gs_robot_model.checkpoint import load_model
    from gs_robot_model.data import load_dataset
    from gs_robot_model.estimate import estimate_pose
    from gs_robot_model.train import view_tensors

    model, _ = load_model(Path(a.model))
    ds = load_dataset(Path(a.data))
    n = len(ds["q"])
    if not 0 <= a.index < n:
        raise SystemExit(f"--index {a.index} is outside the dataset's {n} configurations")
    rgb, mask, _, vm, ks, q = view_tensors(ds, a.index)
    nv = min(a.views, len(vm))
    if a.init is not None:
        q0 = torch.tensor(a.init, dtype=torch.float32)
        if q0.shape != q.shape:
            raise SystemExit(f"--init has {len(a.init)} values, the robot has {len(q)} joints")
    else:
        rng = np.random.default_rng(a.seed)
        q0 = q + torch.from_numpy(rng.normal(0, a.noise, q.shape).astype(np.float32))
    res = estimate_pose(
        model,
        vm[:nv],
        ks[:nv],
        ds["meta"]["width"],
        ds["meta"]["height"],
        q0,
        rgb=rgb[:nv],
        mask=mask[:nv, ..., 0],
        iters=a.iters,
        lr=a.lr,
        optimize_camera=a.camera,
    )
    err0 = np.degrees(np.abs(q0.numpy() - q.numpy()))
    err = np.degrees(np.abs(res.q - q.numpy()))
    print(
        f"initial guess [rad]: {np.round(q0.numpy(), 4).tolist()}  (L1 {err0.mean():.2f} deg/joint)"
    )
    print(f"estimate      [rad]: {np.round(res.q, 4).tolist()}  (L1 {err.mean():.2f} deg/joint)")
    print(f"ground truth  [rad]: {np.round(q.numpy(), 4).tolist()}")
    print(
        f"loss {res.losses[0]:.4f} -> {res.losses[-1]:.4f} in {len(res.losses)} steps, {nv} view(s)"
    )
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="gs-robot", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data", help="render training / held-out data in MuJoCo")
    d.add_argument("--robot", default="xarm7", choices=sorted(ROBOTS))
    d.add_argument("--out", default="data/robot_model/xarm7")
    d.add_argument("--configs", type=_positive(int), default=300)
    d.add_argument("--canonical", type=int, default=8, help="configurations at q = 0")
    d.add_argument("--test-configs", type=_positive(int), default=30)
    d.add_argument("--views", type=_positive(int), default=4)
    d.add_argument("--res", type=_positive(int), default=96, help="square image side [px]")
    d.add_argument("--fovy", type=_positive(float), default=45.0, help="[deg]")
    d.add_argument("--seed", type=int, default=0, help="held-out data uses seed + 1000")
    d.set_defaults(func=cmd_data)
    t = sub.add_parser("train", help="staged training (resumes from --out)")
    t.add_argument("--robot", default="xarm7", choices=sorted(ROBOTS))
    t.add_argument("--data", default="data/robot_model/xarm7/train.npz")
    t.add_argument("--out", default="data/robot_model/xarm7/run")
    t.add_argument("--gaussians", type=_positive(int), default=2500)
    t.add_argument("--canonical-iters", type=int, default=200)
    t.add_argument("--skinning-iters", type=int, default=600)
    t.add_argument("--joint-iters", type=int, default=1200)
    t.add_argument("--views-per-step", type=int, default=2)
    t.add_argument("--w-depth", type=float, default=0.2, help="depth L1 weight [1/m]")
    t.add_argument(
        "--flat-ratio",
        type=float,
        default=1.0,
        help="initial Gaussian thickness along the surface normal / in-plane size",
    )
    t.add_argument("--no-appearance", action="store_true", help="no pose-conditioned deformation")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (1: on a shared, oversubscribed CPU more threads spin-wait; "
        "measured 0.6 s vs 19 s per step under load)",
    )
    t.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("eval", help="Dr. Robot Table 1 metrics on held-out data")
    e.add_argument("--model", default=str(default_model_dir()))
    e.add_argument("--data", default="data/robot_model/xarm7/test.npz")
    e.add_argument("--out", default="out/robot_model/eval")
    e.add_argument("--pose-configs", type=_positive(int), default=6)
    e.add_argument("--pose-iters", type=_positive(int), default=50)
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(func=cmd_eval)
    s = sub.add_parser("estimate", help="estimate joint angles of one dataset configuration")
    s.add_argument("--model", default=str(default_model_dir()))
    s.add_argument("--data", default="data/robot_model/xarm7/test.npz")
    s.add_argument("--index", type=int, default=0, help="configuration index in --data")
    s.add_argument("--views", type=_positive(int), default=4)
    s.add_argument("--init", type=float, nargs="+", default=None, help="initial guess [rad]")
    s.add_argument("--noise", type=float, default=0.1, help="std [rad] when --init is not given")
    s.add_argument("--iters", type=_positive(int), default=50)
    s.add_argument("--lr", type=_positive(float), default=0.03)
    s.add_argument("--camera", action="store_true", help="also refine the camera poses")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_estimate)
    a = p.parse_args(argv)
    # one intra-op thread unless asked: on a shared CPU extra threads spin-wait (see --threads)
    torch.set_num_threads(getattr(a, "threads", None) or 1)
    try:
        return a.func(a)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gs-robot {a.cmd}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
