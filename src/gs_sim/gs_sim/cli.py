"""``gs-sim`` command line: ``gs-sim generate --object rope --episodes 20 --seed 0
--out data/rope``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gs_common.settings import add_cli_option
from gs_sim.settings import SETTINGS, workcell_config


def _generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gs_sim.generate import PushSampling, generate_episode

    try:
        config = workcell_config(
            {
                k: getattr(args, k)
                for k in ("object", "image_width", "image_height", "fps", "num_cameras")
            }
        )
        sampling = PushSampling(speed=args.speed)
    except ValueError as exc:
        print(f"gs-sim generate: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    t0 = time.monotonic()
    paths = []
    with tqdm(total=args.episodes, unit="episode", disable=args.quiet) as bar:
        for i in range(args.episodes):
            path = out / f"episode_{i:04d}.mcap"
            with tqdm(unit="frame", leave=False, disable=args.quiet, desc=f"episode {i}") as frames:
                paths.append(
                    generate_episode(
                        path,
                        config,
                        args.seed,
                        i,
                        args.pushes,
                        masks=not args.no_masks,
                        sampling=sampling,
                        progress=frames.update,
                    )
                )
            bar.update(1)
    print(f"wrote {len(paths)} episodes to {out} in {time.monotonic() - t0:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gs-sim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="record random-push episodes with ground truth")
    add_cli_option(gen, SETTINGS, "object")
    gen.add_argument("--episodes", type=int, default=1)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", required=True, help="output directory")
    gen.add_argument("--pushes", type=int, default=3, help="pushes per episode")
    add_cli_option(gen, SETTINGS, "image_width", "--width")
    add_cli_option(gen, SETTINGS, "image_height", "--height")
    add_cli_option(gen, SETTINGS, "fps")
    add_cli_option(gen, SETTINGS, "num_cameras", "--cameras")
    gen.add_argument("--speed", type=float, default=0.08, help="push speed [m/s]")
    gen.add_argument("--no-masks", action="store_true", help="skip ground-truth masks")
    gen.add_argument("--quiet", action="store_true", help="no progress bars")
    gen.set_defaults(func=_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "episodes", 1) < 1 or getattr(args, "pushes", 1) < 1:
        print("gs-sim generate: --episodes and --pushes must be >= 1", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
