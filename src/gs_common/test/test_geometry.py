import numpy as np
import pytest
import torch

from gs_common.geometry import (
    invert_transform,
    kabsch_umeyama,
    look_at,
    matrix_to_quat,
    quat_from_axis_angle,
    quat_multiply,
    quat_to_matrix,
    transform_points,
)


def random_quats(n, seed=0):
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def test_quat_matrix_round_trip_numpy_and_torch():
    q = random_quats(200)
    m = quat_to_matrix(q)
    assert np.allclose(m @ np.swapaxes(m, 1, 2), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(m), 1.0)
    q2 = matrix_to_quat(m)
    q_pos = np.where(q[:, :1] < 0, -q, q)
    assert np.allclose(q2, q_pos, atol=1e-9)
    mt = quat_to_matrix(torch.as_tensor(q))
    assert isinstance(mt, torch.Tensor)
    assert np.allclose(mt.numpy(), m)


def test_quat_axis_angle_and_product_compose_like_matrices():
    a = quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), np.pi / 2)
    assert np.allclose(quat_to_matrix(a) @ [1.0, 0, 0], [0, 1.0, 0], atol=1e-12)
    q1, q2 = random_quats(10, 1), random_quats(10, 2)
    assert np.allclose(
        quat_to_matrix(quat_multiply(q1, q2)), quat_to_matrix(q1) @ quat_to_matrix(q2), atol=1e-9
    )


def test_look_at_points_optical_axis_at_target():
    t = look_at([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    cam_from_world = invert_transform(t)
    p = transform_points(cam_from_world, np.zeros((1, 3)))
    assert p[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert p[0, 1] == pytest.approx(0.0, abs=1e-12)
    assert p[0, 2] == pytest.approx(np.sqrt(3.0))
    # world up appears upward in the image (negative image y)
    up = transform_points(cam_from_world, np.array([[0.0, 0.0, 0.5]]))
    assert up[0, 1] < 0
    with pytest.raises(ValueError, match="coincides"):
        look_at([0, 0, 0], [0, 0, 0])


def test_kabsch_umeyama_recovers_batched_similarity():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(4, 50, 3))
    r = quat_to_matrix(random_quats(4, 4))
    t = rng.normal(size=(4, 3))
    dst = 1.7 * np.einsum("bij,bnj->bni", r, src) + t[:, None]
    r_est, t_est, s_est = kabsch_umeyama(src, dst, with_scale=True)
    assert np.allclose(r_est, r, atol=1e-8)
    assert np.allclose(t_est, t, atol=1e-8)
    assert np.allclose(s_est, 1.7)
    # torch path keeps autograd
    src_t = torch.tensor(src[0], requires_grad=True)
    r_t, _, _ = kabsch_umeyama(src_t, torch.as_tensor(dst[0]))
    r_t.sum().backward()
    assert src_t.grad is not None and torch.isfinite(src_t.grad).all()


def test_kabsch_never_returns_reflection():
    rng = np.random.default_rng(5)
    src = rng.normal(size=(30, 3))
    dst = src * np.array([1.0, 1.0, -1.0])  # a mirror image
    r, _, _ = kabsch_umeyama(src, dst)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_resolve_device():
    from gs_common.device import resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
