"""``gs-track-bench``: seconds per tracked frame and accuracy vs. the iteration budget.

Tracks the same frames of one simulator episode with several per-frame budgets and prints,
side by side, the mean optimization time per frame and the 3D MTE / delta_avg against the
ground truth, so users can trade speed for accuracy.

    gs-track-bench data/track_eval/rope/episode_0000.mcap --budgets 5 10 20 30 --frames 0:60
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from gs_common.episode import load_episode
from gs_tracking.evaluate import carried
from gs_tracking.metrics import tracking_report
from gs_tracking.offline import track_episode
from gs_tracking.tracked_io import frame_slice
from gs_tracking.tracker import TrackerConfig


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="gs-track-bench", description=__doc__.splitlines()[0])
    p.add_argument("episode", help="simulator episode .mcap (with ground truth)")
    p.add_argument("--budgets", type=int, nargs="+", default=[5, 10, 20, 30])
    p.add_argument("--frames", default="0:60", help="frame range a:b[:step]")
    p.add_argument("--scale", type=float, default=0.5)
    p.add_argument("--first-frame-iterations", type=int, default=150)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ep = load_episode(args.episode)
    frames = frame_slice(args.frames, ep.num_frames)
    gt = ep.object_points[list(frames)]
    motion = 1000 * np.linalg.norm(gt[-1] - gt[0], axis=1).mean()
    print(
        f"{ep.metadata.get('object')} episode {args.episode}: frames {args.frames} "
        f"({len(frames)}), scale {args.scale}, torch threads {torch.get_num_threads()}, "
        f"ground-truth mean displacement {motion:.1f} mm"
    )
    print(
        f"{'budget':>6} {'Gaussians':>9} {'s/frame':>8} {'iters/frame':>11} "
        f"{'3D MTE mm':>9} {'d_avg':>6} {'first frame s':>13}"
    )
    for budget in args.budgets:
        cfg = TrackerConfig(  # a fixed budget per frame: the adaptive budget would vary it
            iterations=budget, first_frame_iterations=args.first_frame_iterations, adaptive=False
        )
        seq = track_episode(ep, cfg, args.scale, frames)
        rep = tracking_report(carried(seq, gt[0]), gt, ep.intrinsics, ep.world_from_camera)
        later = seq.stats[1:]
        print(
            f"{budget:>6} {seq.means.shape[1]:>9} {np.mean([s.seconds for s in later]):8.3f} "
            f"{np.mean([s.iterations for s in later]):11.1f} {rep['3d']['mte_mm']:9.2f} "
            f"{rep['3d']['delta_avg']:6.3f} {seq.stats[0].seconds:13.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
