import numpy as np
import torch

from gs_common.geometry import quat_from_axis_angle, quat_to_matrix
from gs_tracking.anchors import Anchors
from gs_tracking.particles import extract_particles, motion_outliers, smooth_tracks


def test_anchors_follow_a_rigid_motion_exactly():
    rng = np.random.default_rng(0)
    means0 = torch.as_tensor(rng.uniform(-0.1, 0.1, (50, 3)), dtype=torch.float32)
    quats0 = torch.tensor([1.0, 0, 0, 0]).expand(50, 4).contiguous()
    queries = means0[:10] + 0.003
    a = Anchors.attach(queries, means0, quats0)
    q = quat_from_axis_angle(torch.tensor([0.0, 0.0, 1.0]), torch.tensor(0.7))
    r, t = quat_to_matrix(q), torch.tensor([0.05, 0.02, 0.0])
    moved = a.positions(means0 @ r.T + t, q.expand(50, 4))
    assert torch.allclose(moved, queries @ r.T + t, atol=1e-5)


def test_outlier_removal_and_smoothing():
    rng = np.random.default_rng(1)
    base = rng.uniform(-0.1, 0.1, (40, 3))
    tracks = np.stack([base + [0.002 * t, 0, 0] for t in range(10)])
    tracks[5, 7] += [0.0, 0.03, 0.0]  # one particle jumps away for one frame
    bad = motion_outliers(tracks)
    assert bad[7] and bad.sum() == 1
    smooth = smooth_tracks(tracks[:, ~bad], 3)
    assert np.allclose(smooth[1:-1], tracks[1:-1, ~bad], atol=1e-9)  # linear motion kept


def test_extract_particles_count_and_spacing():
    rng = np.random.default_rng(2)
    means = np.stack([rng.uniform(-0.1, 0.1, (300, 3))] * 4).astype(np.float32)
    quats = np.zeros((4, 300, 4), np.float32)
    quats[..., 0] = 1
    parts, removed = extract_particles(means, quats, num=50, min_spacing=0.01)
    assert parts.shape[0] == 4 and 10 < parts.shape[1] <= 50 and removed == 0
    d = np.linalg.norm(parts[0][:, None] - parts[0][None], axis=-1) + np.eye(parts.shape[1])
    assert d.min() >= 0.0099
