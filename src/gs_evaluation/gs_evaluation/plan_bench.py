"""Task benchmark (``gs-plan bench``): the full simulator + learned dynamics + planner
loop (gs_mppi_planner.mpc.run_mpc, the loop of the planner node), headless and in-process,
for several planners on the same seeds with the same budget per decision, observing the
simulator's ground truth (``oracle``) and/or what the cameras see (``perception``:
segmentation + tracking, :mod:`gs_evaluation.perception_env`). Writes ``results.json``,
``summary.md`` and the Fig. 5 plots (``error_vs_pushes.png``, ``success_vs_threshold.png``).
Errors are always measured on the simulator's true vertices."""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np

from gs_evaluation.perception_env import OBSERVATIONS, task_perception
from gs_evaluation.plan_episode import EpisodeConfig, EpisodeResult, run_episode
from gs_evaluation.plan_tasks import get_task
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
        perceived = np.array([r.perceived[-1] if r.perceived else np.nan for r in rs])
        q25, q75 = np.percentile(final, [25, 75]) * 1000
        out[p] = {
            "episodes": len(rs),
            "success_rate": float((final <= threshold).mean()),
            "success_rate_10mm": float((final <= 0.010).mean()),
            "success_rate_15mm": float((final <= 0.015).mean()),
            "final_error_iqr_mm": [float(q25), float(q75)],
            "perceived_final_error_median_mm": float(np.nanmedian(perceived) * 1000)
            if np.isfinite(perceived).any()
            else float("nan"),
            "initial_error_median_mm": float(np.median([r.errors[0] for r in rs]) * 1000),
            "final_error_median_mm": float(np.median(final) * 1000),
            "final_error_mean_mm": float(final.mean() * 1000),
            "error_median_mm_per_push": [float(v) for v in np.median(err, 0) * 1000],
            "pushes_mean": float(np.mean([len(r.pushes) for r in rs])),
            **_pose_stats(rs),
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


def _pose_stats(rs: list[EpisodeResult]) -> dict:
    """Relocation tasks: medians of the final centroid offset [mm] and |yaw error| [deg]."""
    final = [r.pose_errors[-1] for r in rs if r.pose_errors]
    if not final:
        return {}
    return {
        "final_offset_median_mm": float(np.median([f[0] for f in final]) * 1000),
        "final_yaw_error_median_deg": float(np.degrees(np.median([abs(f[1]) for f in final]))),
    }


def observation_gap(by_obs: dict) -> dict:
    """Per planner run with both observations: perception minus oracle (success rates at
    10 / 15 mm in percentage points, final error median [mm])."""
    gap = {}
    per, ora = by_obs.get("perception", {}), by_obs.get("oracle", {})
    for p in per:
        if p not in ora:
            continue
        a, b = per[p], ora[p]
        gap[p] = {
            "success_10mm_pp": 100 * (a["success_rate_10mm"] - b["success_rate_10mm"]),
            "success_15mm_pp": 100 * (a["success_rate_15mm"] - b["success_rate_15mm"]),
            "final_error_median_mm": a["final_error_median_mm"] - b["final_error_median_mm"],
        }
    return gap


def _observation_line(observe: str, meta: dict) -> str:
    if observe == "oracle":
        return (
            "**Observation: oracle** - the planner observes the simulator's ground-truth vertices."
        )
    return f"**Observation: perception** - {meta.get('perception_description', '')}."


CURVES = " between the curves through the vertices and the target"


def summary_markdown(summary: dict, meta: dict) -> str:
    """Markdown of ``{observe: {planner: stats}}`` (and its ``gap``)."""
    th = meta["threshold"] * 1000
    lines = [
        f"Task `{meta['task']}` ({meta.get('task_summary', '')}; model "
        f"`{Path(meta.get('checkpoint', '')).name}`), seeds {meta['seeds']}, "
        f"max {meta['max_pushes']} pushes, "
        f"budget {meta['budget']} model rollouts per decision "
        f"(K={meta['num_samples']} x {meta['iterations']} iterations), success = final "
        f"Chamfer distance{CURVES if meta.get('metric') == 'curve' else ''} <= {th:.0f} mm, "
        "errors measured on the simulator's true vertices.",
        "",
    ]
    own = round(th, 3) not in (10.0, 15.0)  # a threshold column besides 10 and 15 mm
    for observe, per_planner in summary.items():
        if observe == "gap":
            continue
        lines += [
            _observation_line(observe, meta),
            "",
            f"| planner | episodes |{f' success @ {th:g} mm |' if own else ''} success @ 10 mm"
            " | @ 15 mm | final error median [IQR] [mm] | mean [mm] | perceived final error "
            "median [mm] | pushes (mean) | decision latency mean / p95 / max [s] | rollouts / "
            "decision |",
            "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if own else ""),
        ]
        for p, s in per_planner.items():
            q25, q75 = s["final_error_iqr_mm"]
            at_th = f" {s['success_rate'] * 100:.0f} % |" if own else ""
            lines.append(
                f"| {LABELS.get(p, p)} | {s['episodes']} |{at_th} "
                f"{s['success_rate_10mm'] * 100:.0f} % | "
                f"{s['success_rate_15mm'] * 100:.0f} % | {s['final_error_median_mm']:.1f} "
                f"[{q25:.1f}, {q75:.1f}] | {s['final_error_mean_mm']:.1f} | "
                f"{s['perceived_final_error_median_mm']:.1f} | {s['pushes_mean']:.1f} | "
                f"{s['latency_mean_s']:.2f} / {s['latency_p95_s']:.2f} / "
                f"{s['latency_max_s']:.2f} | {s['rollouts_per_decision']} |"
            )
        lines.append("")
        for p, s in per_planner.items():
            if "final_offset_median_mm" in s:
                lines.append(
                    f"- {LABELS.get(p, p)} final pose (median): centroid "
                    f"{s['final_offset_median_mm']:.1f} mm, yaw "
                    f"{s['final_yaw_error_median_deg']:.1f} deg from the target."
                )
        for p, s in per_planner.items():
            if "vs_shooting" in s:
                v = s["vs_shooting"]
                lines.append(
                    f"- {LABELS.get(p, p)} vs best-of-N (paired by seed, final error): mean "
                    f"{v['final_error_diff_mean_mm']:+.1f} mm, median "
                    f"{v['final_error_diff_median_mm']:+.1f} mm; better on {v['better']}, "
                    f"worse on {v['worse']}, tied on {v['ties']} seeds."
                )
        if "perception_seconds_per_frame" in meta and observe == "perception":
            sec = meta["perception_seconds_per_frame"]
            lines.append(
                "- perception per frame [s]: "
                + ", ".join(f"{k} {v:.2f}" for k, v in sec.items())
                + f" ({meta.get('perception_frames', 0)} frames)"
            )
        lines.append(
            "- median error [mm] after 0..N pushes: "
            + "; ".join(
                f"{LABELS.get(p, p)}: "
                + " ".join(f"{v:.1f}" for v in s["error_median_mm_per_push"])
                for p, s in per_planner.items()
            )
        )
        lines.append("")
    for p, g in summary.get("gap", {}).items():
        lines.append(
            f"Gap perception - oracle, {LABELS.get(p, p)}: success @ 10 mm "
            f"{g['success_10mm_pp']:+.0f} pp, @ 15 mm {g['success_15mm_pp']:+.0f} pp, final "
            f"error median {g['final_error_median_mm']:+.1f} mm."
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
    observe: tuple[str, ...] = ("oracle",),
    perception=None,
) -> dict:
    """Run every planner on every seed with every observation (seed-major order, the
    observations of one seed and planner side by side), write results and plots; a
    progress bar with ETA (``progress``) or one ``log`` line per episode. Returns
    ``{observe: {planner: stats}}`` plus ``gap`` (perception - oracle) when both ran.
    checkpoint: the dynamics model ("" = the task's shipped model, gs_evaluation.plan_tasks);
    perception: a PerceptionConfig (default settings when None) that the task's own
    perception settings (tracker, resolution) override."""
    bad = [o for o in observe if o not in OBSERVATIONS] or (not observe and ["(none)"])
    if bad:
        raise ValueError(f"observe {bad} not in {list(OBSERVATIONS)}")
    spec = get_task(task)
    out.mkdir(parents=True, exist_ok=True)
    model = PushModel(checkpoint or spec.model, device)
    objs = {p: make_planner(p, model, cost, mppi) for p in planners}
    meta = {
        "task": task,
        "seeds": f"{seeds[0]}-{seeds[-1]}"
        if seeds == list(range(seeds[0], seeds[-1] + 1))
        else ",".join(map(str, seeds)),
        "planners": planners,
        "observe": list(observe),
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
    meta["object"] = spec.object
    meta["task_summary"] = spec.summary
    meta["metric"] = spec.metric
    if "perception" in observe:
        perception = task_perception(spec, perception)
        meta["perception"] = dataclasses.asdict(perception)
        meta["perception_description"] = perception.describe()
    from tqdm import tqdm

    results: list[EpisodeResult] = []
    t0 = time.monotonic()
    total = len(seeds) * len(planners) * len(observe)
    bar = tqdm(total=total, unit="episode", desc=task, disable=not progress)
    for seed in seeds:
        for p in planners:
            for obs in observe:
                t1 = time.monotonic()
                r = run_episode(objs[p], seed, episode, task, observe=obs, perception=perception)
                r.perception["episode_seconds"] = time.monotonic() - t1
                results.append(r)
                bar.update(1)
                seen = f" (observed {r.perceived[-1] * 1000:5.1f})" if obs == "perception" else ""
                (bar.write if progress else log)(
                    f"seed {seed} {p:>12} {obs:>10}: error {r.errors[0] * 1000:5.1f} -> "
                    f"{r.errors[-1] * 1000:5.1f} mm{seen} in {len(r.pushes)} pushes "
                    f"({'success' if r.errors[-1] <= threshold else 'failure'}), decision "
                    f"{np.mean(r.latencies) if r.latencies else 0:.2f} s, episode "
                    f"{time.monotonic() - t1:.0f} s [{time.monotonic() - t0:.0f} s]"
                )
                if images:
                    save_topdown(
                        out / f"final_{p}_{obs}_{seed}.png",
                        r.final_points,
                        r.target,
                        f"{p} ({obs}) seed {seed}: {r.errors[-1] * 1000:.1f} mm after "
                        f"{len(r.pushes)} pushes",
                    )
            elapsed = time.monotonic() - t0
            _write(out, meta, results, planners, threshold, episode.max_pushes, elapsed)
    bar.close()
    summary = _write(
        out, meta, results, planners, threshold, episode.max_pushes, time.monotonic() - t0
    )
    title = f"{task}, {len(seeds)} seeds, {mppi.budget} rollouts/decision"
    _plots(out, results, planners, observe, episode.max_pushes, threshold, title)
    return summary


def _plots(out, results, planners, observe, max_pushes, threshold, title) -> None:
    """Fig. 5 of one task: error vs pushes (median, 25-75 %), success rate vs threshold."""
    both = len(observe) > 1
    curves = {
        (f"{p} ({o})" if both else p): [r for r in results if r.planner == p and r.observe == o]
        for o in observe
        for p in planners
    }
    curves = {k: rs for k, rs in curves.items() if rs}
    plot_error_vs_pushes(
        {k: [r.errors for r in rs] for k, rs in curves.items()},
        max_pushes,
        out / "error_vs_pushes.png",
        title,
    )
    plot_success_vs_threshold(
        {k: np.array([r.errors[-1] for r in rs]) for k, rs in curves.items()},
        out / "success_vs_threshold.png",
        title,
        threshold,
    )


#: settings that must agree between runs merged into one summary
MERGE_KEYS = (
    "task", "max_pushes", "threshold", "budget", "num_samples", "iterations", "checkpoint",
)  # fmt: skip


def load_results(run_dir: Path) -> tuple[dict, list[EpisodeResult]]:
    """(meta, episodes) of a ``results.json`` written by :func:`run_bench` (the episodes
    without their target and final points, which the file does not keep)."""
    doc = json.loads((Path(run_dir) / "results.json").read_text())
    names = {f.name for f in dataclasses.fields(EpisodeResult)} - {"target", "final_points"}
    empty = np.zeros((0, 3))
    eps = [
        EpisodeResult(**{k: v for k, v in e.items() if k in names}, target=empty,
                      final_points=empty)
        for e in doc["episodes"]
    ]  # fmt: skip
    return doc["meta"], eps


def merge_runs(run_dirs: list[Path], out: Path) -> dict:
    """One summary, ``results.json`` and Fig. 5 plots of several runs of the same task and
    settings (e.g. seeds or planners run as parallel processes); ValueError naming the
    setting that differs or an episode present twice."""
    metas, results = [], []
    for d in run_dirs:
        meta, eps = load_results(d)
        metas.append(meta)
        results += eps
    for key in MERGE_KEYS:
        values = {json.dumps(m.get(key)) for m in metas}
        if len(values) > 1:
            raise ValueError(f"runs differ in {key}: {sorted(values)}")
    seen = set()
    for r in results:
        k = (r.seed, r.planner, r.observe)
        if k in seen:
            raise ValueError(f"episode seed {r.seed} {r.planner} {r.observe} is in two runs")
        seen.add(k)
    seeds = sorted({r.seed for r in results})
    planners = list(dict.fromkeys(p for m in metas for p in m["planners"]))
    observe = list(dict.fromkeys(o for m in metas for o in m["observe"]))
    meta = {
        **metas[0],
        "seeds": ",".join(map(str, seeds)),
        "planners": planners,
        "observe": observe,
        "merged_from": [str(d) for d in run_dirs],
    }
    for key in ("perception_frames", "perception_seconds_per_frame", "elapsed_s"):
        meta.pop(key, None)
    out.mkdir(parents=True, exist_ok=True)
    elapsed = sum(m.get("elapsed_s", 0.0) for m in metas)
    summary = _write(out, meta, results, planners, meta["threshold"], meta["max_pushes"], elapsed)
    title = f"{meta['task']}, {len(seeds)} seeds, {meta['budget']} rollouts/decision"
    _plots(out, results, planners, observe, meta["max_pushes"], meta["threshold"], title)
    return summary


def _write(out, meta, results, planners, threshold, max_pushes, elapsed) -> dict:
    summary: dict = {}
    for obs in meta["observe"]:
        rs = [r for r in results if r.observe == obs]
        if rs:
            summary[obs] = summarize(rs, planners, threshold, max_pushes)
    if "perception" in summary and "oracle" in summary:
        summary["gap"] = observation_gap(summary)
    perc = [r.perception for r in results if r.observe == "perception"]
    frames = sum(s.get("frames", 0) for s in perc)
    if frames:
        meta = {
            **meta,
            "perception_frames": frames,
            "perception_seconds_per_frame": {
                k: sum(s["seconds"][k] for s in perc) / frames for k in perc[0]["seconds"]
            },
        }
    th = np.linspace(0, 0.06, 13)
    curves = {
        obs: {
            p: success_curve(
                np.array([r.errors[-1] for r in results if r.planner == p and r.observe == obs]),
                th,
            ).tolist()
            for p in planners
            if any(r.planner == p and r.observe == obs for r in results)
        }
        for obs in meta["observe"]
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
