"""Evaluation: open-loop rollouts on held-out episodes vs. trivial baselines.

For every push and every start step with ``horizon`` steps left, roll out ``horizon`` steps
under the recorded end-effector path (history from the recorded past, as in training) and
compare with the recorded particles at each step: 3D Chamfer distance, exact EMD and mean
particle distance (with correspondence) [m]. Baselines: ``static`` (particles stay put)
and ``contact_rigid`` (particles within ``contact_radius`` of the pusher in the table plane
move with the pusher, the rest stays put).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gs_common.pointsets import earth_movers_distance
from gs_gnn_dynamics.data import episode_files, load_segments, make_windows
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.rollout import rollout

METHODS = ("model", "static", "contact_rigid")


def masked_chamfer(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Chamfer distance (..., ) of pred/gt (..., N, 3) over the valid particles mask (..., N)
    (broadcast): mean nearest distance both ways, Euclidean [m]."""
    d = torch.cdist(pred, gt)
    m = mask.to(torch.bool)
    inf = torch.tensor(float("inf"), dtype=d.dtype)
    d = torch.where(m[..., None, :] & m[..., :, None], d, inf)
    w = m.to(d.dtype)
    n = w.sum(-1).clamp_min(1)
    a = torch.where(m, d.min(-1).values, torch.zeros_like(w)).sum(-1) / n
    b = torch.where(m, d.min(-2).values, torch.zeros_like(w)).sum(-1) / n
    return a + b


def contact_rigid_baseline(
    start: torch.Tensor, tool: torch.Tensor, contact_radius: float
) -> torch.Tensor:
    """start (W, N, 3), tool (W, T + 1, 3) -> (W, T + 1, N, 3): at each step, particles
    within ``contact_radius`` (xy) of the tool move with the tool's xy displacement."""
    x = start
    out = [x]
    for t in range(tool.shape[1] - 1):
        near = (x[..., :2] - tool[:, t, None, :2]).norm(dim=-1) <= contact_radius
        step = (tool[:, t + 1] - tool[:, t]) * torch.tensor([1.0, 1.0, 0.0])
        x = x + near[..., None].to(x.dtype) * step[:, None]
        out.append(x)
    return torch.stack(out, 1)


def predictions(model: ParticleDynamics, frames, tool, mask, contact_radius: float) -> dict:
    """{method: (W, H + 1, N, 3)} for windows ``frames`` (W, k + H + 1, N, 3)."""
    k = model.cfg.history
    motions = frames[:, 1 : k + 1] - frames[:, :k]
    tool_motions = (tool[:, 1 : k + 1] - tool[:, :k])[:, :, None]
    with torch.no_grad():
        pred = rollout(model, frames[:, k], tool[:, k:], mask, motions, tool_motions)
    h1 = frames.shape[1] - k
    static = frames[:, k : k + 1].expand(-1, h1, -1, -1)
    return {
        "model": pred,
        "static": static,
        "contact_rigid": contact_rigid_baseline(frames[:, k], tool[:, k:], contact_radius),
    }


def evaluate(
    model: ParticleDynamics,
    data: str | os.PathLike,
    horizon: int = 10,
    contact_radius: float = 0.03,
    stride: int = 1,
    emd: bool = True,
) -> dict:
    """Per-step metrics (mean over windows) for the model and the baselines."""
    files = episode_files(data)
    cfg = model.cfg
    segments = load_segments(files, cfg)
    w = make_windows(segments, cfg.history, horizon)
    sel = torch.arange(0, len(w), stride)
    dev = next(model.parameters()).device
    frames, tool, mask = (x[sel] for x in (w.frames, w.tool, w.mask))
    preds = predictions(model, frames.to(dev), tool.to(dev), mask.to(dev), contact_radius)
    gt = frames[:, cfg.history :]
    report = {
        "episodes": [f.name for f in files],
        "num_windows": len(sel),
        "horizon": horizon,
        "contact_radius": contact_radius,
        "units": "m",
        "methods": {},
    }
    mk = mask[:, None]
    for name in METHODS:
        p = preds[name].cpu()
        cd = masked_chamfer(p, gt, mk).mean(0)
        mde = ((p - gt).norm(dim=-1) * mk).sum(-1) / mk.sum(-1)
        res = {"chamfer": cd[1:].tolist(), "mean_distance": mde.mean(0)[1:].tolist()}
        if emd:
            pn, gn, mn = p.numpy(), gt.numpy(), mask.numpy()
            e = np.array(
                [
                    [
                        earth_movers_distance(pn[i, t][mn[i]], gn[i, t][mn[i]])
                        for t in range(1, horizon + 1)
                    ]
                    for i in tqdm(range(len(pn)), desc=f"EMD {name}", unit="window", leave=False)
                ]
            )
            res["emd"] = e.mean(0).tolist()
        report["methods"][name] = res
    return report


def summary_lines(report: dict) -> list[str]:
    h = report["horizon"]
    lines = [
        f"{report['num_windows']} windows from {len(report['episodes'])} episodes, "
        f"{h}-step rollouts (metrics at step {h}, mm):"
    ]
    for name, res in report["methods"].items():
        parts = [
            f"chamfer {1e3 * res['chamfer'][-1]:.2f}",
            f"mean distance {1e3 * res['mean_distance'][-1]:.2f}",
        ]
        if "emd" in res:
            parts.append(f"EMD {1e3 * res['emd'][-1]:.2f}")
        lines.append(f"  {name:14s} " + ", ".join(parts))
    return lines


def write_json_report(report: dict, out: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``out``.json atomically (temp file + rename); return it and ``out``.png, the
    path of the report's plot (written by the caller)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    js, png = out.with_suffix(".json"), out.with_suffix(".png")
    tmp = js.with_name(js.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, js)
    return js, png


def write_report(report: dict, out: str | os.PathLike) -> tuple[Path, Path]:
    """``out``.json and ``out``.png (metrics vs. horizon)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    js, png = write_json_report(report, out)
    metrics = [m for m in ("chamfer", "emd", "mean_distance") if m in report["methods"]["model"]]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    steps = np.arange(1, report["horizon"] + 1)
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        for name, res in report["methods"].items():
            ax.plot(steps, 1e3 * np.asarray(res[metric]), marker="o", ms=3, label=name)
        ax.set_xlabel("rollout step (1 cm of pusher travel)")
        ax.set_ylabel(f"{metric} [mm]")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    tmp_png = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp_png, dpi=100)
    plt.close(fig)
    os.replace(tmp_png, png)
    return js, png
