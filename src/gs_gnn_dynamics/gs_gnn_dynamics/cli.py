"""``gs-dyn``: train, eval, bench."""

from __future__ import annotations

import argparse
import dataclasses
import sys

import torch

from gs_common.settings import add_cli_option
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.settings import SETTINGS


def _add_config_args(p: argparse.ArgumentParser) -> None:
    for f in dataclasses.fields(DynamicsConfig):
        p.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=type(f.default),
            default=f.default,
            help=f"model config (default {f.default})",
        )


def _threads(n: int) -> None:
    if n > 0:
        torch.set_num_threads(n)


def cmd_train(args) -> int:
    from gs_gnn_dynamics.train import TrainOptions, train

    _threads(args.threads)
    cfg = DynamicsConfig(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(DynamicsConfig)}
    )
    opts = TrainOptions(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        edge_weight=args.edge_weight,
        rigid_weight=args.rigid_weight,
        val_fraction=args.val_fraction,
        seed=args.seed,
        device=args.device,
        augment=not args.no_augment,
        progress=not args.quiet,
    )
    summary = train(args.data, args.out, cfg, opts, resume=args.resume)
    print(f"best validation mse {summary['best_val']:.4f}; checkpoint {args.out}/model.*")
    return 0


def cmd_eval(args) -> int:
    from gs_common.device import resolve_device
    from gs_gnn_dynamics.checkpoint import load_checkpoint
    from gs_gnn_dynamics.evaluate import evaluate, summary_lines, write_report
    from gs_gnn_dynamics.predictor import resolve_checkpoint

    _threads(args.threads)
    model, _ = load_checkpoint(resolve_checkpoint(args.checkpoint), resolve_device(args.device))
    report = evaluate(
        model, args.data, args.horizon, args.contact_radius, args.stride, emd=not args.no_emd
    )
    report["checkpoint"] = str(args.checkpoint)
    for line in summary_lines(report):
        print(line)
    js, png = write_report(report, args.out)
    print(f"report {js}, plot {png}")
    return 0


def cmd_eval_video(args) -> int:
    from gs_gnn_dynamics.video_eval import VideoEvalOptions, video_eval_main

    _threads(args.threads)
    opts = VideoEvalOptions(
        scale=args.scale,
        every=args.every,
        emd=not args.no_emd,
        strip_steps=args.strip_steps,
        strip_camera=args.strip_camera,
        device=args.device,
    )
    return video_eval_main(args.episodes, args.tracked, args.out, args.model, opts)


def cmd_bench(args) -> int:
    from gs_gnn_dynamics.bench import run_bench

    _threads(args.threads)
    run_bench(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gs-dyn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model on episodes (.mcap / .npz)")
    p.add_argument("--data", required=True, help="episode file or directory")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--edge-weight", type=float, default=0.1)
    p.add_argument("--rigid-weight", type=float, default=0.0, help="rigidity term (rigid objects)")
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=0)
    add_cli_option(p, SETTINGS, "device")  # the node's setting: same choices and default
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--no-augment", action="store_true", help="no random z rotations")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="rollouts on held-out episodes vs. baselines")
    p.add_argument(
        "--checkpoint",
        required=True,
        help="checkpoint stem (<stem>.safetensors + .json) or a shipped model's name "
        "(rope, rope_tracked, cloth, toy)",
    )
    p.add_argument("--data", required=True, help="held-out episode file or directory")
    p.add_argument("--out", default="out/dyn_eval", help="report path stem (.json, .png)")
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--stride", type=int, default=1, help="use every n-th window")
    p.add_argument(
        "--contact-radius", type=float, default=0.03, help="contact_rigid baseline radius [m]"
    )
    p.add_argument("--no-emd", action="store_true")
    add_cli_option(p, SETTINGS, "device")  # the node's setting: same choices and default
    p.add_argument("--threads", type=int, default=0)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "eval-video",
        help="action-conditioned video prediction vs recorded frames (paper Table 2)",
        description="Roll the tracked Gaussians of each push's first frame out under the "
        "recorded push, render every camera and compare with the recorded frames "
        "(Chamfer/EMD, J&F, PSNR/SSIM) next to a static baseline.",
    )
    p.add_argument("episodes", nargs="+", help="held-out simulator episodes (.mcap)")
    p.add_argument(
        "--tracked",
        required=True,
        nargs="+",
        help="directories of gs-track outputs: <name>.gaussians.safetensors + <name>.npz "
        "(<name> = episode stem or <object>_<episode stem>)",
    )
    p.add_argument("--out", default="out/video_eval", help="report path stem (.json, .png)")
    p.add_argument(
        "--model",
        default="",
        help="checkpoint stem or shipped model name for every episode (default: the shipped "
        "model of each episode's object; shipped: see the error message or models/)",
    )
    p.add_argument("--scale", type=float, default=0.5, help="render / camera resolution")
    p.add_argument("--every", type=int, default=2, help="evaluate every n-th frame of a push")
    p.add_argument("--strip-steps", type=int, default=4, help="time steps in the PNG strip")
    p.add_argument("--strip-camera", type=int, default=0, help="camera shown in the PNG")
    p.add_argument("--no-emd", action="store_true")
    add_cli_option(p, SETTINGS, "device")  # the node's setting: same choices and default
    p.add_argument("--threads", type=int, default=0)
    p.set_defaults(func=cmd_eval_video)

    p = sub.add_parser("bench", help="rollout throughput (graphs x steps / s)")
    p.add_argument("--checkpoint", default="", help="default: the shipped rope model")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 64, 256])
    p.add_argument("--particles", type=int, default=100)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--hidden",
        type=int,
        nargs="*",
        default=[],
        help="also time untrained models of these widths",
    )
    add_cli_option(p, SETTINGS, "device")  # the node's setting: same choices and default
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", default="", help="write results here")
    p.add_argument(
        "--render",
        action="store_true",
        help="also time 10-step predicted rendering (4 cameras, 320x240, needs gs_render)",
    )
    p.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
