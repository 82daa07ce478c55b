"""The pipeline's stages as plain functions: inputs + settings -> files in ``out_dir``.

No Ray here: the runner wraps these in Ray tasks, tests may call them directly. Each stage
calls the same core code as the package's command-line tool (``gs-sim generate``,
``gs-track``, ``gs-dyn train``, ``gs-dyn eval``), so a model made by the pipeline is the one
those tools would make from the same settings.

``STAGE_VERSIONS`` is part of every key: bump a stage's number when a code change alters
what it writes, and every output of that stage (and everything downstream) is redone.
"""

from __future__ import annotations

import os
from pathlib import Path

STAGE_VERSIONS = {"generate": 2, "track": 2, "train": 1, "evaluate": 1}

EPISODE_FILE = "episode.mcap"
TRAJECTORIES_FILE = "trajectories.npz"
GAUSSIANS_FILE = "gaussians.safetensors"
CHECKPOINT_STEM = "model"


def limit_threads(num_cpus: float) -> None:
    """One task, ``num_cpus`` cores: keep torch from spreading over the whole machine."""
    import torch

    torch.set_num_threads(max(1, int(num_cpus)))


def generate(settings: dict, seed: int, index: int, pushes: int, out_dir: Path) -> dict:
    """Simulate and record episode ``index`` of ``seed`` (deterministic) to
    ``out_dir/episode.mcap``."""
    from gs_sim.generate import PushSampling, generate_episode
    from gs_sim.settings import workcell_config

    config = workcell_config(
        {
            "object": settings["object"],
            "image_width": settings["width"],
            "image_height": settings["height"],
            "fps": settings["fps"],
            "num_cameras": settings["cameras"],
        }
    )
    sampling = PushSampling(
        min_length=settings["min_length"],
        max_length=settings["max_length"],
        speed=settings["speed"],
    )
    path = generate_episode(
        out_dir / EPISODE_FILE, config, seed, index, pushes, masks=True, sampling=sampling
    )
    return {"episode_file": path.name}


def track(episode: str, settings: dict, out_dir: Path) -> dict:
    """Track one episode (as ``gs-track`` does): tracked Gaussians + particle trajectories.
    A simulated episode's result also holds the tracking error against its ground truth
    (3D MTE of the first frame's vertices carried by the Gaussians, as ``gs-track-eval``)."""
    import numpy as np

    from gs_common.episode import load_episode
    from gs_tracking.offline import track_episode
    from gs_tracking.tracked_io import frame_selection, save_tracking_outputs, settings_dict
    from gs_tracking.tracker import TrackerConfig

    config = TrackerConfig(**settings["tracker"])
    ep = load_episode(episode)
    frames = frame_selection(settings["frames"], ep)
    seq = track_episode(ep, config, settings["scale"], frames, settings["voxel"])
    stored = {**settings_dict(config), "scale": settings["scale"], "voxel": settings["voxel"]}
    points, removed = save_tracking_outputs(
        seq,
        ep,
        str(episode),
        stored,
        out_dir / GAUSSIANS_FILE,
        out_dir / TRAJECTORIES_FILE,
        settings["particles"],
    )
    per_frame = [s.seconds for s in seq.stats[1:]]
    accuracy = {}
    if ep.object_points.shape[1] > 0:  # a simulated episode: score against its ground truth
        from gs_tracking.evaluate import carried
        from gs_tracking.metrics import tracking_report

        gt = ep.object_points[frames]
        m3 = tracking_report(carried(seq, gt[0]), gt, ep.intrinsics, ep.world_from_camera)["3d"]
        accuracy = {"mte_3d_mm": float(m3["mte_mm"]), "delta_avg_3d": float(m3["delta_avg"])}
    return {
        **accuracy,
        "frames": len(frames),
        "gaussians": int(seq.means.shape[1]),
        "particles": int(points.shape[1]),
        "motion_outliers_removed": int(removed),
        "seconds_per_frame": float(np.mean(per_frame)) if per_frame else 0.0,
    }


def _link_inputs(files: list[str], directory: Path) -> Path:
    """``directory`` holding one symbolic link per input file, named in input order."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(files):
        os.symlink(os.path.abspath(f), directory / f"{i:05d}_{Path(f).parent.name}{Path(f).suffix}")
    return directory


def train(inputs: list[str], settings: dict, out_dir: Path) -> dict:
    """Train the dynamics model on the episodes / trajectories ``inputs`` (as ``gs-dyn
    train``); writes ``model.{safetensors,json}``, the training log and a loss plot."""
    from gs_gnn_dynamics.config import DynamicsConfig
    from gs_gnn_dynamics.train import TrainOptions
    from gs_gnn_dynamics.train import train as train_model

    cfg = DynamicsConfig(**settings["model"])
    opts = TrainOptions(
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        lr=settings["lr"],
        edge_weight=settings["edge_weight"],
        rigid_weight=settings["rigid_weight"],
        val_fraction=settings["val_fraction"],
        seed=settings["seed"],
        augment=settings["augment"],
        progress=False,
    )
    data = _link_inputs(inputs, out_dir / "inputs")
    lines: list[str] = []
    summary = train_model(data, out_dir, cfg, opts, log=lines.append)
    for name in ("last.safetensors", "last.json", "train_state.safetensors", "train_state.json"):
        (out_dir / name).unlink(missing_ok=True)  # resume state: not part of a finished model
    (out_dir / "train.log").write_text("\n".join(lines) + "\n")  # train() wrote loss.png
    return {"best_val": summary["best_val"], "epochs": len(summary["epochs"])}


def evaluate(checkpoint: str, episodes: list[str], settings: dict, out_dir: Path) -> dict:
    """Roll the model out on held-out episodes against their ground truth and the baselines
    (as ``gs-dyn eval``): ``eval.json`` + ``eval.png``."""
    from gs_gnn_dynamics.checkpoint import load_checkpoint
    from gs_gnn_dynamics.evaluate import evaluate as evaluate_model
    from gs_gnn_dynamics.evaluate import summary_lines, write_report

    model, _ = load_checkpoint(checkpoint, "cpu")
    data = _link_inputs(episodes, out_dir / "inputs")
    report = evaluate_model(
        model,
        data,
        settings["horizon"],
        settings["contact_radius"],
        settings["stride"],
        emd=settings["emd"],
    )
    report["checkpoint"] = checkpoint
    write_report(report, out_dir / "eval")
    return {"summary": summary_lines(report)}
