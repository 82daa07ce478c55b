"""``gs-viz`` command line.

gs-viz snapshot --out docs/img/scene.png            # headless picture of a plan's markers
gs-viz snapshot --scene out/viz/scene.npz --out x.png   # redraw a stored scene (no planning)
gs-viz layout --out config/foxglove/planning_layout.json   # the Foxglove layout
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _snapshot(args) -> int:
    from gs_viz.render import render
    from gs_viz.scene import load_scene, save_scene, scene_markers, simulated_scene

    t0 = time.monotonic()
    if args.scene and Path(args.scene).is_file():
        scene = load_scene(args.scene)
        print(f"loaded {args.scene}")
    else:
        if args.threads > 0:
            import torch

            torch.set_num_threads(args.threads)
        print(f"planning one decision on the simulated rope (seed {args.seed}) ...", flush=True)
        scene = simulated_scene(args.seed, args.horizon, args.samples, args.iterations)
        if args.scene:
            save_scene(scene, args.scene)
            print(f"wrote {args.scene}")
    specs = scene_markers(scene)
    out = render(
        specs,
        Path(args.out),
        title="gs_dynamics: a planned push sequence and its predicted particle motion",
        footer=f"{scene.info}; made by `gs-viz snapshot`",
        num_steps=len(scene.plan.positions) - 1,
    )
    print(f"wrote {out} ({len(specs)} markers) in {time.monotonic() - t0:.0f} s")
    return 0


def _layout(args) -> int:
    from gs_viz.layout import write_layout

    print(f"wrote {write_layout(Path(args.out))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gs-viz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("snapshot", help="headless PNG of the markers of one planned decision")
    s.add_argument("--out", default="docs/img/scene.png")
    s.add_argument("--seed", type=int, default=1000, help="simulated rope's seed")
    s.add_argument("--horizon", type=int, default=2, help="pushes per plan")
    s.add_argument("--samples", type=int, default=64, help="MPPI samples per iteration")
    s.add_argument("--iterations", type=int, default=4, help="MPPI iterations")
    s.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    s.add_argument(
        "--scene",
        default="",
        help=".npz of the scene: loaded when it exists (no planning), else written after planning",
    )
    s.set_defaults(func=_snapshot)
    la = sub.add_parser("layout", help="write the Foxglove layout JSON")
    la.add_argument("--out", default="config/foxglove/planning_layout.json")
    la.set_defaults(func=_layout)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
