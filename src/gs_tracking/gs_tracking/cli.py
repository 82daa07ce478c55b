"""``gs-track``: track recorded episodes offline and write tracked Gaussians + particles.

gs-track data/rope/episode_0000.mcap [more.mcap ...] --out tracked/rope
gs-track data/rope/*.mcap --out tracked/rope --iterations 20 --scale 0.5 --frames 0:60
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from gs_common.episode import load_episode
from gs_tracking.offline import track_episode
from gs_tracking.tracked_io import (
    FRAMES_HELP,
    frame_selection,
    save_tracking_outputs,
    settings_dict,
)
from gs_tracking.tracker import MULTIPUSH_SETTINGS, TRACKER_PRESETS, TrackerConfig


def add_tracker_args(p: argparse.ArgumentParser) -> None:
    d = TrackerConfig()
    p.add_argument(
        "--iterations",
        type=int,
        default=d.iterations,
        help="optimization budget per frame (default %(default)s)",
    )
    p.add_argument("--first-frame-iterations", type=int, default=d.first_frame_iterations)
    p.add_argument(
        "--scale",
        type=float,
        default=0.5,
        help="tracking resolution as a fraction of the camera's (default %(default)s)",
    )
    p.add_argument("--frames", default="", help=FRAMES_HELP)
    p.add_argument(
        "--multipush",
        action="store_true",
        help="enable the multi-push options (tracker.MULTIPUSH_SETTINGS: adaptive budget, "
        "pusher contact, observed-cloud term)",
    )
    p.add_argument(
        "--voxel", type=float, default=0.004, help="voxel size [m] of the fused first-frame cloud"
    )
    p.add_argument(
        "--preset",
        choices=list(TRACKER_PRESETS),
        default="none",
        help="per-object tracker settings: rope = tracker.ROPE_SETTINGS (adaptive budget, "
        "velocity gate; measured better on rope, worse on cloth); default none",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one TrackerConfig setting (repeatable), e.g. --set velocity=0.5",
    )


def tracker_config(args: argparse.Namespace) -> TrackerConfig:
    if args.iterations < 1 or args.first_frame_iterations < 1:
        raise ValueError(
            f"iteration budgets must be >= 1, got {args.iterations} and "
            f"{args.first_frame_iterations}"
        )
    if not 0.05 <= args.scale <= 1.0:
        raise ValueError(f"--scale must be in [0.05, 1], got {args.scale}")
    extra = dict(TRACKER_PRESETS[getattr(args, "preset", "none")])
    if getattr(args, "multipush", False):
        extra.update(MULTIPUSH_SETTINGS)
    extra.update(parse_overrides(getattr(args, "set", [])))
    return TrackerConfig(
        iterations=args.iterations, first_frame_iterations=args.first_frame_iterations, **extra
    )


def parse_overrides(items: list[str]) -> dict:
    """``["velocity=0.5", "adaptive=true"]`` -> typed TrackerConfig overrides; an unknown
    key or a value of the wrong type is a ValueError naming it."""
    fields = {f.name: f for f in dataclasses.fields(TrackerConfig)}
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or key not in fields:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE with KEY one of {sorted(fields)}")
        kind = type(fields[key].default)
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                value = text.lower() in ("true", "1")
            else:
                value = kind(text)
        except ValueError:
            raise ValueError(f"--set {key}: {text!r} is not a valid {kind.__name__}") from None
        out[key] = value
    return out


def tracker_settings(config: TrackerConfig, args: argparse.Namespace) -> dict:
    """Everything that determines a tracked result (stored with it, compared on reuse)."""
    return {**settings_dict(config), "scale": args.scale, "voxel": args.voxel}


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    parser = argparse.ArgumentParser(prog="gs-track", description=__doc__.splitlines()[0])
    parser.add_argument("episodes", nargs="+", help="episode .mcap files")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--particles",
        type=int,
        default=150,
        help="control particles per episode (farthest point sampling)",
    )
    add_tracker_args(parser)
    args = parser.parse_args(argv)
    try:
        config = tracker_config(args)
    except ValueError as exc:
        print(f"gs-track: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    for path in args.episodes:
        try:
            ep = load_episode(path)
            frames = frame_selection(args.frames, ep)
        except (OSError, ValueError) as exc:
            print(f"gs-track: {path}: {exc}", file=sys.stderr)
            return 2
        start = time.monotonic()
        with tqdm(total=len(frames), unit="frame", desc=Path(path).stem) as bar:
            seq = track_episode(
                ep,
                config,
                args.scale,
                frames,
                args.voxel,
                progress=lambda _f, s: (bar.update(1), bar.set_postfix(it=s.iterations)),
            )
        stem = Path(path).stem
        points, removed = save_tracking_outputs(
            seq,
            ep,
            str(path),
            tracker_settings(config, args),
            out / f"{stem}.gaussians.safetensors",
            out / f"{stem}.npz",
            args.particles,
        )
        per_frame = np.mean([s.seconds for s in seq.stats[1:]]) if len(seq.stats) > 1 else 0
        print(
            f"{stem}: {seq.means.shape[1]} Gaussians, {len(frames)} frames, "
            f"{points.shape[1]} particles ({removed} motion outliers removed), "
            f"{per_frame:.2f} s/frame, {time.monotonic() - start:.0f} s total -> {out}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
