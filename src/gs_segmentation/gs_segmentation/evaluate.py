"""``gs-seg eval``: object masks against the simulator's ground truth (J&F per camera).

Every frame of each episode (or every ``--every``-th, in order: the segmenter's colour
model evolves over time) is segmented; J (mask IoU) and F (DAVIS
boundary F-score, tolerance 0.008 x the image diagonal) are computed per camera against the
ground-truth object mask, averaged per object type. Robot exclusion (``--robot-masks``):
``none`` (the geometric backend alone) or ``oracle`` (the simulator's ground-truth robot
masks, for the robot ONLY; said in every output). The worst frames are drawn into a PNG
strip (green: correct, red: false object, blue: missed object).

``--track`` additionally tracks each episode (gs_tracking's offline API, same tracker
settings, every frame of ``--frames``) twice on the same frames: with the segmentation
masks (robot input: the oracle robot masks, or with ``--robot-masks none`` the
segmentation's occluder masks) and with the ground-truth object and robot masks, and
reports the 3D MTE of both (gs_tracking.evaluate's protocol).
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

from gs_common.episode import Episode, load_episode
from gs_segmentation.geometric import GeometricConfig
from gs_segmentation.metrics import boundary_f, mask_iou
from gs_segmentation.pipeline import BACKENDS, ObjectPerception, make_backend
from gs_segmentation.views import RGBDView

ROBOT_SOURCES = ("none", "oracle")
ORACLE_NOTE = "robot exclusion: simulator ground-truth robot masks (oracle, robot ONLY)"


def episode_views(ep: Episode, frame: int, robot: str) -> list[RGBDView]:
    cams = range(len(ep.camera_names))
    return [
        RGBDView(
            ep.color(frame, c),
            ep.depth(frame, c),
            ep.intrinsics[c],
            ep.world_from_camera[c],
            ep.robot_mask(frame, c) if robot == "oracle" else None,
        )
        for c in cams
    ]


def segment_episode(
    ep: Episode, perception: ObjectPerception, frames, robot: str, progress=None
) -> tuple[dict[int, list[np.ndarray]], dict[int, list[np.ndarray]]]:
    """({frame: C (H, W) bool object masks}, {frame: C occluder masks}) of ``frames``,
    segmented in order."""
    perception.backend.reset()
    masks, occluders = {}, {}
    for f in frames:
        res = perception.process(episode_views(ep, f, robot), fuse=False)
        masks[f], occluders[f] = res.masks, res.occluders
        if progress:
            progress()
    return masks, occluders


class MaskedEpisode:
    """An episode whose object masks are replaced by given ones (for gs_tracking's offline
    API); the robot mask is the ground truth (``oracle``) or, without robot masks
    (``none``), the segmentation's occluder masks."""

    def __init__(self, ep: Episode, masks: dict, robot: str, occluders: dict):
        self._ep, self._masks, self._robot, self._occ = ep, masks, robot, occluders

    def __getattr__(self, name):
        return getattr(self._ep, name)

    def _index(self, cam) -> int:
        return self._ep.camera_names.index(cam) if isinstance(cam, str) else int(cam)

    def object_mask(self, frame: int, cam) -> np.ndarray:
        return self._masks[frame][self._index(cam)]

    def robot_mask(self, frame: int, cam) -> np.ndarray:
        if self._robot == "oracle":
            return self._ep.robot_mask(frame, cam)
        return self._occ[frame][self._index(cam)]


def overlay(color: np.ndarray, pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    img = (color.astype(np.float32) * 0.5).astype(np.uint8)
    img[pred & truth] = (40, 200, 40)
    img[pred & ~truth] = (230, 30, 30)
    img[~pred & truth] = (40, 80, 255)
    return img


def save_strip(cases: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(cases))
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.0), squeeze=False)
    for ax, case in zip(axes[0], cases):
        ax.imshow(case["image"])
        ax.set_title(
            f"{case['object']} {case['episode']}\nframe {case['frame']} {case['camera']} "
            f"J={case['J']:.3f} F={case['F']:.3f}",
            fontsize=7,
        )
        ax.axis("off")
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def track_compare(ep: Episode, masks, occluders, frames: range, robot: str, args) -> dict:
    """3D MTE [mm] of gs_tracking with segmentation masks vs ground-truth masks."""
    from gs_tracking.cli import tracker_config
    from gs_tracking.evaluate import carried
    from gs_tracking.metrics import tracking_report
    from gs_tracking.offline import track_episode

    config = tracker_config(args)
    gt = ep.object_points[list(frames)]
    out = {}
    for name, source in (
        ("segmentation", MaskedEpisode(ep, masks, robot, occluders)),
        ("ground_truth", ep),
    ):
        t0 = time.monotonic()
        seq = track_episode(source, config, args.scale, frames, args.voxel)
        rep = tracking_report(carried(seq, gt[0]), gt, ep.intrinsics, ep.world_from_camera)
        out[name] = {
            "3d_mte_mm": float(rep["3d"]["mte_mm"]),
            "3d_delta_avg": float(rep["3d"]["delta_avg"]),
            "seconds": time.monotonic() - t0,
        }
        print(f"  tracking with {name} masks: 3D MTE {out[name]['3d_mte_mm']:.2f} mm", flush=True)
    s, g = out["segmentation"]["3d_mte_mm"], out["ground_truth"]["3d_mte_mm"]
    out["relative_difference"] = (s - g) / g if g > 0 else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    parser = argparse.ArgumentParser(prog="gs-seg eval", description=__doc__.splitlines()[0])
    parser.add_argument("episodes", nargs="+", help="simulator episode .mcap files")
    parser.add_argument("--out", required=True, help="report directory (JSON + PNG)")
    parser.add_argument("--backend", default="geometric", choices=BACKENDS)
    parser.add_argument("--weights", default="", help="learned backend: local weights directory")
    parser.add_argument("--robot-masks", default="none", choices=ROBOT_SOURCES)
    parser.add_argument(
        "--every", type=int, default=1, help="segment (in order) and score every n-th frame"
    )
    parser.add_argument("--frames", default="", help="frame range a:b (default: all)")
    parser.add_argument("--worst", type=int, default=6, help="worst cases in the PNG strip")
    parser.add_argument("--track", action="store_true", help="also compare tracking 3D MTE")
    parser.add_argument(
        "--warmup",
        action="store_true",
        help="with --frames: segment from frame 0 (colour model warmed up), score --frames",
    )
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--first-frame-iterations", type=int, default=100)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--voxel", type=float, default=0.004)
    args = parser.parse_args(argv)
    if args.every < 1:
        print(f"gs-seg eval: --every must be >= 1, got {args.every}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        backend = make_backend(args.backend, GeometricConfig(), args.weights)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gs-seg eval: {exc}", file=sys.stderr)
        return 2
    perception = ObjectPerception(backend)
    note = ORACLE_NOTE if args.robot_masks == "oracle" else "robot exclusion: none (no robot masks)"
    print(note, flush=True)
    per_object: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    cases, tracking, sizes, seconds = [], {}, set(), []
    for path in args.episodes:
        try:
            ep = load_episode(path)
        except (OSError, ValueError) as exc:
            print(f"gs-seg eval: {path}: {exc}", file=sys.stderr)
            return 2
        obj = ep.metadata.get("object", "unknown")
        name = Path(path).stem
        frames = range(ep.num_frames)
        if args.frames:
            a, b = (int(x) if x else None for x in args.frames.split(":"))
            frames = frames[a:b]
        sizes.add(f"{ep.intrinsics[0].width}x{ep.intrinsics[0].height}")
        seg_frames = frames if args.track else frames[:: args.every]
        if args.warmup:  # as a live node would: segment from the episode's start
            seg_frames = range(0, seg_frames.stop, seg_frames.step)
        bar = tqdm(total=len(seg_frames), desc=f"{obj}/{name}", unit="frame", file=sys.stderr)
        t0 = time.monotonic()
        masks, occluders = segment_episode(ep, perception, seg_frames, args.robot_masks, bar.update)
        bar.close()
        seconds.append((time.monotonic() - t0) / len(seg_frames))
        for f in list(frames)[:: args.every]:
            for c, cam in enumerate(ep.camera_names):
                truth = ep.object_mask(f, c)
                j, fs = mask_iou(masks[f][c], truth), boundary_f(masks[f][c], truth)
                per_object[obj][cam].append((j, fs))
                cases.append(
                    {
                        "object": obj,
                        "episode": name,
                        "frame": f,
                        "camera": cam,
                        "J": j,
                        "F": fs,
                        "image": (ep, masks[f][c]),
                    }
                )
        # keep only the worst cases (and their images) across episodes
        cases = sorted(cases, key=lambda c: c["J"])[: args.worst]
        for case in cases:
            if isinstance(case["image"], tuple):
                src, pred = case["image"]
                case["image"] = overlay(
                    src.color(case["frame"], case["camera"]),
                    pred,
                    src.object_mask(case["frame"], case["camera"]),
                )
        if args.track:
            print(f"{obj}/{name}: tracking frames {frames.start}:{frames.stop}", flush=True)
            tracking[f"{obj}/{name}"] = track_compare(
                ep, masks, occluders, frames, args.robot_masks, args
            )
    results = {}
    for obj, cams in sorted(per_object.items()):
        rows = {
            cam: {
                "J": float(np.mean([v[0] for v in vals])),
                "F": float(np.mean([v[1] for v in vals])),
                "J_min": float(np.min([v[0] for v in vals])),
                "n": len(vals),
            }
            for cam, vals in cams.items()
        }
        allv = [v for vals in cams.values() for v in vals]
        j = float(np.mean([v[0] for v in allv]))
        f = float(np.mean([v[1] for v in allv]))
        results[obj] = {
            "cameras": rows,
            "J": j,
            "F": f,
            "JF": (j + f) / 2,
            "J_p05": float(np.percentile([v[0] for v in allv], 5)),
        }
    report = {
        "backend": args.backend,
        "robot_masks": args.robot_masks,
        "note": note,
        "resolution": sorted(sizes),
        "episodes": args.episodes,
        "every": args.every,
        "seconds_per_frame": float(np.mean(seconds)),
        "results": results,
        "tracking": tracking,
    }
    worst = cases
    legend = f"{args.backend} backend; {note}; green ok, red false, blue missed"
    save_strip(worst, out / "worst_cases.png", legend)
    report["worst_cases"] = [{k: v for k, v in c.items() if k != "image"} for c in worst]
    tmp = out / "segmentation_report.json.tmp"
    tmp.write_text(json.dumps(report, indent=2))
    os.replace(tmp, out / "segmentation_report.json")
    print_table(report)
    print(f"report: {out / 'segmentation_report.json'}, worst cases: {out / 'worst_cases.png'}")
    return 0


def print_table(report: dict) -> None:
    print(f"\nbackend {report['backend']}; {report['note']}; resolution {report['resolution']}")
    print(f"{'object':<7} {'J (IoU)':>8} {'F':>7} {'J&F':>7} {'J p5':>7}")
    for obj, r in report["results"].items():
        print(f"{obj:<7} {r['J']:8.3f} {r['F']:7.3f} {r['JF']:7.3f} {r['J_p05']:7.3f}")
    for key, t in report["tracking"].items():
        s, g = t["segmentation"]["3d_mte_mm"], t["ground_truth"]["3d_mte_mm"]
        print(
            f"tracking {key}: 3D MTE {s:.2f} mm (segmentation) vs {g:.2f} mm (ground truth), "
            f"{100 * t['relative_difference']:+.1f} %"
        )
