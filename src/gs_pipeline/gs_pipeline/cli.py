"""``gs-pipeline``: run a model's offline pipeline (generate / record -> track -> train ->
evaluate) as one resumable job on Ray.

    gs-pipeline run config/pipeline/rope_tracked.yaml                   # local Ray, all cores
    gs-pipeline run config/pipeline/rope_tracked.yaml --workers 1       # one task at a time
    gs-pipeline run config/pipeline/rope_tracked.yaml --address auto    # an existing Ray cluster
    gs-pipeline run config/pipeline/rope_tracked.yaml --set training.epochs=5
    gs-pipeline bench config/pipeline/tiny.yaml --workers 1 2   # wall time per worker count
"""

from __future__ import annotations

import argparse
import sys

from gs_pipeline.config import ConfigError, load_config, parse_set


def cmd_run(args) -> int:
    from gs_pipeline.runner import run_pipeline

    try:
        cfg = load_config(args.config, parse_set(args.set))
    except ConfigError as exc:
        print(f"gs-pipeline: {exc}", file=sys.stderr)
        return 2
    if not cfg.tracking.enabled:
        print(
            "gs-pipeline: tracking.enabled is false: training on the simulator's ground truth "
            "(an oracle), not on tracked video"
        )
    result = run_pipeline(cfg, args.workers, args.address, progress=not args.quiet)
    print()
    for stage, report in result.stages.items():
        print(report.line(stage))
        for key, error in report.failed.items():
            print(f"    {key}: {error}")
    for line in result.eval_summary:
        print(line)
    print(result.message)
    return 0 if result.ok else 1


def cmd_bench(args) -> int:
    from gs_pipeline.bench import run_bench

    return run_bench(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gs-pipeline",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run (or resume) a pipeline config")
    p.add_argument("config", help="pipeline YAML (config/pipeline/<object>.yaml)")
    p.add_argument("--workers", type=int, default=None, help="local Ray CPUs (default: all cores)")
    p.add_argument("--address", default=None, help="an existing Ray cluster ('auto' or host:port)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. training.epochs=5 (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("bench", help="wall time of one pipeline with 1, 2, ... workers")
    p.add_argument("config", help="pipeline YAML (a small one: every run starts from scratch)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", default="", help="write the results here")
    p.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    if getattr(args, "workers", None) is not None and args.command == "run" and args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
