"""``gs-sim-bench``: frames per second of simulation + rendering (4 cameras, RGB + depth)
and episode generation time. A benchmark, not a test.

    gs-sim-bench --frames 60 --sizes 320x240 640x480 --object rope --episode
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import gs_sim  # noqa: F401  (MUJOCO_GL)
from gs_sim.generate import generate_episode
from gs_sim.push import validate_push
from gs_sim.rig_renderer import RigRenderer
from gs_sim.settings import workcell_config
from gs_sim.workcell import Workcell


def bench_stream(kind: str, width: int, height: int, frames: int) -> dict:
    """Physics + render of every camera per frame while a push runs (the node's loop)."""
    cfg = workcell_config({"object": kind, "image_width": width, "image_height": height})
    wc = Workcell(cfg, seed=0)
    r = RigRenderer(
        wc.model, wc.scene.camera_ids, width, height, wc.scene.flex_id, wc.scene.robot_geom_ids
    )
    c = wc.object_points().mean(axis=0)
    goal = validate_push(
        (c[0] - 0.1, c[1]), (c[0] + 0.08, c[1]), 0.0, 0.05, cfg.workspace, cfg.limits
    )
    wc.start_push(goal)
    r.render_all(wc.data)  # warm-up
    t_phys = t_render = 0.0
    for _ in range(frames):
        t0 = time.perf_counter()
        wc.step_frame()
        t1 = time.perf_counter()
        r.render_all(wc.data)
        t2 = time.perf_counter()
        t_phys += t1 - t0
        t_render += t2 - t1
        if not wc.busy:
            wc.start_push(goal)
    r.close()
    total = t_phys + t_render
    return {
        "object": kind,
        "size": f"{width}x{height}",
        "cameras": len(wc.cameras),
        "fps": frames / total,
        "physics_ms": 1e3 * t_phys / frames,
        "render_ms": 1e3 * t_render / frames,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="gs-sim-bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--sizes", nargs="+", default=["320x240", "640x480"])
    p.add_argument("--objects", nargs="+", default=["rope", "cloth", "toy"])
    p.add_argument(
        "--episode",
        action="store_true",
        help="also time one generated episode (rope, 3 pushes, 320x240, masks)",
    )
    args = p.parse_args(argv)
    print(f"machine: {platform.machine()} {platform.system()} python {platform.python_version()}")
    print("| object | size | cameras | sim+render FPS | physics ms/frame | render ms/frame |")
    print("|---|---|---|---|---|---|")
    for kind in args.objects:
        for size in args.sizes:
            w, h = (int(v) for v in size.split("x"))
            res = bench_stream(kind, w, h, args.frames)
            print(
                f"| {res['object']} | {res['size']} | {res['cameras']} | {res['fps']:.1f} | "
                f"{res['physics_ms']:.1f} | {res['render_ms']:.1f} |",
                flush=True,
            )
    if args.episode:
        cfg = workcell_config({"object": "rope"})
        frames = [0]
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            path = generate_episode(
                Path(tmp) / "ep.mcap",
                cfg,
                0,
                0,
                3,
                progress=lambda n: frames.__setitem__(0, frames[0] + n),
            )
            dt = time.perf_counter() - t0
            size_mb = path.stat().st_size / 1e6
        print(
            f"episode: rope, 3 pushes, 320x240, 4 cameras + masks: {frames[0]} frames in "
            f"{dt:.1f} s ({frames[0] / dt:.1f} frames/s), {size_mb:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
