"""Tracked-episode files (format ``gs_dynamics.tracked_gaussians`` v1).

``<name>.gaussians.safetensors``: tensors ``means`` (T, N, 3) float32 m, ``quats``
(T, N, 4) wxyz, ``scales`` (N, 3) m, ``opacities`` (N,), ``colors`` (N, 3) in [0, 1],
``frames`` (T,) int64 episode frame indices, ``times`` (T,) float64 s; the safetensors
metadata holds ``format``, ``version``, ``source_episode`` and the tracker settings (JSON).
The particle trajectories derived from them go to ``<name>.npz`` in the shared
``gs_dynamics.trajectories`` format (gs_common.episode.save_trajectories), which the
dynamics training tool reads exactly like simulator ground truth.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, safe_open, save_file

from gs_tracking.offline import TrackedSequence

FORMAT = "gs_dynamics.tracked_gaussians"
VERSION = 1


def save_tracked(
    path: str | os.PathLike, seq: TrackedSequence, source_episode: str, settings: dict
) -> Path:
    """Write ``seq`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {
        "means": torch.as_tensor(seq.means, dtype=torch.float32),
        "quats": torch.as_tensor(seq.quats, dtype=torch.float32),
        "scales": torch.as_tensor(seq.scales, dtype=torch.float32),
        "opacities": torch.as_tensor(seq.opacities, dtype=torch.float32),
        "colors": torch.as_tensor(seq.colors, dtype=torch.float32),
        "frames": torch.as_tensor(seq.frames, dtype=torch.int64),
        "times": torch.as_tensor(seq.times, dtype=torch.float64),
        "iterations": torch.as_tensor([s.iterations for s in seq.stats], dtype=torch.int64),
        "seconds": torch.as_tensor([s.seconds for s in seq.stats], dtype=torch.float64),
    }
    meta = {
        "format": FORMAT,
        "version": str(VERSION),
        "source_episode": source_episode,
        "settings": json.dumps(settings, default=str),
    }
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=meta)
    os.replace(tmp, path)
    return path


def load_tracked(path: str | os.PathLike) -> tuple[TrackedSequence, dict]:
    """(sequence, metadata) of a tracked-Gaussians file; rejects other formats/versions."""
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} file (format={meta.get('format')!r})")
    if int(meta.get("version", 0)) > VERSION:
        raise ValueError(f"{path} has version {meta['version']}; this reader knows {VERSION}")
    t = load_file(str(path))
    from gs_tracking.tracker import FrameStats

    stats = [
        FrameStats(int(i), float("nan"), float(s))
        for i, s in zip(t["iterations"].tolist(), t["seconds"].tolist())
    ]
    seq = TrackedSequence(
        t["frames"].numpy(),
        t["times"].numpy(),
        t["means"].numpy(),
        t["quats"].numpy(),
        t["scales"].numpy(),
        t["opacities"].numpy(),
        t["colors"].numpy(),
        stats,
    )
    meta = dict(meta)
    meta["settings"] = json.loads(meta.get("settings", "{}"))
    return seq, meta


def settings_dict(config) -> dict:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)


FRAMES_HELP = (
    "frames to track: a:b[:step] (a range), 'pushes[:before:after]' (frame 0, then every "
    "push (pusher tip <= 2 cm high) from `before` frames before it to `after` frames after "
    "it, default 3 and 12: between pushes the object rests and is not tracked), or empty "
    "(all frames)"
)


def frame_spec_error(spec: str) -> str:
    """Why ``spec`` is not a valid frame selection (see ``FRAMES_HELP``), or "" when it is
    (checked without an episode, e.g. when a pipeline config is read)."""
    head, _, rest = spec.partition(":")
    if head == "pushes":
        parts = rest.split(":") if rest else ["3", "12"]
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            return f"{spec!r}: expected pushes[:before:after] with before, after >= 0"
        return ""
    parts = spec.split(":") if spec else []
    if (
        len(parts) == 1
        or len(parts) > 3
        or not all(p.lstrip("-").isdigit() or not p for p in parts)
    ):
        return f"{spec!r}: expected a:b[:step], pushes[:before:after] or empty"
    return ""


def frame_selection(spec: str, ep) -> list[int]:
    """The frame indices of episode ``ep`` that ``spec`` selects (see ``FRAMES_HELP``),
    ascending and validated. ``pushes`` skips the frames where the pusher is away and the
    object rests: tracking then costs what the pushes cost, not what the episode lasts."""
    error = frame_spec_error(spec)
    if error:
        raise ValueError(f"--frames {error}")
    head, _, rest = spec.partition(":")
    if head != "pushes":
        return list(frame_slice(spec, ep.num_frames))
    margins = [int(p) for p in rest.split(":")] if rest else [3, 12]
    from gs_common.push import push_runs

    selected = {0}
    for a, b in push_runs(np.asarray(ep.ee_positions)):
        selected.update(range(max(0, a - margins[0]), min(ep.num_frames, b + margins[1] + 1)))
    if len(selected) < 2:
        raise ValueError(f"--frames {spec!r}: {ep.path} has no push (pusher never <= 2 cm high)")
    return sorted(selected)


def frame_slice(spec: str, num_frames: int) -> range:
    """``"a:b"`` / ``"a:b:s"`` / ``""`` (all) -> a range of frame indices, validated."""
    if not spec:
        return range(num_frames)
    parts = [int(p) if p else None for p in spec.split(":")]
    r = range(num_frames)[slice(*parts)]
    if len(r) < 2:
        raise ValueError(f"--frames {spec!r} selects {len(r)} frames of {num_frames}; need >= 2")
    return r


def as_numpy(x) -> np.ndarray:
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def save_tracking_outputs(
    seq: TrackedSequence,
    ep,
    source_episode: str,
    settings: dict,
    gaussians_path: str | os.PathLike,
    trajectories_path: str | os.PathLike,
    num_particles: int,
) -> tuple[np.ndarray, int]:
    """The two outputs of tracking an episode ``ep`` (gs_common.episode.Episode), as
    ``gs-track`` and the offline pipeline write them: the tracked Gaussians
    (``save_tracked``) and the control-particle trajectories (gs_common.episode format,
    ``num_particles`` by FPS, motion outliers removed). Returns the particle trajectories
    (T, N, 3) [m] and how many outliers were removed."""
    from gs_common.episode import Trajectories, save_trajectories
    from gs_tracking.particles import extract_particles

    save_tracked(gaussians_path, seq, source_episode, settings)
    points, removed = extract_particles(seq.means, seq.quats, num_particles)
    idx = np.asarray(seq.frames)
    dt = float(np.median(np.diff(seq.times))) if len(idx) > 1 else 0.0
    save_trajectories(
        trajectories_path,
        Trajectories(
            points, ep.ee_positions[idx].astype(np.float32), ep.pushes, seq.times, dt, "tracking"
        ),
    )
    return points, removed
