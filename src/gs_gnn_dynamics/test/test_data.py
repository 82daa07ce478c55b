import numpy as np
import pytest

from gs_common.episode import load_trajectories, save_trajectories
from gs_common.push import push_runs
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.data import (
    episode_files,
    load_segments,
    make_windows,
    resample_by_travel,
    rotate_z,
)
from gs_gnn_dynamics.synthetic import synthetic_push


def test_push_runs_and_resampling_by_travel():
    ee = np.array(
        [
            [0, 0, 0.1],
            [0, 0, 0.005],
            [0.004, 0, 0.005],
            [0.012, 0, 0.005],
            [0.025, 0, 0.005],
            [0.025, 0, 0.1],
        ],
        np.float32,
    )
    assert push_runs(ee, 0.02) == [(1, 4)]
    pts = ee[:, None, :].repeat(2, 1)  # points that follow the pusher
    p, e = resample_by_travel(pts[1:5], ee[1:5], 0.01)
    assert len(e) == 3  # 0, 1, 2 cm of travel
    np.testing.assert_allclose(e[:, 0], [0.0, 0.01, 0.02], atol=1e-6)
    np.testing.assert_allclose(p[:, 0, 0], e[:, 0], atol=1e-6)


def test_one_loader_for_npz_and_windows(tmp_path):
    cfg = DynamicsConfig()
    for i in range(2):
        save_trajectories(tmp_path / f"ep{i}.npz", synthetic_push(i))
    files = episode_files(tmp_path)
    assert [f.name for f in files] == ["ep0.npz", "ep1.npz"]
    assert load_trajectories(files[0]).source == "synthetic"
    segs = load_segments(files, cfg)
    assert len(segs) == 2
    steps = np.linalg.norm(np.diff(segs[0].tool[:, :2], axis=0), axis=1)
    np.testing.assert_allclose(steps, 0.01, atol=1e-5)
    assert 8 <= segs[0].points.shape[1] <= 14  # 0.4 m rope, >= 3 cm spacing
    w = make_windows(segs, cfg.history, cfg.horizon)
    k = cfg.history
    assert w.frames.shape[1] == k + cfg.horizon + 1
    # history before the push start repeats the start state
    np.testing.assert_array_equal(w.frames[0, 0].numpy(), w.frames[0, k].numpy())
    with pytest.raises(ValueError, match="no push segment"):
        make_windows(segs, k, 1000)


def test_rotate_z_keeps_shape_and_distances():
    import torch

    f = torch.rand(3, 4, 5, 3)
    t = torch.rand(3, 4, 3)
    rf, rt = rotate_z(f, t, torch.tensor([0.3, 1.0, 2.0]))
    np.testing.assert_allclose(
        torch.cdist(rf[0, 0], rf[0, 0]), torch.cdist(f[0, 0], f[0, 0]), atol=1e-5
    )
    np.testing.assert_allclose(rf[..., 2], f[..., 2], atol=1e-6)
    np.testing.assert_allclose(
        (rf[:, :, 0] - rt).norm(dim=-1), (f[:, :, 0] - t).norm(dim=-1), atol=1e-5
    )
