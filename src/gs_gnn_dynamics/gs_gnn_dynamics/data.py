"""Training data: trajectories -> control particles -> 1 cm steps -> rollout windows.

One loader for simulator episodes (``.mcap``, ground-truth vertices) and tracked
trajectories (``.npz``), both through ``gs_common.episode.load_trajectories``.

Pushes are the runs of frames where the end-effector is below ``contact_height``. Each run
is resampled so that consecutive samples are ``step_length`` of horizontal end-effector
travel apart (linear interpolation between frames); frames outside pushes are not steps.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import torch

from gs_common.episode import Trajectories, load_trajectories
from gs_common.pointsets import farthest_point_sampling
from gs_common.push import push_runs
from gs_gnn_dynamics.config import DynamicsConfig


@dataclasses.dataclass
class PushSegment:
    """One push resampled to model steps: points (S + 1, N, 3) [m], tool (S + 1, 3) [m]."""

    points: np.ndarray
    tool: np.ndarray
    episode: str

    @property
    def num_steps(self) -> int:
        return len(self.tool) - 1


def episode_files(path: str | os.PathLike) -> list[Path]:
    """Episode / trajectory files under ``path`` (a file, or a directory searched recursively),
    sorted by name."""
    p = Path(path)
    if p.is_file():
        return [p]
    files = sorted(f for f in p.rglob("*") if f.suffix in (".mcap", ".npz") and f.is_file())
    if not files:
        raise FileNotFoundError(f"no .mcap / .npz episodes under {p}")
    return files


def select_particles(points: np.ndarray, cfg: DynamicsConfig) -> np.ndarray:
    """Indices of the control particles of a frame (N, 3): FPS with minimum spacing."""
    return farthest_point_sampling(points, cfg.max_particles, 0, cfg.min_spacing)


def resample_by_travel(
    points: np.ndarray, ee: np.ndarray, step_length: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resample one run (frames: points (F, N, 3), ee (F, 3)) at every ``step_length`` of
    cumulative horizontal ee travel. Sample 0 is the last frame before the ee moves.
    Returns (points (S + 1, N, 3), ee (S + 1, 3)); S = 0 when it travels < step_length."""
    travel = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(ee[:, :2], axis=0), axis=1))])
    s = int(np.floor(travel[-1] / step_length + 1e-9))
    targets = np.arange(1, s + 1) * step_length
    hi = np.clip(np.searchsorted(travel, targets, side="left"), 1, len(travel) - 1)
    lo = hi - 1
    alpha = (targets - travel[lo]) / np.maximum(travel[hi] - travel[lo], 1e-12)
    first = int(np.searchsorted(travel, 0.0, side="right") - 1)
    lo = np.concatenate([[first], lo])
    hi = np.concatenate([[first], hi])
    alpha = np.concatenate([[0.0], alpha])
    p = points[lo] * (1 - alpha[:, None, None]) + points[hi] * alpha[:, None, None]
    e = ee[lo] * (1 - alpha[:, None]) + ee[hi] * alpha[:, None]
    return p.astype(np.float32), e.astype(np.float32)


def trajectory_segments(traj: Trajectories, cfg: DynamicsConfig, name: str) -> list[PushSegment]:
    """Push segments (with at least one step) of one episode, on its control particles."""
    pts = np.asarray(traj.points, np.float32)
    ee = np.asarray(traj.ee, np.float32)
    ok = np.isfinite(ee).all(1) & np.isfinite(pts).all((1, 2))
    segments = []
    for a, b in push_runs(np.where(ok[:, None], ee, np.inf), cfg.contact_height):
        idx = select_particles(pts[a], cfg)
        p, e = resample_by_travel(pts[a : b + 1, idx], ee[a : b + 1], cfg.step_length)
        if len(e) > 1:
            segments.append(PushSegment(p, e, name))
    return segments


def load_segments(files: list[Path], cfg: DynamicsConfig) -> list[PushSegment]:
    out = []
    for f in files:
        out.extend(trajectory_segments(load_trajectories(f), cfg, f.name))
    return out


@dataclasses.dataclass
class Windows:
    """Training windows: frames (W, k + tau + 1, N, 3) [m] (k history frames, the start,
    tau targets; padded particles repeat particle 0), tool (W, k + tau + 1, 3) [m],
    mask (W, N) bool."""

    frames: torch.Tensor
    tool: torch.Tensor
    mask: torch.Tensor

    def __len__(self) -> int:
        return len(self.frames)


def make_windows(segments: list[PushSegment], history: int, horizon: int) -> Windows:
    """All windows with ``horizon`` future steps; history before a push start repeats the
    start state (the object is at rest before the pusher moves)."""
    n_max = max((s.points.shape[1] for s in segments), default=1)
    frames, tools, masks = [], [], []
    for seg in segments:
        s = seg.num_steps
        if s < horizon:
            continue
        starts = np.arange(0, s - horizon + 1)
        offsets = np.arange(-history, horizon + 1)
        idx = np.clip(starts[:, None] + offsets[None], 0, s)  # (w, k + tau + 1)
        n = seg.points.shape[1]
        p = np.concatenate([seg.points, np.repeat(seg.points[:, :1], n_max - n, 1)], 1)
        frames.append(p[idx])
        tools.append(seg.tool[idx])
        m = np.zeros((len(starts), n_max), bool)
        m[:, :n] = True
        masks.append(m)
    if not frames:
        raise ValueError(f"no push segment has {horizon} steps (of {len(segments)} segments)")
    return Windows(
        torch.as_tensor(np.concatenate(frames)),
        torch.as_tensor(np.concatenate(tools)),
        torch.as_tensor(np.concatenate(masks)),
    )


def rotate_z(frames: torch.Tensor, tool: torch.Tensor, angle: torch.Tensor):
    """Rotate windows about the vertical axis through each window's start-state centroid.

    frames (W, F, N, 3), tool (W, F, 3), angle (W,) [rad]."""
    c, s = torch.cos(angle), torch.sin(angle)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    rot = torch.stack([c, -s, zero, s, c, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    centre = frames[:, :, :, :].mean((1, 2), keepdim=True)
    centre = centre * torch.tensor([1.0, 1.0, 0.0], dtype=frames.dtype)
    f = torch.einsum("wij,wfnj->wfni", rot, frames - centre) + centre
    t = torch.einsum("wij,wfj->wfi", rot, tool - centre[:, :, 0]) + centre[:, :, 0]
    return f, t
