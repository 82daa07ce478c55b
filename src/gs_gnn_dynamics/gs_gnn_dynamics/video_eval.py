"""Action-conditioned video prediction evaluation (GS-Dynamics Table 2), ROS-free.

For every push of a held-out simulator episode: the tracked Gaussians and control
particles (``gs-track`` output) of the push's first frame are rolled out by the dynamics
model under the recorded push (``rollout.rollout_pushes``), every Gaussian follows its
control particles by LBS (``predicted_render.deform_trajectory`` / ``lbs.lbs_deform``), and
every camera is rendered with ``gs_render`` and compared with the recorded frames of the
push:

- 3D: Chamfer distance and EMD [m] of the predicted control particles vs the simulator's
  ground-truth particles: for each control particle the nearest ground-truth vertex at the
  push start, followed through the push by vertex identity (the start value is the
  tracking/sampling floor that both methods share);
- 2D: J (mask IoU), F (boundary F-measure, DAVIS-style, tolerance 0.8 % of the image
  diagonal) and J&F = (J + F) / 2 of the rendered mask (alpha > 0.5) vs the recorded object
  mask, robot pixels excluded from both; PSNR [dB] and SSIM of the object-only images (both
  over black, as the tracker compares them) over the object region = union of predicted and
  observed masks, robot pixels excluded.

Recorded frames are mapped to fractional model steps by the pusher tip's horizontal travel
since the push's first frame (as ``data.resample_by_travel`` samples training data),
interpolating the predicted particles between steps. The static baseline keeps the first
frame's Gaussians and particles where they are.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage
from tqdm import tqdm

from gs_common.episode import Episode, load_episode, load_trajectories
from gs_common.pointsets import chamfer_distance, earth_movers_distance
from gs_common.push import push_runs
from gs_gnn_dynamics.data import select_particles
from gs_gnn_dynamics.lbs import lbs_deform
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.predicted_render import deform_trajectory
from gs_gnn_dynamics.rollout import rollout_pushes

METHODS = ("model", "static")
METRICS = ("chamfer", "emd", "j", "f", "jf", "psnr", "ssim")
#: DAVIS boundary tolerance: fraction of the image diagonal.
BOUNDARY_TOLERANCE = 0.008
#: GS-Dynamics (Zhang et al., CoRL 2024) Table 2. Not filled in: the paper's table was not
#: available to this session (no numbers are quoted from memory).
PAPER_TABLE2: dict = {}


class TrackedFileError(ValueError):
    """A tracked-Gaussians / particle file is missing or does not match its episode."""


# --- 2D metrics ---------------------------------------------------------------------------


def mask_iou(pred: np.ndarray, obs: np.ndarray, valid: np.ndarray) -> float:
    """J: IoU of bool masks (H, W) over ``valid`` pixels; 1.0 when both are empty."""
    p, o = pred & valid, obs & valid
    union = np.count_nonzero(p | o)
    return 1.0 if union == 0 else np.count_nonzero(p & o) / union


def _boundary(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def boundary_f(
    pred: np.ndarray, obs: np.ndarray, valid: np.ndarray, tolerance: float = BOUNDARY_TOLERANCE
) -> float:
    """F: boundary F-measure of bool masks (H, W) (robot pixels cleared from both via
    ``valid``): a boundary pixel counts as matched when the other mask's boundary is within
    ``ceil(tolerance * image diagonal)`` px. 1.0 when both are empty, 0.0 when one is."""
    bp, bo = _boundary(pred & valid), _boundary(obs & valid)
    np_, no = np.count_nonzero(bp), np.count_nonzero(bo)
    if np_ == 0 and no == 0:
        return 1.0
    if np_ == 0 or no == 0:
        return 0.0
    r = max(1, math.ceil(tolerance * math.hypot(*pred.shape)))
    d_to_obs = ndimage.distance_transform_edt(~bo)
    d_to_pred = ndimage.distance_transform_edt(~bp)
    precision = np.count_nonzero(d_to_obs[bp] <= r) / np_
    recall = np.count_nonzero(d_to_pred[bo] <= r) / no
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def region_psnr(pred: np.ndarray, obs: np.ndarray, region: np.ndarray) -> float:
    """PSNR [dB] of images (H, W, 3) in [0, 1] over bool ``region`` (H, W); NaN if empty,
    capped at 100 dB for identical images."""
    if not region.any():
        return float("nan")
    mse = float(np.mean((pred[region] - obs[region]) ** 2))
    return 100.0 if mse <= 1e-10 else 10.0 * math.log10(1.0 / mse)


def region_ssim(ssim: np.ndarray, region: np.ndarray) -> float:
    """Mean of a per-pixel SSIM map (H, W) over bool ``region``; NaN if empty."""
    return float(ssim[region].mean()) if region.any() else float("nan")


def image_metrics(
    pred_rgb: np.ndarray,
    pred_alpha: np.ndarray,
    obs_rgb: np.ndarray,
    obs_mask: np.ndarray,
    robot: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-camera J, F, J&F, PSNR, SSIM (each (C,)) of renders vs recorded frames.

    pred_rgb (C, H, W, 3) over black and pred_alpha (C, H, W) in [0, 1]; obs_rgb
    (C, H, W, 3) in [0, 1] with non-object pixels 0; obs_mask, robot (C, H, W) bool."""
    from gs_tracking.image_losses import ssim_map

    ssim = ssim_map(torch.as_tensor(pred_rgb), torch.as_tensor(obs_rgb)).numpy()
    out = {k: [] for k in ("j", "f", "jf", "psnr", "ssim")}
    for c in range(len(pred_rgb)):
        valid = ~robot[c]
        pm = pred_alpha[c] > 0.5
        j = mask_iou(pm, obs_mask[c], valid)
        f = boundary_f(pm, obs_mask[c], valid)
        region = (pm | obs_mask[c]) & valid
        out["j"].append(j)
        out["f"].append(f)
        out["jf"].append((j + f) / 2)
        out["psnr"].append(region_psnr(pred_rgb[c], obs_rgb[c], region))
        out["ssim"].append(region_ssim(ssim[c], region))
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


# --- frames <-> model steps ---------------------------------------------------------------


def travel_steps(tool: np.ndarray, ee: np.ndarray) -> np.ndarray:
    """Fractional model steps (F,) of recorded frames: ee (F, 3) [m] pusher tip of the push's
    frames, tool (S + 1, 3) [m] the rollout's tool path; both matched by horizontal travel
    since their first sample (clamped to [0, S])."""
    tt = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(tool[:, :2], axis=0), axis=1))])
    te = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(ee[:, :2], axis=0), axis=1))])
    keep = np.concatenate([[True], np.diff(tt) > 1e-9])  # padded steps add no travel
    return np.interp(te, tt[keep], np.arange(len(tt))[keep].astype(np.float64))


def interpolate_states(states: torch.Tensor, s: float) -> torch.Tensor:
    """Particles (N, 3) at fractional step ``s`` of states (S + 1, N, 3) (linear)."""
    lo = min(math.floor(s), states.shape[0] - 1)
    hi = min(lo + 1, states.shape[0] - 1)
    a = s - lo
    return states[lo] * (1 - a) + states[hi] * a


# --- tracked inputs -----------------------------------------------------------------------


@dataclasses.dataclass
class TrackedInputs:
    """Tracked Gaussians of one episode: frames (T,) episode frame indices; means (T, G, 3)
    [m], quats (T, G, 4) wxyz; scales (G, 3) [m], opacities (G,), colors (G, 3) in [0, 1];
    particles (T, N, 3) [m] (the ``.npz`` control-particle trajectories, or the Gaussian
    means where there is no ``.npz``)."""

    frames: np.ndarray
    means: np.ndarray
    quats: np.ndarray
    scales: np.ndarray
    opacities: np.ndarray
    colors: np.ndarray
    particles: np.ndarray
    gaussians_path: Path
    particles_path: Path | None


def _recorded_source(gaussians_path: Path) -> str:
    """The ``source_episode`` in a tracked file's metadata ('' if unreadable)."""
    from safetensors import safe_open

    try:
        with safe_open(str(gaussians_path), "pt") as f:
            return str((f.metadata() or {}).get("source_episode", ""))
    except Exception:  # unreadable here: load_tracked_inputs reports it with its reason
        return ""


def tracked_paths(episode: Path, tracked_dirs: Path | list[Path]) -> tuple[Path, Path | None]:
    """(``<stem>.gaussians.safetensors``, ``<stem>.npz``) of an episode in one of
    ``tracked_dirs``, stem = the episode's name or ``<parent dir>_<name>``
    (``<object>_episode_0000``); the ``.npz`` is None when absent (``gs-track-eval`` writes
    only the Gaussians). Among several candidates, the one whose recorded source
    episode is this very file wins (episodes of different directories share names)."""
    dirs = [Path(tracked_dirs)] if isinstance(tracked_dirs, (str, Path)) else list(tracked_dirs)
    stems = [episode.stem, f"{episode.parent.name}_{episode.stem}"]
    found = []
    for d in dirs:
        for stem in stems:
            g = d / f"{stem}.gaussians.safetensors"
            if g.is_file():
                n = d / f"{stem}.npz"
                found.append((g, n if n.is_file() else None))
    if not found:
        tried = ", ".join(str(d / f"{s}.gaussians.safetensors") for d in dirs for s in stems)
        raise TrackedFileError(f"no tracked Gaussians for episode {episode}: tried {tried}")
    if len(found) > 1 and episode.exists():
        for g, n in found:
            src = Path(_recorded_source(g))
            if src.exists() and src.resolve() == episode.resolve():
                return g, n
    return found[0]


def load_tracked_inputs(
    ep: Episode, gaussians_path: Path, particles_path: Path | None
) -> TrackedInputs:
    """Load and cross-check the tracked files of ``ep``; TrackedFileError names the file.
    Without a particle file the control particles are taken from the Gaussian means."""
    from gs_tracking.tracked_io import load_tracked

    try:
        seq, meta = load_tracked(gaussians_path)
    except (OSError, ValueError) as e:
        raise TrackedFileError(f"cannot read {gaussians_path}: {e}") from e
    src = Path(str(meta.get("source_episode", ""))).name
    if src and src != ep.path.name:
        raise TrackedFileError(
            f"{gaussians_path} was tracked from {src!r}, not from episode {ep.path.name!r}"
        )
    frames = np.asarray(seq.frames, np.int64)
    if len(frames) == 0 or frames.min() < 0 or frames.max() >= ep.num_frames:
        raise TrackedFileError(
            f"{gaussians_path} frames {frames.min() if len(frames) else '-'}.."
            f"{frames.max() if len(frames) else '-'} are outside episode "
            f"{ep.path.name} (0..{ep.num_frames - 1})"
        )
    if particles_path is None:
        particles = np.asarray(seq.means, np.float32)
    else:
        try:
            traj = load_trajectories(particles_path)
        except (OSError, ValueError, KeyError) as e:
            raise TrackedFileError(f"cannot read {particles_path}: {e}") from e
        if len(traj.points) != len(frames):
            raise TrackedFileError(
                f"{particles_path} has {len(traj.points)} frames but {gaussians_path} has "
                f"{len(frames)}: not the same tracking run"
            )
        particles = np.asarray(traj.points, np.float32)
    return TrackedInputs(
        frames,
        np.asarray(seq.means, np.float32),
        np.asarray(seq.quats, np.float32),
        np.asarray(seq.scales, np.float32),
        np.asarray(seq.opacities, np.float32),
        np.asarray(seq.colors, np.float32),
        particles,
        Path(gaussians_path),
        None if particles_path is None else Path(particles_path),
    )


# --- evaluation ---------------------------------------------------------------------------


@dataclasses.dataclass
class VideoEvalOptions:
    """scale: render resolution / camera resolution; every: evaluate every n-th frame of a
    push (the push's last frame always); emd: also EMD; strip_steps: time steps in the PNG;
    strip_camera: camera shown in the PNG; device: torch device of model and renderer."""

    scale: float = 0.5
    every: int = 2
    emd: bool = True
    strip_steps: int = 4
    strip_camera: int = 0
    device: str = "cpu"

    def validate(self) -> None:
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale {self.scale} must be in (0, 1]")
        if self.every < 1:
            raise ValueError(f"every {self.every} must be >= 1")
        if self.strip_steps < 1:
            raise ValueError(f"strip_steps {self.strip_steps} must be >= 1")


def _observation(ep: Episode, frame: int, scale: float):
    from gs_tracking.observation import Observation

    cams = range(len(ep.camera_names))
    color = [ep.color(frame, c) for c in cams]
    obj = [ep.object_mask(frame, c) for c in cams]
    robot = [ep.robot_mask(frame, c) for c in cams]
    depth = [np.zeros(m.shape, np.float32) for m in obj]  # unused here
    o = Observation.from_arrays(color, obj, robot, depth, scale=scale)
    return o.rgb.numpy(), o.object.numpy() > 0.5, o.valid.numpy() < 0.5


def _render(rig, means, quats, tr: TrackedInputs, device) -> tuple[np.ndarray, np.ndarray]:
    from gs_render import render

    f = lambda x: torch.as_tensor(x, dtype=torch.float32, device=device)  # noqa: E731
    out = render(
        f(means),
        f(quats),
        f(tr.scales),
        f(tr.opacities),
        f(tr.colors),
        rig.viewmats.to(device),
        rig.Ks.to(device),
        rig.width,
        rig.height,
    )
    return out.rgb.clamp(0, 1).cpu().numpy(), out.alpha[..., 0].cpu().numpy()


def ground_truth_particles(ctrl: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Indices (N,) of the ground-truth vertex (V, 3) nearest to each control particle
    (N, 3) [m] (the particles' ground-truth counterparts, followed by vertex identity)."""
    from scipy.spatial import cKDTree

    return cKDTree(np.asarray(vertices, np.float64)).query(np.asarray(ctrl, np.float64))[1]


def _particle_metrics(pred: np.ndarray, gt: np.ndarray, emd: bool) -> dict[str, float]:
    res = {"chamfer": float(chamfer_distance(pred.astype(np.float64), gt.astype(np.float64)))}
    if emd:
        res["emd"] = earth_movers_distance(pred, gt)
    return res


def evaluate_push(
    model: ParticleDynamics,
    ep: Episode,
    tr: TrackedInputs,
    push: np.ndarray,
    run: tuple[int, int],
    rig,
    opts: VideoEvalOptions,
) -> dict:
    """Metrics of one push (frames ``run`` = [a, b] with the tip in contact height) for the
    model and the static baseline; per evaluated frame, cameras averaged."""
    import time

    t_start = time.perf_counter()
    cfg = model.cfg
    a, b = run
    before = np.flatnonzero(tr.frames <= a)
    if len(before) == 0:
        raise TrackedFileError(
            f"{tr.gaussians_path} starts at frame {int(tr.frames[0])}, after the start of the "
            f"push at frame {a} of {ep.path.name}: track from frame {a} or earlier"
        )
    t0 = int(before[-1])  # latest tracked frame at or before the push start (object at rest)
    ctrl0 = tr.particles[t0][select_particles(tr.particles[t0], cfg)]
    gt_idx = ground_truth_particles(ctrl0, ep.object_points[a])
    dev = torch.device(opts.device)
    ro = rollout_pushes(
        model, torch.as_tensor(ctrl0), torch.as_tensor(push[None], dtype=torch.float32)
    )
    end = int(ro.end_step[0, 0])
    states = ro.states[0, : end + 1].to(dev)  # (S + 1, N, 3)
    tool = ro.tool[0, : end + 1].cpu().numpy()
    means0 = torch.as_tensor(tr.means[t0], device=dev)
    quats0 = torch.as_tensor(tr.quats[t0], device=dev)
    g_means, g_quats = deform_trajectory(states, means0, quats0)
    frames = list(range(a, b + 1, opts.every))
    if frames[-1] != b:
        frames.append(b)
    steps = travel_steps(tool, ep.ee_positions[a : b + 1])[np.asarray(frames) - a]
    static_rgb, static_alpha = _render(rig, means0, quats0, tr, dev)
    per = {m: {k: [] for k in METRICS} for m in METHODS}
    strip_at = set(np.unique(np.linspace(0, len(frames) - 1, opts.strip_steps).round().astype(int)))
    strip = []
    for i, (f, s) in enumerate(zip(frames, steps)):
        lo = min(math.floor(s), end)
        ctrl = interpolate_states(states, float(s))
        m, q = lbs_deform(states[lo], ctrl, g_means[lo], g_quats[lo])
        rgb, alpha = _render(rig, m, q, tr, dev)
        obs_rgb, obs_mask, robot = _observation(ep, f, opts.scale)
        gt = ep.object_points[f, gt_idx]
        for name, (p_rgb, p_alpha, pts) in (
            ("model", (rgb, alpha, ctrl.cpu().numpy())),
            ("static", (static_rgb, static_alpha, ctrl0)),
        ):
            pm = _particle_metrics(pts, gt, opts.emd)
            im = image_metrics(p_rgb, p_alpha, obs_rgb, obs_mask, robot)
            for k, v in pm.items():
                per[name][k].append(v)
            for k, v in im.items():
                per[name][k].append(float(np.nanmean(v)) if np.isfinite(v).any() else float("nan"))
        if i in strip_at:
            c = opts.strip_camera
            full = torch.from_numpy(ep.color(f, c).astype(np.float32)).permute(2, 0, 1)[None]
            full = torch.nn.functional.interpolate(
                full / 255.0, size=obs_rgb.shape[1:3], mode="area"
            )
            strip.append(
                {
                    "frame": f,
                    "step": float(s),
                    "observed": full[0].permute(1, 2, 0).numpy(),
                    "observed_mask": obs_mask[c],
                    "model": rgb[c],
                    "static": static_rgb[c],
                }
            )
    per = {m: {k: v for k, v in d.items() if v} for m, d in per.items()}
    return {
        "frames": frames,
        "steps": [float(s) for s in steps],
        "start_frame": a,
        "end_frame": b,
        "tracked_start_frame": int(tr.frames[t0]),
        "push": [float(v) for v in push],
        "model_steps": end,
        "num_particles": len(ctrl0),
        "num_gt_particles": len(gt_idx),
        "num_gaussians": int(tr.means.shape[1]),
        "methods": per,
        "seconds": time.perf_counter() - t_start,
        "seconds_per_frame": (time.perf_counter() - t_start) / len(frames),
        "_strip": strip,
    }


def _mean_metrics(pushes: list[dict]) -> dict:
    """{method: {metric: mean over all evaluated frames of the pushes, metric_start /
    metric_end: mean over the pushes' first / last evaluated frame}}."""
    out = {}
    for m in METHODS:
        res = {}
        for k in METRICS:
            vals = [v for p in pushes for v in p["methods"][m].get(k, [])]
            if vals:
                res[k] = float(np.nanmean(vals))
        for k in METRICS:
            for at, i in (("start", 0), ("end", -1)):
                v = [p["methods"][m][k][i] for p in pushes if k in p["methods"][m]]
                if v:
                    res[f"{k}_{at}"] = float(np.nanmean(v))
        out[m] = res
    return out


def evaluate_episode(
    model: ParticleDynamics,
    episode: Path,
    tracked_dir: Path | list[Path],
    opts: VideoEvalOptions,
    bar=None,
) -> dict:
    from gs_tracking.observation import RigTensors

    ep = load_episode(episode)
    if ep.object_points.shape[1] == 0:
        raise ValueError(f"{episode} has no ground-truth object points (not a simulator episode)")
    tr = load_tracked_inputs(ep, *tracked_paths(Path(episode), tracked_dir))
    rig = RigTensors.from_rig(ep.intrinsics, ep.world_from_camera, opts.scale)
    runs = push_runs(ep.ee_positions, model.cfg.contact_height)
    if len(runs) != len(ep.pushes):
        raise ValueError(
            f"{episode}: {len(runs)} contact runs of the pusher tip but {len(ep.pushes)} "
            "recorded pushes; cannot pair them"
        )
    pushes = []
    for k, (run, push) in enumerate(zip(runs, ep.pushes)):
        if tr.frames[0] > run[0]:
            if bar is not None:
                bar.write(
                    f"{episode.name} push {k}: not tracked at its start frame {run[0]}; skipped"
                )
            continue
        res = evaluate_push(model, ep, tr, np.asarray(push, np.float64), run, rig, opts)
        res["push_index"] = k
        pushes.append(res)
        if bar is not None:
            bar.update(1)
    if not pushes:
        raise TrackedFileError(
            f"{tr.gaussians_path} (frames {int(tr.frames[0])}..{int(tr.frames[-1])}) covers the "
            f"start of none of the pushes of {episode.name} (starts {[r[0] for r in runs]})"
        )
    return {
        "episode": str(episode),
        "object": str(ep.metadata.get("object", "")),
        "tracked": str(tr.gaussians_path),
        "control_particles_from": str(tr.particles_path or "gaussian means (no .npz)"),
        "render_size": [rig.width, rig.height],
        "pushes": pushes,
        "mean": _mean_metrics(pushes),
    }


def summarize(episodes: list[dict]) -> dict:
    """{object: {method: {metric: {mean, std, min, max, n}}}} over per-episode means."""
    out: dict = {}
    for obj in sorted({e["object"] for e in episodes}):
        eps = [e for e in episodes if e["object"] == obj]
        out[obj] = {}
        for m in METHODS:
            out[obj][m] = {}
            keys = sorted({k for e in eps for k in e["mean"][m]})
            for k in keys:
                v = np.array([e["mean"][m][k] for e in eps if k in e["mean"][m]], np.float64)
                out[obj][m][k] = {
                    "mean": float(np.nanmean(v)),
                    "std": float(np.nanstd(v)),
                    "min": float(np.nanmin(v)),
                    "max": float(np.nanmax(v)),
                    "n": len(v),
                }
    return out


def evaluate_video(
    models: dict[str, ParticleDynamics],
    episodes: list[Path],
    tracked_dir: Path | list[Path],
    opts: VideoEvalOptions,
    progress: bool = True,
) -> tuple[dict, list]:
    """Evaluate every episode with the model of its object (``models``: object -> model).
    Returns (report, strips: [(episode name, strip frames)])."""
    opts.validate()
    total = 0
    for e in episodes:
        total += len(load_episode(e).pushes)
    results, strips = [], []
    with tqdm(total=total, unit="push", desc="eval-video", disable=not progress) as bar:
        for e in episodes:
            obj = str(load_episode(e).metadata.get("object", ""))
            if obj not in models:
                raise ValueError(
                    f"no dynamics model for object {obj!r} of {e}; "
                    f"models given for {sorted(models)}"
                )
            res = evaluate_episode(models[obj], Path(e), tracked_dir, opts, bar)
            strips.append((f"{Path(e).parent.name}/{Path(e).stem}", res["pushes"][0].pop("_strip")))
            for p in res["pushes"]:
                p.pop("_strip", None)
            results.append(res)
    report = {
        "units": {"chamfer": "m", "emd": "m", "psnr": "dB", "j": "", "f": "", "ssim": ""},
        "options": dataclasses.asdict(opts),
        "episodes": results,
        "summary": summarize(results),
        "paper_table2": PAPER_TABLE2 or None,
    }
    return report, strips


def summary_lines(report: dict) -> list[str]:
    lines = []
    for obj, methods in report["summary"].items():
        n = max((v["n"] for d in methods.values() for v in d.values()), default=0)
        lines.append(f"{obj}: {n} episode(s), mean (std) over episodes")
        for m, d in methods.items():
            parts = []
            for k, scale, unit in (
                ("chamfer", 1e3, "mm"),
                ("emd", 1e3, "mm"),
                ("jf", 1, ""),
                ("psnr", 1, "dB"),
                ("ssim", 1, ""),
            ):
                if k in d:
                    parts.append(
                        f"{k} {scale * d[k]['mean']:.3g} ({scale * d[k]['std']:.2g}){unit}"
                    )
            lines.append(f"  {m:7s} " + ", ".join(parts))
    return lines


def write_video_report(report: dict, strips: list, out: str | os.PathLike) -> tuple[Path, Path]:
    """``out``.json (atomic) and ``out``.png: per episode (up to 3), camera ``strip_camera``
    at a few frames of its first evaluated push: the recorded frame, the model's and the
    static baseline's renders (over black) with the observed object outline (cyan)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gs_gnn_dynamics.evaluate import write_json_report

    js, png = write_json_report(report, out)
    strips = strips[:3]
    cols = max(len(s) for _, s in strips)
    rows = 3 * len(strips)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for e, (name, strip) in enumerate(strips):
        for j, fr in enumerate(strip):
            for r, key in enumerate(("observed", "model", "static")):
                ax = axes[3 * e + r, j]
                ax.imshow(np.clip(fr[key], 0, 1))
                if key != "observed":
                    ax.contour(fr["observed_mask"], levels=[0.5], colors="c", linewidths=0.6)
                title = f"{name} {key}" if j == 0 else key
                ax.set_title(f"{title}\nframe {fr['frame']}, step {fr['step']:.1f}", fontsize=7)
    fig.suptitle(
        "observed camera frame; predicted (model) and static renders, cyan: observed object mask",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / rows))
    tmp_png = png.with_name(png.stem + ".tmp.png")
    fig.savefig(tmp_png, dpi=100)
    plt.close(fig)
    os.replace(tmp_png, png)
    return js, png


def shipped_models() -> list[str]:
    """Names of the models shipped with the package (``models/<name>.json``)."""
    from gs_gnn_dynamics.predictor import shipped_checkpoint

    try:
        d = shipped_checkpoint().parent
    except FileNotFoundError:
        return []
    return sorted(p.stem for p in d.glob("*.json"))


def load_models(objects: list[str], checkpoint: str, device) -> dict[str, ParticleDynamics]:
    """object -> model: ``checkpoint`` for all, else the shipped model of each object
    (ValueError naming the objects without one and the shipped models)."""
    from gs_gnn_dynamics.checkpoint import load_checkpoint
    from gs_gnn_dynamics.predictor import shipped_checkpoint

    if checkpoint:
        from gs_gnn_dynamics.predictor import resolve_checkpoint

        model, _ = load_checkpoint(resolve_checkpoint(checkpoint), device)
        return {o: model for o in objects}
    shipped = shipped_models()
    missing = sorted(set(objects) - set(shipped))
    if missing:
        raise ValueError(
            f"no shipped dynamics model for object(s) {missing}; shipped: {shipped} "
            "(pass --model <checkpoint stem> to evaluate another model)"
        )
    return {o: load_checkpoint(shipped_checkpoint(o), device)[0] for o in sorted(set(objects))}


def video_eval_main(
    episodes: list[str],
    tracked: list[str],
    out: str,
    checkpoint: str,
    opts: VideoEvalOptions,
) -> int:
    """The ``gs-dyn eval-video`` command: returns the exit status."""
    import sys

    from gs_common.device import resolve_device

    try:
        opts.validate()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    dev = resolve_device(opts.device)
    opts = dataclasses.replace(opts, device=str(dev))
    paths = [Path(e) for e in episodes]
    for p in paths:
        if not p.is_file():
            print(f"error: episode {p} does not exist", file=sys.stderr)
            return 2
    tracked = [tracked] if isinstance(tracked, str) else list(tracked)
    for t in tracked:
        if not Path(t).is_dir():
            print(f"error: --tracked {t} is not a directory", file=sys.stderr)
            return 2
    try:
        objects = [str(load_episode(p).metadata.get("object", "")) for p in paths]
        models = load_models(objects, checkpoint, dev)
        report, strips = evaluate_video(models, paths, [Path(t) for t in tracked], opts)
    except (TrackedFileError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report["checkpoint"] = checkpoint or {o: f"shipped:{o}" for o in sorted(set(objects))}
    for line in summary_lines(report):
        print(line)
    js, png = write_video_report(report, strips, out)
    print(f"report {js}, strip {png}")
    return 0
