"""``gs-plan`` command line.

gs-plan bench --task rope_straighten --seeds 1000-1019      # Fig. 5, three planners
gs-plan episode --seed 1000 --planner mppi --out out/plan_episode   # one episode + images
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gs_common.settings import add_cli_option, resolve
from gs_evaluation.plan_episode import TASKS, EpisodeConfig
from gs_mppi_planner.costs import CostConfig
from gs_mppi_planner.mppi import PLANNERS, MPPIConfig
from gs_mppi_planner.settings import SETTINGS, configs

# command-line option -> planner setting (defaults, types, choices and help from the table)
OPTIONS = {
    "--max-pushes": "default_max_pushes",
    "--samples": "num_samples",
    "--iterations": "iterations",
    "--horizon": "horizon",
    "--cost": "cost",
    "--threshold": "default_tolerance",
    "--device": "device",
    "--checkpoint": "checkpoint",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="rope_straighten", choices=TASKS)
    for flag, name in OPTIONS.items():
        add_cli_option(p, SETTINGS, name, flag)
    # one thread by default: decision latencies comparable between runs and machines
    add_cli_option(p, SETTINGS, "torch_threads", "--threads", default=1)
    p.add_argument("--out", default="out/plan_bench")


def _configs(args) -> tuple[EpisodeConfig, MPPIConfig, CostConfig]:
    """Episode, MPPI and cost configs: the planner's settings table with the options."""
    s = resolve(SETTINGS, {name: getattr(args, name) for name in OPTIONS.values()})
    cost, mppi, _ = configs(s)
    episode = EpisodeConfig(max_pushes=s["default_max_pushes"], tolerance=s["default_tolerance"])
    mppi.validate()
    cost.validate()
    return episode, mppi, cost


def _bench(args) -> int:
    import torch

    from gs_evaluation.plan_bench import parse_seeds, run_bench, summary_markdown

    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    try:
        seeds = parse_seeds(args.seeds)
        planners = [p.strip() for p in args.planners.split(",") if p.strip()]
        bad = [p for p in planners if p not in PLANNERS]
        if bad or not planners:
            raise ValueError(f"planners {bad or planners} not in {list(PLANNERS)}")
        episode, mppi, cost = _configs(args)
    except ValueError as exc:
        print(f"gs-plan bench: {exc}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    out = Path(args.out)
    summary = run_bench(
        args.task,
        seeds,
        planners,
        out,
        episode,
        mppi,
        cost,
        args.default_tolerance,
        args.device,
        args.checkpoint,
        images=args.images,
    )
    import json

    meta = json.loads((out / "results.json").read_text())["meta"]
    print()
    print(summary_markdown(summary, meta))
    print(f"wrote {out}/results.json, summary.md, error_vs_pushes.png, success_vs_threshold.png "
          f"in {time.monotonic() - t0:.0f} s")  # fmt: skip
    return 0


def _episode(args) -> int:
    import torch

    from gs_evaluation.plan_episode import run_episode
    from gs_mppi_planner.mppi import make_planner
    from gs_mppi_planner.plots import save_topdown
    from gs_mppi_planner.push_model import PushModel

    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    episode, mppi, cost = _configs(args)
    model = PushModel(args.checkpoint, args.device)
    planner = make_planner(args.planner, model, cost, mppi)
    r = run_episode(planner, args.seed, episode, args.task, log=print)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_topdown(
        out / f"final_{args.planner}_{args.seed}.png",
        r.final_points,
        r.target,
        f"{args.planner} seed {args.seed}: {r.errors[-1] * 1000:.1f} mm, {len(r.pushes)} pushes",
    )
    for i, (push, lat) in enumerate(zip(r.pushes, r.latencies)):
        x, y, th, ln = push
        print(
            f"push {i}: ({x:+.3f}, {y:+.3f}) m, theta {th:+.2f} rad, {ln:.3f} m; error after "
            f"{r.errors[i + 1] * 1000:.1f} mm; decision {lat:.2f} s"
        )
    print(f"final error {r.errors[-1] * 1000:.1f} mm ({'success' if r.success else 'failure'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gs-plan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="task benchmark: planners side by side (Fig. 5)")
    _common(b)
    b.add_argument(
        "--seeds",
        default="1000-1019",
        help="seeds (not used to train the shipped model, which used seed 0 episodes)",
    )
    b.add_argument("--planners", default=",".join(PLANNERS))
    b.add_argument("--images", action="store_true", help="save a final top-down view per episode")
    b.set_defaults(func=_bench)
    e = sub.add_parser("episode", help="one headless MPC episode with the simulator")
    _common(e)
    e.add_argument("--seed", type=int, default=1000)
    e.add_argument("--planner", default="mppi", choices=PLANNERS)
    e.set_defaults(func=_episode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
