"""Rotations, rigid transforms and point-set registration.

Conventions: quaternions are (..., 4) in ``(w, x, y, z)`` order (Hamilton, unit norm);
rotation matrices are (..., 3, 3) and act on column vectors; 4x4 homogeneous transforms
``a_from_b`` map points expressed in frame b into frame a. All functions accept numpy
arrays or torch tensors and return the same kind (torch keeps autograd).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # numpy.ndarray or torch.Tensor


def _is_torch(x: Array) -> bool:
    return type(x).__module__.startswith("torch")


def _stack(items: list, axis: int, like: Array) -> Array:
    if _is_torch(like):
        import torch

        return torch.stack(items, dim=axis)
    return np.stack(items, axis=axis)


def quat_normalize(q: Array, eps: float = 1e-12) -> Array:
    """Unit quaternions: ``q`` (..., 4) divided by its norm (clamped at ``eps``)."""
    if _is_torch(q):
        return q / q.norm(dim=-1, keepdim=True).clamp_min(eps)
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), eps)


def quat_to_matrix(q: Array) -> Array:
    """Rotation matrices (..., 3, 3) from quaternions ``q`` (..., 4) wxyz (normalized here)."""
    q = quat_normalize(q)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [
        _stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1, q),
        _stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1, q),
        _stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1, q),
    ]
    return _stack(rows, -2, q)


def matrix_to_quat(m: Array) -> Array:
    """Quaternions (..., 4) wxyz with w >= 0 from rotation matrices ``m`` (..., 3, 3).

    Uses the numerically stable branch selection (largest diagonal term), vectorized.
    """
    torch_in = _is_torch(m)
    if torch_in:
        import torch

        mt = m
    else:
        import torch

        mt = torch.as_tensor(np.asarray(m, dtype=np.float64))
    m00, m11, m22 = mt[..., 0, 0], mt[..., 1, 1], mt[..., 2, 2]
    # Candidate (unnormalized) quaternions, one per branch; pick the best conditioned.
    cands = torch.stack(
        [
            torch.stack(
                [
                    1 + m00 + m11 + m22,
                    mt[..., 2, 1] - mt[..., 1, 2],
                    mt[..., 0, 2] - mt[..., 2, 0],
                    mt[..., 1, 0] - mt[..., 0, 1],
                ],
                -1,
            ),
            torch.stack(
                [
                    mt[..., 2, 1] - mt[..., 1, 2],
                    1 + m00 - m11 - m22,
                    mt[..., 0, 1] + mt[..., 1, 0],
                    mt[..., 0, 2] + mt[..., 2, 0],
                ],
                -1,
            ),
            torch.stack(
                [
                    mt[..., 0, 2] - mt[..., 2, 0],
                    mt[..., 0, 1] + mt[..., 1, 0],
                    1 - m00 + m11 - m22,
                    mt[..., 1, 2] + mt[..., 2, 1],
                ],
                -1,
            ),
            torch.stack(
                [
                    mt[..., 1, 0] - mt[..., 0, 1],
                    mt[..., 0, 2] + mt[..., 2, 0],
                    mt[..., 1, 2] + mt[..., 2, 1],
                    1 - m00 - m11 + m22,
                ],
                -1,
            ),
        ],
        -2,
    )  # (..., 4 branches, 4)
    traces = torch.stack([m00 + m11 + m22, m00, m11, m22], -1)
    best = traces.argmax(-1, keepdim=True)  # (..., 1)
    q = torch.gather(cands, -2, best[..., None].expand(*best.shape, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    q = torch.where(q[..., :1] < 0, -q, q)
    if torch_in:
        return q
    return q.numpy().astype(np.asarray(m).dtype if np.asarray(m).dtype.kind == "f" else np.float64)


def quat_multiply(a: Array, b: Array) -> Array:
    """Hamilton product ``a * b`` of quaternions (..., 4) wxyz (rotation b, then a)."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
        a,
    )


def quat_from_axis_angle(axis: Array, angle: Array) -> Array:
    """Quaternions (..., 4) wxyz from unit ``axis`` (..., 3) and ``angle`` (...) in radians."""
    if _is_torch(axis):
        import torch

        half = torch.as_tensor(angle, dtype=axis.dtype, device=axis.device) / 2
        return torch.cat([torch.cos(half)[..., None], torch.sin(half)[..., None] * axis], -1)
    half = np.asarray(angle, dtype=np.float64) / 2
    return np.concatenate([np.cos(half)[..., None], np.sin(half)[..., None] * axis], -1)


def yaw_quat(yaw: float) -> np.ndarray:
    """Quaternion (4,) wxyz of a rotation by ``yaw`` radians about world z."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def make_transform(rotation: Array, translation: Array) -> np.ndarray:
    """4x4 homogeneous transform from a (3, 3) rotation and a (3,) translation (numpy)."""
    t = np.eye(4)
    t[:3, :3] = np.asarray(rotation, dtype=np.float64)
    t[:3, 3] = np.asarray(translation, dtype=np.float64)
    return t


def invert_transform(t: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform ``a_from_b`` -> ``b_from_a`` (numpy, (..., 4, 4))."""
    r = t[..., :3, :3]
    p = t[..., :3, 3:]
    out = np.zeros_like(t)
    rt = np.swapaxes(r, -1, -2)
    out[..., :3, :3] = rt
    out[..., :3, 3:] = -rt @ p
    out[..., 3, 3] = 1.0
    return out


def transform_points(a_from_b: Array, points_b: Array) -> Array:
    """Apply a 4x4 transform ``a_from_b`` (..., 4, 4) to ``points_b`` (..., N, 3)."""
    r = a_from_b[..., :3, :3]
    p = a_from_b[..., None, :3, 3]
    return points_b @ (r.transpose(-1, -2) if _is_torch(r) else np.swapaxes(r, -1, -2)) + p


def look_at(eye: Array, target: Array, up: Array = (0.0, 0.0, 1.0)) -> np.ndarray:
    """``world_from_camera`` (4, 4) of an OpenCV camera (x right, y down, z forward).

    The camera sits at ``eye`` (3,) metres and looks at ``target`` (3,); ``up`` is the world
    direction that should appear upward in the image.
    """
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    norm = np.linalg.norm(forward)
    if norm < 1e-9:
        raise ValueError(f"look_at: eye {eye.tolist()} coincides with target")
    z = forward / norm
    x = np.cross(z, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(x) < 1e-9:
        raise ValueError(f"look_at: up {list(up)} is parallel to the viewing direction")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return make_transform(np.stack([x, y, z], axis=1), eye)


def kabsch_umeyama(
    src: Array, dst: Array, weights: Array | None = None, with_scale: bool = False
) -> tuple[Array, Array, Array]:
    """Best-fit similarity ``dst ~ s * R @ src + t`` (Umeyama 1991), batched, torch or numpy.

    Args:
        src, dst: (..., N, 3) corresponding points.
        weights: optional (..., N) non-negative weights.
        with_scale: also estimate the scale s (otherwise s = 1, i.e. Kabsch).
    Returns:
        (R (..., 3, 3), t (..., 3), s (...)) with det(R) = +1.
    """
    torch_in = _is_torch(src)
    import torch

    s_t = src if torch_in else torch.as_tensor(np.asarray(src, dtype=np.float64))
    d_t = dst if torch_in else torch.as_tensor(np.asarray(dst, dtype=np.float64))
    if weights is None:
        w = torch.ones(s_t.shape[:-1], dtype=s_t.dtype, device=s_t.device)
    else:
        w = weights if torch_in else torch.as_tensor(np.asarray(weights, dtype=np.float64))
    w = w / w.sum(-1, keepdim=True).clamp_min(1e-12)
    mu_s = (w[..., None] * s_t).sum(-2)
    mu_d = (w[..., None] * d_t).sum(-2)
    xs = s_t - mu_s[..., None, :]
    xd = d_t - mu_d[..., None, :]
    cov = (w[..., None, None] * xd[..., :, None] * xs[..., None, :]).sum(-3)  # (..., 3, 3)
    u, sig, vh = torch.linalg.svd(cov)
    det = torch.det(u @ vh)
    fix = torch.ones_like(sig)
    fix[..., 2] = torch.sign(det) + (det == 0).to(det.dtype)
    r = u @ torch.diag_embed(fix) @ vh
    if with_scale:
        var_s = (w * (xs * xs).sum(-1)).sum(-1).clamp_min(1e-12)
        s = (sig * fix).sum(-1) / var_s
    else:
        s = torch.ones(r.shape[:-2], dtype=r.dtype, device=r.device)
    t = mu_d - s[..., None] * (r @ mu_s[..., None])[..., 0]
    if torch_in:
        return r, t, s
    return r.numpy(), t.numpy(), s.numpy()
