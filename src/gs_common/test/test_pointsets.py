import numpy as np
import pytest
import torch

from gs_common.pointsets import (
    _fps_torch,
    chamfer_distance,
    earth_movers_distance,
    farthest_point_sampling,
    knn,
)


def test_fps_matches_torch_fallback_and_spacing():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.2, 0.2, (300, 3)).astype(np.float32)
    idx = farthest_point_sampling(pts, 20, start_idx=5)
    assert idx[0] == 5 and len(set(idx.tolist())) == 20
    np.testing.assert_array_equal(idx, _fps_torch(pts, 20, 5))
    spaced = farthest_point_sampling(pts, 300, min_spacing=0.05)
    d = np.linalg.norm(pts[spaced][:, None] - pts[spaced][None], axis=-1)
    assert d[~np.eye(len(spaced), dtype=bool)].min() >= 0.05
    assert 10 < len(spaced) < 300
    line = np.stack([np.linspace(0, 0.45, 30), np.zeros(30), np.zeros(30)], 1)
    assert len(farthest_point_sampling(line, 100, min_spacing=0.03)) in range(14, 18)


def test_fps_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        farthest_point_sampling(np.zeros((0, 3)), 4)
    with pytest.raises(ValueError, match="non-finite"):
        farthest_point_sampling(np.full((4, 3), np.nan), 2)


def test_knn_batched():
    rng = np.random.default_rng(1)
    q = torch.as_tensor(rng.normal(size=(2, 7, 3)))
    r = torch.as_tensor(rng.normal(size=(2, 9, 3)))
    dist, idx = knn(q, r, 3)
    assert dist.shape == idx.shape == (2, 7, 3)
    brute = np.linalg.norm(q.numpy()[:, :, None] - r.numpy()[:, None], axis=-1)
    np.testing.assert_allclose(dist.numpy(), np.sort(brute, -1)[..., :3], atol=1e-12)


def test_chamfer_and_emd():
    a = np.array([[0.0, 0, 0], [1, 0, 0]])
    b = a + np.array([0, 0.1, 0])
    assert chamfer_distance(a, b) == pytest.approx(0.2)
    assert chamfer_distance(a, a) == pytest.approx(0.0)
    batched = chamfer_distance(torch.as_tensor(np.stack([a, a])), torch.as_tensor(np.stack([a, b])))
    np.testing.assert_allclose(batched.numpy(), [0.0, 0.2])
    # EMD sees a permutation-invariant but one-to-one matching; Chamfer can collapse
    c = np.array([[0.0, 0, 0], [0.0, 0, 0]])
    assert earth_movers_distance(a, a[::-1]) == pytest.approx(0.0)
    assert earth_movers_distance(a, c) == pytest.approx(0.5)
    assert chamfer_distance(a, c) == pytest.approx(0.5 + 0.0)
