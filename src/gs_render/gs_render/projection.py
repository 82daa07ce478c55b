"""EWA projection of 3D Gaussians into pinhole cameras (the CPU backends' first stage).

Conventions: world frame z-up metres; ``viewmats`` are world-to-camera (OpenCV camera axes:
x right, y down, z forward); ``Ks`` are pinhole intrinsics. Pixel coordinates follow
OpenCV / ROS CameraInfo: the centre of pixel (row v, column u) is at image point (u, v),
so the image spans [-0.5, W - 0.5] x [-0.5, H - 0.5].

Per (camera, Gaussian) the projection computes, with plain differentiable torch ops:

* the camera-frame mean p = R m + t and its depth z = p_z;
* the 3D covariance Sigma = R_q S S^T R_q^T from quaternion and (linear) scales;
* the Jacobian J of the perspective map at p (x/z, y/z clamped to 1.3x the field of view,
  as in 3DGS, so Gaussians far outside the image do not blow up);
* the 2D covariance J R Sigma R^T J^T + eps2d * I (the 0.3 px low-pass dilation of 3DGS);
* its inverse (the conic) and the cut-off radius per image axis: the alpha >= 1/255
  ellipse, i.e. extent = min(3.33, sqrt(2 ln(255 o))) standard deviations (3.33 sigma for
  opacity 1, where the Gaussian falls below 1/255; smaller for fainter Gaussians, as gsplat
  does). Outside this box a Gaussian can never pass the 1/255 alpha threshold, so the box
  is exact, not an approximation.

Culling (radius set to 0): depth not in (near, far), opacity < 1/255, degenerate 2D
covariance, or the cut-off box entirely off-screen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gs_common.geometry import quat_to_matrix

#: Smallest alpha a Gaussian contributes with (3DGS / gsplat); below it a sample is skipped.
ALPHA_MIN = 1.0 / 255.0
#: Upper bound of the cut-off extent in standard deviations, sqrt(2 ln 255) rounded up.
MAX_EXTENT_SIGMAS = 3.33


@dataclass
class Projected:
    """Screen-space Gaussians, one row per (camera, Gaussian).

    Attributes:
        means2d: (C, N, 2) projected means in pixels (u right, v down).
        conics: (C, N, 3) upper triangle (a, b, c) of the inverse 2D covariance, 1/px^2.
        depths: (C, N) camera-frame z of the means, metres.
        radii: (C, N, 2) int32 cut-off half-widths in pixels along u and v; 0 if culled.
        opacities: (N,) opacities in [0, 1] (the input, shared by all cameras).
    """

    means2d: torch.Tensor
    conics: torch.Tensor
    depths: torch.Tensor
    radii: torch.Tensor
    opacities: torch.Tensor

    @property
    def visible(self) -> torch.Tensor:
        """(C, N) bool: the Gaussian survived culling in that camera."""
        return (self.radii > 0).all(dim=-1)


def project_gaussians(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    viewmats: torch.Tensor,
    Ks: torch.Tensor,
    width: int,
    height: int,
    near: float = 0.01,
    far: float = 1e10,
    eps2d: float = 0.3,
) -> Projected:
    """Project N Gaussians into C cameras (EWA splatting).

    Args:
        means: (N, 3) world positions, metres.
        quats: (N, 4) rotations, (w, x, y, z), any norm.
        scales: (N, 3) standard deviations along the local axes, metres (linear).
        opacities: (N,) in [0, 1].
        viewmats: (C, 4, 4) world-to-camera transforms.
        Ks: (C, 3, 3) intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], pixels.
        width, height: image size in pixels.
        near, far: depth range in metres; Gaussians whose mean is outside are culled.
        eps2d: isotropic variance in px^2 added to every 2D covariance (anti-aliasing).

    Returns:
        A :class:`Projected`; every tensor is finite, culled entries included, so gradients
        never turn into NaN.
    """
    rot_cam = viewmats[:, :3, :3]  # (C, 3, 3)
    p = torch.einsum("cij,nj->cni", rot_cam, means) + viewmats[:, None, :3, 3]  # (C, N, 3)
    x, y, z = p.unbind(-1)
    fx, fy = Ks[:, 0, 0, None], Ks[:, 1, 1, None]  # (C, 1)
    cx, cy = Ks[:, 0, 2, None], Ks[:, 1, 2, None]

    in_depth = (z > near) & (z < far)
    z_safe = torch.where(in_depth, z, torch.ones_like(z))  # keeps culled rows finite
    u = fx * x / z_safe + cx
    v = fy * y / z_safe + cy

    # Jacobian of (u, v) w.r.t. camera coordinates, with x/z and y/z clamped (3DGS).
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    lim_xp = (width - 0.5 - cx) / fx + 0.3 * tan_x
    lim_xn = (cx + 0.5) / fx + 0.3 * tan_x
    lim_yp = (height - 0.5 - cy) / fy + 0.3 * tan_y
    lim_yn = (cy + 0.5) / fy + 0.3 * tan_y
    tx = torch.minimum(torch.maximum(x / z_safe, -lim_xn), lim_xp)
    ty = torch.minimum(torch.maximum(y / z_safe, -lim_yn), lim_yp)
    zero = torch.zeros_like(z)
    jac = torch.stack(
        [fx / z_safe, zero, -fx * tx / z_safe, zero, fy / z_safe, -fy * ty / z_safe], dim=-1
    ).reshape(*z.shape, 2, 3)  # (C, N, 2, 3)

    # 2D covariance = A A^T with A = J R_cam R_q S (so no 3x3 covariance is formed).
    rs = quat_to_matrix(quats) * scales[:, None, :]  # (N, 3, 3): R_q diag(s)
    a_mat = (jac @ rot_cam[:, None]) @ rs[None]  # (C, N, 2, 3)
    cov_uu = (a_mat[..., 0, :] ** 2).sum(-1) + eps2d
    cov_uv = (a_mat[..., 0, :] * a_mat[..., 1, :]).sum(-1)
    cov_vv = (a_mat[..., 1, :] ** 2).sum(-1) + eps2d
    det = cov_uu * cov_vv - cov_uv**2
    det_ok = det > 1e-12
    det_safe = torch.where(det_ok, det, torch.ones_like(det))
    conics = torch.stack([cov_vv / det_safe, -cov_uv / det_safe, cov_uu / det_safe], dim=-1)

    with torch.no_grad():
        opac = opacities.detach()
        extent = torch.sqrt(2.0 * torch.log(opac.clamp_min(ALPHA_MIN) / ALPHA_MIN))
        extent = extent.clamp_max(MAX_EXTENT_SIGMAS)  # (N,)
        rad_u = torch.ceil(extent * cov_uu.detach().clamp_min(0).sqrt())
        rad_v = torch.ceil(extent * cov_vv.detach().clamp_min(0).sqrt())
        on_screen = (
            (u.detach() + 0.5 + rad_u > 0)
            & (u.detach() + 0.5 - rad_u < width)
            & (v.detach() + 0.5 + rad_v > 0)
            & (v.detach() + 0.5 - rad_v < height)
        )
        keep = in_depth & det_ok & on_screen & (opac >= ALPHA_MIN) & (rad_u > 0) & (rad_v > 0)
        radii = torch.stack([rad_u, rad_v], dim=-1) * keep[..., None]
        radii = radii.to(torch.int32)

    return Projected(
        means2d=torch.stack([u, v], dim=-1),
        conics=conics,
        depths=z,
        radii=radii,
        opacities=opacities,
    )
