"""gs_render.Gaussians: the one container, explicit (N, 14) column conversion."""

import numpy as np
import pytest
import torch

from gs_common.pointcloud import GAUSSIAN_FIELDS
from gs_render.gaussians import COLUMNS, NUM_COLUMNS, Gaussians
from gs_render.scenes import rope_scene


def test_columns_follow_the_message_layout_and_round_trip():
    g = rope_scene(20)
    g.quats = g.quats * 3.0  # not normalized: columns carry unit quaternions
    cols = g.to_columns()
    assert cols.shape == (20, NUM_COLUMNS) == (20, len(GAUSSIAN_FIELDS))
    assert cols.dtype == np.float32
    assert GAUSSIAN_FIELDS[COLUMNS["opacities"].start] == "opacity"
    assert [GAUSSIAN_FIELDS[i] for i in range(3, 7)] == ["qw", "qx", "qy", "qz"]
    assert np.allclose(cols[:, 0:3], g.means.numpy())
    assert np.allclose(np.linalg.norm(cols[:, 3:7], axis=1), 1.0, atol=1e-6)
    back = Gaussians.from_columns(cols)
    assert back.opacities.shape == (20,) and back.colors.shape == (20, 3)
    assert np.allclose(back.to_columns(), cols, atol=1e-7)
    assert torch.equal(back["scales"], back.scales)
    assert len(back.subset(back.opacities > 2.0)) == 0


def test_bad_columns_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match=r"\(N, 14\)"):
        Gaussians.from_columns(np.zeros((5, 13), np.float32))
    bad = np.zeros((5, 14), np.float32)
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="1 non-finite"):
        Gaussians.from_columns(bad)
    with pytest.raises(KeyError, match="no Gaussian attribute 'mean'"):
        rope_scene(3)["mean"]
