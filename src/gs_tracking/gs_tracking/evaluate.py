"""``gs-track-eval``: tracking accuracy against simulator ground truth (GS-Dynamics Table 1).

For every episode the simulator's object vertices at the first tracked frame are the query
points; the tracker carries them with its Gaussians (LBS anchors) and the baseline with
nearest-neighbour association of each frame's fused cloud. Metrics (gs_tracking.metrics):
3D MTE [mm], delta_avg at 2/4/8/16 mm, survival (0.5 m), and the same in 2D [px] averaged
over the cameras. Results per object type, side by side, as JSON + a PNG plot.

    gs-track-eval data/eval/rope/*.mcap data/eval/cloth/*.mcap --out reports/tracking
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gs_common.episode import load_episode
from gs_tracking.anchors import Anchors
from gs_tracking.baseline import nearest_neighbour_tracks
from gs_tracking.cli import add_tracker_args, tracker_config, tracker_settings
from gs_tracking.fusion import fuse_views
from gs_tracking.metrics import tracking_report
from gs_tracking.offline import track_episode
from gs_tracking.tracked_io import frame_selection, load_tracked, save_tracked
from gs_tracking.tracker import legacy_config

#: GS-Dynamics paper, Table 1 (real rope data, 4 cameras): 3D median trajectory error.
PAPER_ROPE_MTE_MM = 6.90


def carried(seq, queries: np.ndarray) -> np.ndarray:
    """(T, Q, 3) positions of (Q, 3) first-frame ``queries`` carried by the tracked Gaussians."""
    anchors = Anchors.attach(
        torch.as_tensor(queries, dtype=torch.float32),
        torch.as_tensor(seq.means[0]),
        torch.as_tensor(seq.quats[0]),
    )
    return np.stack(
        [
            anchors.positions(torch.as_tensor(m), torch.as_tensor(q)).numpy()
            for m, q in zip(seq.means, seq.quats)
        ]
    )


def baseline_tracks(ep, frames, queries: np.ndarray, voxel: float) -> np.ndarray:
    clouds = []
    cams = range(len(ep.camera_names))
    for f in frames:
        masks = [ep.object_mask(f, c) & ~ep.robot_mask(f, c) for c in cams]
        try:
            pts, _ = fuse_views(
                [ep.depth(f, c) for c in cams],
                masks,
                ep.intrinsics,
                ep.world_from_camera,
                voxel_size=voxel,
            )
        except ValueError:  # fully occluded frame: nothing to associate with
            pts = np.zeros((0, 3), np.float32)
        clouds.append(pts)
    return nearest_neighbour_tracks(queries, clouds)


def summarize(rows: list[dict]) -> dict:
    keys = [
        ("3d", "mte_mm"),
        ("3d", "delta_avg"),
        ("3d", "survival"),
        ("2d", "mte_px"),
        ("2d", "delta_avg"),
        ("2d", "survival"),
    ]
    return {f"{a}_{b}": float(np.mean([r[a][b] for r in rows])) for a, b in keys}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gs-track-eval", description=__doc__.splitlines()[0])
    parser.add_argument("episodes", nargs="+", help="simulator episode .mcap files")
    parser.add_argument("--out", required=True, help="report directory (JSON + PNG)")
    parser.add_argument(
        "--tracked", default="", help="directory of tracked files to reuse / write (default: <out>)"
    )
    parser.add_argument(
        "--compare-legacy",
        action="store_true",
        help="also track with the previous tracker (fixed budget, no contact/cloud terms) "
        "and report it as gaussians_legacy, with its own s/frame",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="episodes x trackers tracked in parallel processes (1 torch thread each)",
    )
    add_tracker_args(parser)
    args = parser.parse_args(argv)
    try:
        config = tracker_config(args)
    except ValueError as exc:
        print(f"gs-track-eval: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    tracked_dir = Path(args.tracked) if args.tracked else out
    per_object: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    curves: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, list] = defaultdict(list)
    iterations: dict[str, list] = defaultdict(list)
    trackers = [("gaussians", config, "")]
    if args.compare_legacy:
        trackers.append(("gaussians_legacy", legacy_config(config), ".legacy"))
    if args.jobs > 1:
        _track_in_parallel(args, trackers, tracked_dir)
    for path in tqdm(args.episodes, desc="gs-track-eval", unit="episode"):
        try:
            ep = load_episode(path)
            frames = frame_selection(args.frames, ep)
        except (OSError, ValueError) as exc:
            print(f"gs-track-eval: {path}: {exc}", file=sys.stderr)
            return 2
        obj = ep.metadata.get("object", "unknown")
        gt = ep.object_points[list(frames)]
        preds = {}
        for method, cfg, suffix in trackers:
            seq = _tracked(ep, path, cfg, args, frames, tracked_dir / f"{_name(path)}{suffix}")
            seconds[method] += [s.seconds for s in seq.stats[1:]]
            iterations[method] += [s.iterations for s in seq.stats[1:]]
            preds[method] = carried(seq, gt[0])
        preds["nn_baseline"] = baseline_tracks(ep, frames, gt[0], args.voxel)
        for method, pred in preds.items():
            rep = tracking_report(pred, gt, ep.intrinsics, ep.world_from_camera)
            rep["episode"] = str(path)
            per_object[obj][method].append(rep)
            curves[obj][method].append(1000 * np.linalg.norm(pred - gt, axis=-1).mean(1))

    results = {
        obj: {m: {"summary": summarize(rows), "episodes": rows} for m, rows in methods.items()}
        for obj, methods in per_object.items()
    }
    report = {
        "results": results,
        "iterations_per_frame": {m: float(np.mean(v)) for m, v in iterations.items()},
        "scale": args.scale,
        "seconds_per_frame": {m: float(np.mean(v)) for m, v in seconds.items()},
        "settings": tracker_settings(config, args),
        "paper": {"rope_3d_mte_mm_real": PAPER_ROPE_MTE_MM},
    }
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "tracking_report.json.tmp"
    tmp.write_text(json.dumps(report, indent=2))
    os.replace(tmp, out / "tracking_report.json")
    plot_curves(curves, out / "tracking_error.png")
    print_table(results, report["iterations_per_frame"], args.scale, report["seconds_per_frame"])
    print(f"report: {out / 'tracking_report.json'}, plot: {out / 'tracking_error.png'}")
    return 0


def print_table(results: dict, iterations: dict, scale: float, sec: dict) -> None:
    head = (
        f"{'object':<7} {'method':<16} {'3D MTE mm':>9} {'+-sd':>5} {'d_avg':>6} {'surv':>5} "
        f"{'2D MTE px':>9} {'d_avg':>6} {'surv':>5}"
    )
    print(f"\ntracking at {scale:g} x resolution on this machine:")
    for m in sec:
        print(f"  {m}: {iterations[m]:.1f} iterations/frame, {sec[m]:.2f} s/frame")
    print(head)
    for obj, methods in sorted(results.items()):
        for m, r in methods.items():
            s = r["summary"]
            sd = np.std([e["3d"]["mte_mm"] for e in r["episodes"]])
            print(
                f"{obj:<7} {m:<16} {s['3d_mte_mm']:9.2f} {sd:5.2f} {s['3d_delta_avg']:6.3f} "
                f"{s['3d_survival']:5.2f} {s['2d_mte_px']:9.2f} {s['2d_delta_avg']:6.3f} "
                f"{s['2d_survival']:5.2f}"
            )
    print(f"{'rope':<7} {'paper(real)':<16} {PAPER_ROPE_MTE_MM:9.2f}   (GS-Dynamics Table 1)")


def _name(path) -> str:
    """Cache name of an episode: ``<directory>_<stem>`` (episode files of different objects
    share stems)."""
    return f"{Path(path).parent.name}_{Path(path).stem}"


def _track_job(job) -> str:
    path, cfg, args, stem = job
    torch.set_num_threads(1)
    ep = load_episode(path)
    _tracked(ep, path, cfg, args, frame_selection(args.frames, ep), stem)
    return str(stem)


def _track_in_parallel(args, trackers, tracked_dir: Path) -> None:
    """Track every (episode, tracker) pair in ``args.jobs`` processes; results land in the
    cache files that the evaluation then reads."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [
        (path, cfg, args, tracked_dir / f"{_name(path)}{suffix}")
        for path in args.episodes
        for _, cfg, suffix in trackers
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        for stem in pool.map(_track_job, jobs):
            print(f"done: {Path(stem).name}", flush=True)


def _tracked(ep, path, config, args, frames, stem: Path):
    """Tracked sequence of an episode: reused from ``<stem>.gaussians.safetensors`` when it
    holds the same frames and settings, else tracked and written there."""
    settings = tracker_settings(config, args)
    cache = stem.with_name(stem.name + ".gaussians.safetensors")
    if cache.is_file():
        seq, meta = load_tracked(cache)
        same = meta["settings"] == settings and meta["source_episode"] == str(path)
        if same and list(seq.frames) == list(frames):
            return seq
    t0 = time.monotonic()
    seq = track_episode(ep, config, args.scale, frames, args.voxel)
    print(
        f"{Path(path).name}: tracked {len(frames)} frames in {time.monotonic() - t0:.0f} s "
        f"({stem.name})",
        flush=True,
    )
    save_tracked(cache, seq, str(path), settings)
    return seq


def plot_curves(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, max(1, len(curves)), figsize=(4.5 * max(1, len(curves)), 3.5), squeeze=False
    )
    for ax, (obj, methods) in zip(axes[0], sorted(curves.items())):
        for m, runs in methods.items():
            n = min(len(r) for r in runs)
            mean = np.mean([r[:n] for r in runs], axis=0)
            ax.plot(np.arange(n), mean, label=m)
        ax.set_title(obj)
        ax.set_xlabel("tracked frame")
        ax.set_ylabel("mean 3D error [mm]")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
