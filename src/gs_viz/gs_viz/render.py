"""Headless picture of the markers (matplotlib, Agg): what RViz / Foxglove show of a plan.

Every MarkerSpec is drawn by its type (SPHERE_LIST -> scatter, LINE_LIST -> segments,
LINE_STRIP -> polyline, ARROW -> arrow, TEXT_VIEW_FACING -> text), so the picture shows
exactly the markers the markers node publishes. Left: an oblique 3D view of the workcell;
right: the top view, where pushes and predicted paths read best.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from gs_viz import markers as mk

TABLE_HALF = 0.5  # [m] drawn table extent (top view)
# drawing order (later on top); namespaces not listed are not drawn (camera pyramids would
# shrink the workcell to a corner of the picture)
DRAW_ORDER = (
    "workspace",
    "target",
    "predicted_paths",
    "ee_path",
    "edges",
    "predicted_states",
    "particles",
    "push",
    "push_label",
)


def _draw_3d(ax, spec: mk.MarkerSpec) -> None:
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    pts = np.asarray(spec.points, np.float64).reshape(-1, 3)
    color = spec.colors if spec.colors is not None else [spec.color]
    if spec.type == mk.SPHERE_LIST and len(pts):
        size = (spec.scale[0] * 1800) ** 2 / 40
        ax.scatter(*pts.T, s=size, c=color, depthshade=False, edgecolors="none")
    elif spec.type == mk.LINE_LIST and len(pts):
        seg = pts.reshape(-1, 2, 3)
        cols = spec.colors[0::2] if spec.colors is not None else [spec.color]
        ax.add_collection3d(Line3DCollection(seg, colors=cols, linewidths=spec.scale[0] * 500))
    elif spec.type == mk.LINE_STRIP and len(pts):
        ax.plot(*pts.T, color=spec.color, lw=spec.scale[0] * 500)
    elif spec.type == mk.ARROW and len(pts) == 2:
        d = pts[1] - pts[0]
        ax.quiver(*pts[0], *d, color=spec.color, lw=2.5, arrow_length_ratio=0.3)
    elif spec.type == mk.TEXT_VIEW_FACING:
        x, y, z = spec.position
        ax.text(x, y, z + 0.02, spec.text, color=_darker(spec.color), fontsize=9, ha="center")


def _draw_top(ax, spec: mk.MarkerSpec) -> None:
    from matplotlib.collections import LineCollection

    pts = np.asarray(spec.points, np.float64).reshape(-1, 3)
    color = spec.colors if spec.colors is not None else [spec.color]
    if spec.type == mk.SPHERE_LIST and len(pts):
        size = (spec.scale[0] * 1800) ** 2 / 40
        edge = "none" if spec.ns == "target" else "k"
        ax.scatter(pts[:, 0], pts[:, 1], s=size, c=color, edgecolors=edge, linewidths=0.3)
    elif spec.type == mk.LINE_LIST and len(pts):
        seg = pts.reshape(-1, 2, 3)[:, :, :2]
        cols = spec.colors[0::2] if spec.colors is not None else [spec.color]
        ax.add_collection(LineCollection(seg, colors=cols, linewidths=spec.scale[0] * 900))
    elif spec.type == mk.LINE_STRIP and len(pts):
        ax.plot(pts[:, 0], pts[:, 1], color=spec.color, lw=spec.scale[0] * 500)
    elif spec.type == mk.ARROW and len(pts) == 2:
        ax.annotate(
            "",
            xy=pts[1, :2],
            xytext=pts[0, :2],
            arrowprops={
                "arrowstyle": "-|>,head_width=0.5,head_length=1.0",
                "color": spec.color,
                "lw": 3.0,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
    elif spec.type == mk.TEXT_VIEW_FACING:
        ax.text(
            spec.position[0],
            spec.position[1] + 0.012,
            spec.text,
            color=_darker(spec.color),
            fontsize=9,
            ha="center",
            fontweight="bold",
        )


def _darker(c):
    return tuple(0.75 * v for v in c[:3])


def render(
    specs: list[mk.MarkerSpec],
    out: Path,
    title: str = "",
    footer: str = "",
    num_steps: int = 0,
) -> Path:
    """Draw ``specs`` (3D + top view) into the PNG ``out`` (written atomically);
    ``num_steps``: T of the plan, for the time colour bar (0: no colour bar)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig = plt.figure(figsize=(13.0, 6.4), dpi=130)
    grid = fig.add_gridspec(1, 2, width_ratios=(1.3, 1.0))
    ax3 = fig.add_subplot(grid[0], projection="3d")
    ax2 = fig.add_subplot(grid[1])
    table = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]) * TABLE_HALF
    ax2.fill(table[:, 0], table[:, 1], color=(0.93, 0.91, 0.87), zorder=0)
    drawn = sorted(
        (s for s in specs if s.action == mk.ADD and s.ns in DRAW_ORDER),
        key=lambda s: DRAW_ORDER.index(s.ns),
    )
    for spec in drawn:
        _draw_3d(ax3, spec)
        _draw_top(ax2, spec)
    all_pts = np.concatenate([np.asarray(s.points).reshape(-1, 3) for s in drawn if len(s.points)])
    lo, hi = all_pts.min(0) - 0.01, all_pts.max(0) + 0.01
    lo[2], hi[2] = 0.0, max(hi[2], 0.1)
    ax3.plot_trisurf(
        [lo[0], hi[0], hi[0], lo[0]],
        [lo[1], lo[1], hi[1], hi[1]],
        [0, 0, 0, 0],
        color=(0.85, 0.82, 0.76),
        alpha=0.35,
        shade=False,
    )
    ax3.set_xlim(lo[0], hi[0])
    ax3.set_ylim(lo[1], hi[1])
    ax3.set_zlim(lo[2], hi[2])
    ax3.set_box_aspect(hi - lo)
    ax3.view_init(elev=38, azim=-62)
    ax3.set_zticks([0.0, 0.05, 0.1, 0.15])
    ax3.set_xlabel("x [m]")
    ax3.set_ylabel("y [m]")
    ax3.set_zlabel("z [m]")
    ax3.set_title("3D view (world)")
    # top view: fitted to the object, the target and the plan
    near = np.concatenate(
        [
            np.asarray(s.points).reshape(-1, 3)
            for s in drawn
            if s.ns != "workspace" and len(s.points)
        ]
    )
    centre = 0.5 * (near.min(0) + near.max(0))
    half = 0.5 * float((near.max(0) - near.min(0))[:2].max()) + 0.04
    ax2.set_xlim(centre[0] - half, centre[0] + half)
    ax2.set_ylim(centre[1] - half, centre[1] + half)
    ax2.set_aspect("equal")
    ax2.set_xlabel("x [m]")
    ax2.set_ylabel("y [m]")
    ax2.set_title("top view")
    ax2.grid(alpha=0.3)

    if num_steps:
        sm = plt.cm.ScalarMappable(cmap=mk.TIME_COLORMAP, norm=plt.Normalize(0, num_steps))
        cb = fig.colorbar(sm, ax=ax2, fraction=0.046, pad=0.02)
        cb.set_label("predicted model step (1 cm of pusher travel each)")
    handles = [
        Line2D([], [], color=mk.PUSH_COLOR, lw=3, label="planned push (viz/plan)"),
        Line2D([], [], color=mk.time_colors(3)[1], lw=2, label="predicted particle paths + states"),
        Line2D([], [], color=mk.EE_COLOR, lw=2, label="predicted pusher path"),
        Line2D(
            [], [], marker="o", ls="", color=mk.PARTICLE_COLOR, label="control particles + graph"
        ),
        Line2D([], [], marker="o", ls="", color=mk.TARGET_COLOR, label="target (viz/target)"),
        Line2D([], [], color=mk.WORKSPACE_COLOR, lw=1.5, label="pusher workspace"),
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.025),
        ncol=3,
        frameon=False,
        fontsize=9,
    )
    if title:
        fig.suptitle(title, fontsize=13, y=0.99)
    if footer:
        fig.text(0.5, 0.008, footer, ha="center", va="bottom", fontsize=7.5, color="0.35")
    fig.subplots_adjust(left=0.0, right=0.95, top=0.89, bottom=0.2, wspace=0.08)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, format="png")
    plt.close(fig)
    os.replace(tmp, out)
    return out
