"""gs_render: differentiable 3D Gaussian splatting with depth and alpha.

gsplat on CUDA, the package's own torch tiled compositor on CPU, one API::

    from gs_render import render
    out = render(means, quats, scales, opacities, colors, viewmats, Ks, width, height)
    out.rgb, out.depth, out.alpha  # (C, H, W, 3), (C, H, W, 1), (C, H, W, 1)

ROS-free: nothing here imports rclpy.
"""

from .api import BACKENDS, RenderOutput, render, select_backend
from .cameras import intrinsics, table_corner_rig
from .gaussians import Gaussians

__all__ = [
    "BACKENDS",
    "Gaussians",
    "RenderOutput",
    "intrinsics",
    "render",
    "select_backend",
    "table_corner_rig",
]
