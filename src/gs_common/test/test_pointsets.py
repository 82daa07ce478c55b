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


def test_curve_chamfer_is_free_of_the_sampling_phase():
    from gs_common.pointsets import chamfer_distance, curve_chamfer

    n, spacing = 30, 0.0155  # the simulated rope's vertices
    line = np.stack([np.arange(n) * spacing, np.zeros(n), np.full(n, 0.008)], 1)
    for slide in (0.002, 0.005, 0.00775):
        slid = line + [slide, 0.0, 0.0]
        on_points = float(chamfer_distance(slid, line))
        assert on_points == pytest.approx(2 * min(slide, spacing - slide), abs=1e-3)
        assert curve_chamfer(slid, line) < 1e-3, slide  # the same line: (almost) no error
    # order does not matter; a real offset is measured in full (both directions)
    shuffled = line[np.random.default_rng(0).permutation(n)]
    assert curve_chamfer(shuffled, line) < 1e-9
    assert curve_chamfer(line + [0.0, 0.01, 0.0], line) == pytest.approx(0.02, abs=1e-3)


def test_curve_points_fill_the_curve_but_not_gaps_across_it():
    from gs_common.pointsets import curve_points

    # a U: two arms 6 cm apart joined at the bottom, samples 1.5 cm apart
    t = np.linspace(0.0, np.pi, 13)
    arc = np.stack([0.03 * np.cos(t), -0.03 * np.sin(t), np.zeros_like(t)], 1)
    arm = np.arange(1, 6)[:, None] * [0.0, 0.015, 0.0]
    u = np.concatenate([arc, arc[0] + arm, arc[-1] + arm])
    dense = curve_points(u, 0.002)
    assert len(dense) > 5 * len(u)
    # nothing is filled in between the arms (x = 0 is 3 cm from both)
    between = dense[(dense[:, 1] > 0.01) & (np.abs(dense[:, 0]) < 0.02)]
    assert len(between) == 0
    with pytest.raises(ValueError, match="step must be > 0, got 0"):
        curve_points(u, 0.0)


def test_a_huge_cloud_is_sampled_without_a_dense_distance_matrix():
    """A 200 000-point target cloud (the fault-injection test's) once needed an
    N x N x 3 matrix (894 GiB) in the min-spacing check of the FPS."""
    from scipy.spatial import cKDTree

    from gs_common.pointsets import centreline_samples, curve_chamfer, voxel_means

    rng = np.random.default_rng(0)
    many = rng.uniform([-0.2, -0.2, 0.0], [0.2, 0.2, 0.01], (200_000, 3))
    idx = farthest_point_sampling(many, len(many), min_spacing=0.02)
    gaps, _ = cKDTree(many[idx]).query(many[idx], k=2)
    assert 100 < len(idx) < 2000 and gaps[:, 1].min() >= 0.02
    centre = centreline_samples(many, 0.015, 0.015, 3)
    assert 100 < len(centre) < 5000 and np.isfinite(centre).all()
    line = np.stack([np.linspace(-0.2, 0.2, 30), np.zeros(30), np.full(30, 0.005)], 1)
    assert 0.05 < curve_chamfer(centre, line) < 0.2  # a square is far from a line
    # voxel means: one point per occupied cube, at the mean of its points
    pts = np.array([[0.001, 0.001, 0.0], [0.003, 0.001, 0.0], [0.011, 0.0, 0.0]])
    np.testing.assert_allclose(
        sorted(voxel_means(pts, 0.005).tolist()), [[0.002, 0.001, 0.0], [0.011, 0.0, 0.0]]
    )
