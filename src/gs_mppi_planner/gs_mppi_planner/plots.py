"""Figures: the paper's Fig. 5 plots (error vs pushes, success rate vs threshold) and
top-down views of an episode (observed object, target, planned push, prediction).
Matplotlib with the Agg backend (headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gs_common.push import push_end
from gs_common.workcell import WORKSPACE

COLORS = {"mppi": "tab:red", "shooting": "tab:blue", "pytorch_mppi": "tab:green"}
LABELS = {
    "mppi": "MPPI (ours)",
    "shooting": "best-of-N shooting",
    "pytorch_mppi": "pytorch_mppi",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, ax, title: str, path: Path) -> None:
    """Title, grid and legend, then write ``path`` (PNG, 120 dpi) and free the figure."""
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _plt().close(fig)


def padded_errors(errors: list[list[float]], max_pushes: int) -> np.ndarray:
    """(E, max_pushes + 1) errors per episode after 0..max_pushes pushes; an episode that
    stopped early (tolerance reached) keeps its last error."""
    out = np.empty((len(errors), max_pushes + 1))
    for i, e in enumerate(errors):
        e = list(e)[: max_pushes + 1]
        out[i] = e + [e[-1]] * (max_pushes + 1 - len(e))
    return out


def plot_error_vs_pushes(
    per_planner: dict[str, list[list[float]]], max_pushes: int, path: Path, title: str
) -> None:
    """Median and 25-75 % band of the error [mm] after each number of pushes."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    x = np.arange(max_pushes + 1)
    for name, errors in per_planner.items():
        e = padded_errors(errors, max_pushes) * 1000
        c = COLORS.get(name)
        ax.plot(x, np.median(e, 0), "-o", ms=3, color=c, label=LABELS.get(name, name))
        ax.fill_between(x, *np.percentile(e, [25, 75], 0), color=c, alpha=0.2)
    ax.set_xlabel("number of pushes")
    ax.set_ylabel("Chamfer distance to target [mm]")
    _finish(fig, ax, title, path)


def plot_demo_errors(
    path: Path, true: list[float], observed: list[float], tolerance: float, title: str
) -> None:
    """One episode: the error [m] before the first push and after each push, true (ground
    truth) and as the planner observed it (NaN where it did not), with the tolerance."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    x = np.arange(len(true))
    ax.plot(x, np.asarray(true) * 1000, "-o", color="tab:red", label="true (ground truth)")
    ax.plot(x[: len(observed)], np.asarray(observed) * 1000, "--s", color="tab:green",
            label="as the planner observed it")  # fmt: skip
    ax.axhline(tolerance * 1000, color="k", ls=":", label=f"tolerance {tolerance * 1000:.0f} mm")
    ax.set_xlabel("number of pushes")
    ax.set_ylabel("Chamfer distance to target [mm]")
    ax.set_ylim(bottom=0)
    _finish(fig, ax, title, path)


def success_curve(final_errors: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of episodes with final error <= each threshold."""
    return (np.asarray(final_errors)[None] <= np.asarray(thresholds)[:, None]).mean(1)


def plot_success_vs_threshold(
    per_planner: dict[str, np.ndarray],
    path: Path,
    title: str,
    threshold: float,
    marks: tuple[float, ...] = (0.010, 0.015),
) -> None:
    """Success rate vs error threshold [mm]; the chosen threshold as a dashed line, the
    reported thresholds ``marks`` [m] (10 and 15 mm) as dotted ones."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    th = np.linspace(0, 0.06, 121)
    for name, final in per_planner.items():
        ax.plot(
            th * 1000,
            success_curve(final, th),
            color=COLORS.get(name),
            label=LABELS.get(name, name),
        )
    ax.axvline(threshold * 1000, color="k", ls="--", lw=1, label=f"{threshold * 1000:.0f} mm")
    for m in marks:
        if abs(m - threshold) > 1e-9:
            ax.axvline(m * 1000, color="0.5", ls=":", lw=1)
    ax.set_xlabel("error threshold [mm]")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.02, 1.02)
    _finish(fig, ax, title, path)


def save_topdown(
    path: Path,
    observed: np.ndarray,
    target: np.ndarray,
    title: str = "",
    push=None,
    predicted: np.ndarray | None = None,
    workspace: tuple[float, float, float, float] = WORKSPACE,
) -> None:
    """Top-down view: observed points (M, 3), target (T, 3), optional planned push
    (x, y, theta, length) and predicted final particles (N, 3), workspace box [m]."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 5))
    x0, x1, y0, y1 = workspace
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], "k-", lw=0.8, alpha=0.5)
    ax.plot(target[:, 0], target[:, 1], ".", color="tab:green", ms=6, label="target")
    ax.plot(observed[:, 0], observed[:, 1], ".", color="tab:blue", ms=5, label="observed")
    if predicted is not None:
        ax.plot(
            predicted[:, 0], predicted[:, 1], "o", mfc="none", color="tab:purple", ms=5,
            label="predicted",
        )  # fmt: skip
    if push is not None:
        x, y = float(push[0]), float(push[1])
        ax.annotate(
            "",
            xy=push_end(push),
            xytext=(x, y),
            arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 2},
        )
        ax.plot([x], [y], "o", color="tab:red", ms=4, label="push")
    ax.set_aspect("equal")
    ax.set_xlim(x0 - 0.03, x1 + 0.03)
    ax.set_ylim(y0 - 0.03, y1 + 0.03)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
