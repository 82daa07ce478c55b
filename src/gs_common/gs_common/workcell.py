"""The workcell's fixed geometry, one source for the simulator, the planner and the plots.

World frame: the table frame of DESIGN.md §4 (metres, z up, origin at the table centre).
"""

from __future__ import annotations

WORKSPACE_X: tuple[float, float] = (-0.22, 0.22)
"""x range [m] of the pusher tip's workspace."""
WORKSPACE_Y: tuple[float, float] = (-0.25, 0.25)
"""y range [m] of the pusher tip's workspace."""
WORKSPACE: tuple[float, float, float, float] = (*WORKSPACE_X, *WORKSPACE_Y)
"""(x_min, x_max, y_min, y_max) [m] of the pusher tip's workspace."""
ARM_BASE: tuple[float, float] = (-0.40, 0.0)
"""xy [m] of the arm base (xArm7) on the table."""


def outside_box(x: float, y: float, box=WORKSPACE, margin: float = 0.0) -> float:
    """How far [m] the point (x, y) lies outside ``box`` (x_min, x_max, y_min, y_max)
    grown by ``margin`` (0 inside; the larger of the x and y excess outside)."""
    x0, x1, y0, y1 = box
    dx = max(x0 - margin - x, x - x1 - margin, 0.0)
    dy = max(y0 - margin - y, y - y1 - margin, 0.0)
    return max(dx, dy)
