"""``gs-dyn bench``: rollout throughput (graphs x steps per second), batched over B graphs."""

from __future__ import annotations

import json
import platform
import time

import numpy as np
import torch

from gs_common.device import resolve_device
from gs_common.push import directions, tool_paths
from gs_gnn_dynamics.checkpoint import load_checkpoint
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.predictor import resolve_checkpoint
from gs_gnn_dynamics.rollout import rollout


def bench_rollout(
    model: ParticleDynamics, batch: int, particles: int, steps: int, repeats: int, seed: int = 0
) -> dict:
    """Time ``repeats`` rollouts of ``batch`` graphs of ``particles`` particles (a 0.3 m x
    0.3 m patch, ~3 cm spacing) under straight 1 cm-step tool paths; best and median."""
    dev = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(batch, particles, 3, generator=g) * torch.tensor([0.3, 0.3, 0.01])
    theta = torch.rand(batch, generator=g) * 2 * np.pi
    start = torch.tensor([0.15, 0.15]) - 0.1 * directions(theta)  # 10 cm before the centre
    pushes = torch.cat([start, theta[:, None], torch.full((batch, 1), steps * 0.01)], 1)
    path = tool_paths(pushes, 0.005, 0.01)  # (B, steps + 1, 3)
    pts, path = pts.to(dev), path.to(dev)
    times = []
    with torch.no_grad():
        rollout(model, pts, path[:, :2])  # warm-up
        for _ in range(repeats):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            rollout(model, pts, path)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    best, med = min(times), float(np.median(times))
    return {
        "batch": batch,
        "particles": particles,
        "steps": steps,
        "hidden": model.cfg.hidden,
        "best_s": best,
        "median_s": med,
        "graph_steps_per_s": batch * steps / med,
        "ms_per_step": 1e3 * med / steps,
    }


def bench_predicted_render(
    gaussians: int = 2000,
    steps: int = 10,
    width: int = 320,
    height: int = 240,
    repeats: int = 3,
    seed: int = 0,
) -> dict:
    """Time the 10-step predicted rendering of the issue: ``gaussians`` Gaussians along a
    0.45 m rope, moved by LBS over a ``steps``-step particle trajectory (15 particles) and
    rendered into the 4 table-corner cameras at width x height at every step (CPU)."""
    from gs_gnn_dynamics.predicted_render import render_predicted
    from gs_render import table_corner_rig

    g = torch.Generator().manual_seed(seed)
    s = torch.rand(gaussians, generator=g) * 0.45 - 0.225
    means = torch.stack(
        [
            s,
            0.01 * torch.randn(gaussians, generator=g),
            0.008 + 0.004 * torch.rand(gaussians, generator=g),
        ],
        1,
    )
    quats = torch.zeros(gaussians, 4)
    quats[:, 0] = 1.0
    gs = {
        "means": means,
        "quats": quats,
        "scales": torch.full((gaussians, 3), 0.004),
        "opacities": torch.full((gaussians,), 0.9),
        "colors": torch.rand(gaussians, 3, generator=g),
    }
    ctrl0 = torch.stack(
        [torch.linspace(-0.21, 0.21, 15), torch.zeros(15), torch.full((15,), 0.008)], 1
    )
    bend = torch.linspace(0, 1, steps + 1)[:, None, None] * torch.stack(
        [torch.zeros(15), 0.05 * torch.cos(ctrl0[:, 0] / 0.45 * torch.pi), torch.zeros(15)], 1
    )
    ctrl = ctrl0[None] + bend  # (steps + 1, 15, 3)
    viewmats, ks = table_corner_rig(width, height)
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            render_predicted(ctrl, gs, viewmats, ks, width, height, steps=list(range(1, steps + 1)))
            times.append(time.perf_counter() - t0)
    med = float(np.median(times[1:]))  # the first run warms up
    return {
        "gaussians": gaussians,
        "steps": steps,
        "cameras": len(viewmats),
        "size": f"{width}x{height}",
        "median_s": med,
        "ms_per_step": 1e3 * med / steps,
    }


def run_bench(args) -> list[dict]:
    device = resolve_device(args.device)
    model, _ = load_checkpoint(resolve_checkpoint(args.checkpoint), device)
    models = [model] + [
        ParticleDynamics(DynamicsConfig(**{**model.cfg.to_dict(), "hidden": h})).to(device).eval()
        for h in args.hidden
    ]
    print(f"device {device}, torch threads {torch.get_num_threads()}, {platform.machine()}")
    print(f"{'hidden':>6} {'B':>5} {'N':>5} {'steps':>5} {'ms/step':>9} {'graph-steps/s':>14}")
    results = []
    for m in models:
        for b in args.batch:
            r = bench_rollout(m, b, args.particles, args.steps, args.repeats)
            results.append(r)
            print(
                f"{r['hidden']:6d} {b:5d} {r['particles']:5d} {r['steps']:5d} "
                f"{r['ms_per_step']:9.2f} {r['graph_steps_per_s']:14.1f}"
            )
    if getattr(args, "render", False):
        r = bench_predicted_render()
        print(
            f"predicted rendering: {r['steps']} steps of {r['gaussians']} Gaussians into "
            f"{r['cameras']} cameras at {r['size']}: {r['median_s']:.2f} s "
            f"({r['ms_per_step']:.0f} ms per step, LBS + render, median)"
        )
        results.append({"predicted_render": r})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"device": str(device), "threads": torch.get_num_threads(), "results": results},
                f,
                indent=2,
            )
    return results
