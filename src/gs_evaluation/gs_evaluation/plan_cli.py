"""``gs-plan`` command line.

gs-plan bench --task rope_straighten --seeds 1000-1019      # Fig. 5, three planners
gs-plan bench --task toy_relocate --seeds 1000-1007 --out out/plan_toy   # the toy's model
gs-plan bench --observe perception oracle --planners mppi --seeds 1000-1002   # the gap
gs-plan episode --seed 1000 --planner mppi --out out/plan_episode   # one episode + images
gs-plan merge out/run_a out/run_b --out out/run_ab   # one summary of runs made in parallel

--observe oracle (the default): the planner observes the simulator's ground truth.
--observe perception: it observes what the cameras see (segmentation + tracking of every
frame); the ground truth only scores. The output says which observation is used.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gs_common.settings import add_cli_option, resolve
from gs_evaluation.perception_env import (
    OBSERVATIONS,
    ROBOT_MASK_SOURCES,
    STATES,
    PerceptionConfig,
    task_perception,
)
from gs_evaluation.plan_episode import EpisodeConfig
from gs_evaluation.plan_tasks import TASK_TABLE, TASKS, get_task
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
    p.add_argument(
        "--task",
        default="rope_straighten",
        choices=TASKS,
        help="; ".join(f"{t.name}: {t.summary} (model {t.model})" for t in TASK_TABLE.values()),
    )
    for flag, name in OPTIONS.items():
        add_cli_option(p, SETTINGS, name, flag)
    # the task's own tolerance and shipped model unless given (gs_evaluation.plan_tasks)
    p.set_defaults(default_tolerance=None, checkpoint="")
    for action in p._actions:
        if action.dest == "default_tolerance":
            action.help = "success threshold and MPC stop [m] (default: the task's, 0.015)"
        elif action.dest == "checkpoint":
            action.help = (
                "dynamics checkpoint stem or shipped model name (default: the task's model: "
                + ", ".join(f"{t.name} -> {t.model}" for t in TASK_TABLE.values())
                + ")"
            )
    # one thread by default: decision latencies comparable between runs and machines
    add_cli_option(p, SETTINGS, "torch_threads", "--threads", default=1)
    p.add_argument("--out", default="out/plan_bench")
    g = p.add_argument_group("perception (--observe perception)")
    g.add_argument(
        "--robot-masks",
        default="robot_model",
        choices=ROBOT_MASK_SOURCES,
        help="robot masks for segmentation/tracking: robot_model (the self-model, the stack's "
        "default) or sim (the simulator's robot mask: an oracle of the robot, announced)",
    )
    g.add_argument("--depth-noise", action="store_true", help="RealSense-like depth noise")
    g.add_argument(
        "--camera-size",
        default="320x240",
        help="camera resolution WxH [px] (config/sim.yaml: 320x240)",
    )
    g.add_argument(
        "--state",
        default="cloud",
        choices=STATES,
        help="the planner's observed state: cloud (segmentation's fused object points, "
        "perceived once the object is at rest: the stack's default state_source) or tracking "
        "(the tracked particles: every frame is tracked)",
    )
    g.add_argument("--track-iterations", type=int, default=10, help="tracker iterations per frame")
    g.add_argument(
        "--track-particles", type=int, default=150, help="tracked particles (observed state)"
    )


def _configs(args) -> tuple[EpisodeConfig, MPPIConfig, CostConfig]:
    """Episode, MPPI and cost configs: the planner's settings table with the task's planner
    settings and the options."""
    task = get_task(args.task)
    given = {name: getattr(args, name) for name in OPTIONS.values()}
    if given["default_tolerance"] is None:
        given["default_tolerance"] = task.tolerance
    s = resolve(SETTINGS, {**task.planner, **given})  # the task's settings, then the options
    cost, mppi, _ = configs(s)
    episode = EpisodeConfig(
        max_pushes=s["default_max_pushes"],
        tolerance=s["default_tolerance"],
        state_height=s["state_height"],
        goal_metric=s["goal_metric"],
    )
    mppi.validate()
    cost.validate()
    return episode, mppi, cost


def _perception(args) -> PerceptionConfig:
    """The perception settings of the options and the task (ValueError naming a bad
    value)."""
    try:
        w, h = (int(v) for v in args.camera_size.lower().split("x"))
    except ValueError:
        raise ValueError(f"--camera-size {args.camera_size!r} is not WxH (e.g. 320x240)") from None
    cfg = PerceptionConfig(
        image_width=w,
        image_height=h,
        depth_noise=args.depth_noise,
        robot_masks=args.robot_masks,
        iterations=args.track_iterations,
        particles=args.track_particles,
        state=args.state,
    )
    return task_perception(get_task(args.task), cfg)  # the task's tracker and resolution


def _announce(observe, perception: PerceptionConfig, cost: str) -> None:
    for o in observe:
        if o == "oracle":
            print("observation: ORACLE (the simulator's ground-truth vertices)", flush=True)
        else:
            print(f"observation: {perception.describe()}", flush=True)
    if "perception" in observe and cost == "matched":
        print(
            "warning: the matched cost (one-to-one assignment) is not robust to a part of the "
            "object that perception missed; chamfer (the default) is (gs_evaluation README)",
            flush=True,
        )


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
        args.default_tolerance = episode.tolerance
        observe = list(dict.fromkeys(args.observe))
        perception = _perception(args)
    except ValueError as exc:
        print(f"gs-plan bench: {exc}", file=sys.stderr)
        return 2
    _announce(observe, perception, args.cost)
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
        observe=tuple(observe),
        perception=perception if "perception" in observe else None,
    )
    import json

    meta = json.loads((out / "results.json").read_text())["meta"]
    print()
    print(summary_markdown(summary, meta))
    print(f"wrote {out}/results.json, summary.md, error_vs_pushes.png, success_vs_threshold.png "
          f"in {time.monotonic() - t0:.0f} s")  # fmt: skip
    return 0


def _merge(args) -> int:
    from gs_evaluation.plan_bench import merge_runs, summary_markdown

    out = Path(args.out)
    try:
        summary = merge_runs([Path(d) for d in args.runs], out)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gs-plan merge: {exc}", file=sys.stderr)
        return 2
    import json

    print(summary_markdown(summary, json.loads((out / "results.json").read_text())["meta"]))
    print(f"wrote {out}/results.json, summary.md, error_vs_pushes.png, success_vs_threshold.png")
    return 0


def _episode(args) -> int:
    import torch

    from gs_evaluation.plan_episode import run_episode
    from gs_mppi_planner.mppi import make_planner
    from gs_mppi_planner.plots import save_topdown
    from gs_mppi_planner.push_model import PushModel

    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    try:
        episode, mppi, cost = _configs(args)
        perception = _perception(args)
    except ValueError as exc:
        print(f"gs-plan episode: {exc}", file=sys.stderr)
        return 2
    _announce([args.observe], perception, args.cost)
    model = PushModel(args.checkpoint or get_task(args.task).model, args.device)
    planner = make_planner(args.planner, model, cost, mppi)
    r = run_episode(
        planner, args.seed, episode, args.task, log=print, observe=args.observe,
        perception=perception,
    )  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_topdown(
        out / f"final_{args.planner}_{args.observe}_{args.seed}.png",
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
    seen = f"; observed {r.perceived[-1] * 1000:.1f} mm" if args.observe == "perception" else ""
    print(
        f"final error {r.errors[-1] * 1000:.1f} mm ({'success' if r.success else 'failure'}; "
        f"measured on the true vertices{seen})"
    )
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
    b.add_argument(
        "--observe",
        nargs="+",
        default=["oracle"],
        choices=OBSERVATIONS,
        help="observed state: oracle (simulator ground truth, the default), perception "
        "(cameras -> segmentation -> tracking), or both side by side on the same seeds",
    )
    b.set_defaults(func=_bench)
    m = sub.add_parser(
        "merge", help="one summary and Fig. 5 of several bench runs (same task and settings)"
    )
    m.add_argument("runs", nargs="+", help="--out folders of gs-plan bench runs")
    m.add_argument("--out", required=True)
    m.set_defaults(func=_merge)
    e = sub.add_parser("episode", help="one headless MPC episode with the simulator")
    _common(e)
    e.add_argument("--seed", type=int, default=1000)
    e.add_argument("--planner", default="mppi", choices=PLANNERS)
    e.add_argument("--observe", default="oracle", choices=OBSERVATIONS)
    e.set_defaults(func=_episode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
