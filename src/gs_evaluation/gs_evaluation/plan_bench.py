"""Task benchmark (``gs-plan bench``): the full simulator + learned dynamics + planner
loop (gs_mppi_planner.mpc.run_mpc, the loop of the planner node), headless and in-process,
for several planners on the same seeds with the same budget per decision. Writes
``results.json``, ``summary.md`` and the Fig. 5 plots (``error_vs_pushes.png``,
``success_vs_threshold.png``)."""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np

from gs_evaluation.plan_episode import EpisodeConfig, EpisodeResult, run_episode
from gs_mppi_planner.costs import CostConfig
from gs_mppi_planner.mppi import MPPIConfig, make_planner
from gs_mppi_planner.plots import (
    LABELS,
    padded_errors,
    plot_error_vs_pushes,
    plot_success_vs_threshold,
    save_topdown,
    success_curve,
)
from gs_mppi_planner.push_model import PushModel


def parse_seeds(text: str) -> list[int]:
    """'1000-1019' or '1,5,7' or '1000-1004,2000' -> list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            a, b = part.split("-", 1)
            lo, hi = int(a), int(b)
            if hi < lo:
                raise ValueError(f"seed range {part!r} is empty")
            seeds.extend(range(lo, hi + 1))
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError(f"no seeds in {text!r}")
    return seeds


def summarize(
    results: list[EpisodeResult], planners: list[str], threshold: float, max_pushes: int
) -> dict:
    """Per planner: success rate at ``threshold``, final errors, pushes, decision latency;
    paired comparison of each planner's final error with best-of-N shooting's."""
    out = {}
    by = {p: sorted((r for r in results if r.planner == p), key=lambda r: r.seed) for p in planners}
    for p, rs in by.items():
        if not rs:
            continue
        final = np.array([r.errors[-1] for r in rs])
        lat = np.concatenate([r.latencies for r in rs]) if any(r.latencies for r in rs) else []
        err = padded_errors([r.errors for r in rs], max_pushes)
        out[p] = {
            "episodes": len(rs),
            "success_rate": float((final <= threshold).mean()),
            "initial_error_median_mm": float(np.median([r.errors[0] for r in rs]) * 1000),
            "final_error_median_mm": float(np.median(final) * 1000),
            "final_error_mean_mm": float(final.mean() * 1000),
            "error_median_mm_per_push": [float(v) for v in np.median(err, 0) * 1000],
            "pushes_mean": float(np.mean([len(r.pushes) for r in rs])),
            "rejected_pushes": int(sum(r.rejected for r in rs)),
            "rollouts_per_decision": int(np.median(np.concatenate([r.rollouts for r in rs])))
            if any(r.rollouts for r in rs)
            else 0,
            "latency_mean_s": float(np.mean(lat)) if len(lat) else 0.0,
            "latency_median_s": float(np.median(lat)) if len(lat) else 0.0,
            "latency_p95_s": float(np.percentile(lat, 95)) if len(lat) else 0.0,
            "latency_max_s": float(np.max(lat)) if len(lat) else 0.0,
        }
    if by.get("shooting"):
        ref = {r.seed: r.errors[-1] for r in by["shooting"]}
        for p, rs in by.items():
            if p == "shooting" or p not in out:
                continue
            d = np.array([(r.errors[-1] - ref[r.seed]) * 1000 for r in rs if r.seed in ref])
            out[p]["vs_shooting"] = {
                "final_error_diff_mean_mm": float(d.mean()),
                "final_error_diff_median_mm": float(np.median(d)),
                "better": int((d < -0.5).sum()),
                "worse": int((d > 0.5).sum()),
                "ties": int((np.abs(d) <= 0.5).sum()),
            }
    return out


def summary_markdown(summary: dict, meta: dict) -> str:
    th = meta["threshold"] * 1000
    lines = [
        f"Task `{meta['task']}`, seeds {meta['seeds']}, max {meta['max_pushes']} pushes, "
        f"budget {meta['budget']} model rollouts per decision "
        f"(K={meta['num_samples']} x {meta['iterations']} iterations), success = final "
        f"Chamfer distance <= {th:.0f} mm.",
        "",
        "| planner | success @ "
        f"{th:.0f} mm | final error median [mm] | mean [mm] | pushes (mean) | decision "
        "latency mean / p95 / max [s] | rollouts / decision |",
        "|---|---|---|---|---|---|---|",
    ]
    for p, s in summary.items():
        lines.append(
            f"| {LABELS.get(p, p)} | {s['success_rate'] * 100:.0f} % ({s['episodes']} episodes) | "
            f"{s['final_error_median_mm']:.1f} | {s['final_error_mean_mm']:.1f} | "
            f"{s['pushes_mean']:.1f} | {s['latency_mean_s']:.2f} / {s['latency_p95_s']:.2f} / "
            f"{s['latency_max_s']:.2f} | {s['rollouts_per_decision']} |"
        )
    lines.append("")
    for p, s in summary.items():
        if "vs_shooting" in s:
            v = s["vs_shooting"]
            lines.append(
                f"- {LABELS.get(p, p)} vs best-of-N (paired by seed, final error): mean "
                f"{v['final_error_diff_mean_mm']:+.1f} mm, median "
                f"{v['final_error_diff_median_mm']:+.1f} mm; better on {v['better']}, worse on "
                f"{v['worse']}, tied on {v['ties']} seeds."
            )
    lines.append("")
    lines.append(
        "Median error [mm] after 0..N pushes: "
        + "; ".join(
            f"{LABELS.get(p, p)}: " + " ".join(f"{v:.1f}" for v in s["error_median_mm_per_push"])
            for p, s in summary.items()
        )
    )
    return "\n".join(lines) + "\n"


def run_bench(
    task: str,
    seeds: list[int],
    planners: list[str],
    out: Path,
    episode: EpisodeConfig,
    mppi: MPPIConfig,
    cost: CostConfig,
    threshold: float,
    device: str = "auto",
    checkpoint: str = "",
    images: bool = False,
    log=print,
    progress: bool = True,
) -> dict:
    """Run every planner on every seed (seed-major order), write results and plots; a
    progress bar with ETA (``progress``) or one ``log`` line per episode."""
    out.mkdir(parents=True, exist_ok=True)
    model = PushModel(checkpoint, device)
    objs = {p: make_planner(p, model, cost, mppi) for p in planners}
    meta = {
        "task": task,
        "seeds": f"{seeds[0]}-{seeds[-1]}"
        if seeds == list(range(seeds[0], seeds[-1] + 1))
        else ",".join(map(str, seeds)),
        "planners": planners,
        "max_pushes": episode.max_pushes,
        "tolerance": episode.tolerance,
        "threshold": threshold,
        "budget": mppi.budget,
        "num_samples": mppi.num_samples,
        "iterations": mppi.iterations,
        "mppi": dataclasses.asdict(mppi),
        "cost": dataclasses.asdict(cost),
        "episode": dataclasses.asdict(episode),
        "checkpoint": model.checkpoint,
        "device": str(model.device),
        "machine": f"{platform.machine()} {platform.system()}",
    }
    from tqdm import tqdm

    results: list[EpisodeResult] = []
    t0 = time.monotonic()
    bar = tqdm(total=len(seeds) * len(planners), unit="episode", desc=task, disable=not progress)
    for seed in seeds:
        for p in planners:
            r = run_episode(objs[p], seed, episode, task)
            results.append(r)
            bar.update(1)
            (bar.write if progress else log)(
                f"seed {seed} {p:>12}: error {r.errors[0] * 1000:5.1f} -> "
                f"{r.errors[-1] * 1000:5.1f} mm in {len(r.pushes)} pushes "
                f"({'success' if r.errors[-1] <= threshold else 'failure'}), decision "
                f"{np.mean(r.latencies) if r.latencies else 0:.2f} s "
                f"[{time.monotonic() - t0:.0f} s]"
            )
            if images:
                save_topdown(
                    out / f"final_{p}_{seed}.png",
                    r.final_points,
                    r.target,
                    f"{p} seed {seed}: {r.errors[-1] * 1000:.1f} mm after {len(r.pushes)} pushes",
                )
        _write(out, meta, results, planners, threshold, episode.max_pushes, time.monotonic() - t0)
    bar.close()
    summary = _write(
        out, meta, results, planners, threshold, episode.max_pushes, time.monotonic() - t0
    )
    title = f"{task}, {len(seeds)} seeds, {mppi.budget} rollouts/decision"
    plot_error_vs_pushes(
        {p: [r.errors for r in results if r.planner == p] for p in planners},
        episode.max_pushes,
        out / "error_vs_pushes.png",
        title,
    )
    plot_success_vs_threshold(
        {p: np.array([r.errors[-1] for r in results if r.planner == p]) for p in planners},
        out / "success_vs_threshold.png",
        title,
        threshold,
    )
    return summary


def _write(out, meta, results, planners, threshold, max_pushes, elapsed) -> dict:
    summary = summarize(results, planners, threshold, max_pushes)
    th = np.linspace(0, 0.06, 13)
    curves = {
        p: success_curve(np.array([r.errors[-1] for r in results if r.planner == p]), th).tolist()
        for p in planners
        if any(r.planner == p for r in results)
    }
    doc = {
        "meta": {**meta, "elapsed_s": elapsed},
        "summary": summary,
        "success_vs_threshold": {"thresholds_m": th.tolist(), **curves},
        "episodes": [r.to_dict() for r in results],
    }
    tmp = out / "results.json.tmp"
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(out / "results.json")
    (out / "summary.md").write_text(summary_markdown(summary, {**meta, "elapsed_s": elapsed}))
    return summary
