"""Push geometry, the workcell's single source and the generic settings table."""

import math

import numpy as np
import pytest
import torch

from gs_common.push import push_end, push_ends, push_steps, tool_paths
from gs_common.settings import Setting, defaults, resolve
from gs_common.workcell import WORKSPACE, outside_box


def test_push_geometry_single_and_batched_agree():
    push = (0.1, -0.05, math.pi / 2, 0.045)
    assert push_end(push) == pytest.approx((0.1, -0.005))
    assert push_steps(0.045, 0.01) == 5 and push_steps(0.04, 0.01) == 4
    assert push_steps(0.0, 0.01) == 1
    with pytest.raises(ValueError, match="inf"):
        push_steps(math.inf, 0.01)
    batch = torch.tensor([push, (0.0, 0.0, 0.0, 0.02)], dtype=torch.float64)
    paths = tool_paths(batch, 0.005, 0.01)  # padded to the longest push (5 steps)
    assert paths.shape == (2, 6, 3)
    np.testing.assert_allclose(paths[0, -1, :2].numpy(), push_end(push), atol=1e-12)
    np.testing.assert_allclose(paths[1, 2:, 0].numpy(), 0.02)  # padding: zero action
    np.testing.assert_allclose(push_ends(batch.numpy())[0], push_end(push), atol=1e-12)
    np.testing.assert_allclose(push_ends(batch)[0].numpy(), push_end(push), atol=1e-12)


def test_outside_box():
    assert outside_box(0.0, 0.0) == 0.0
    assert outside_box(WORKSPACE[1] + 0.1, 0.0) == pytest.approx(0.1)
    assert outside_box(WORKSPACE[1] + 0.1, 0.0, margin=0.02) == pytest.approx(0.08)


def test_settings_table():
    table = [
        Setting("n", 3, "", "count", range=(1, 5)),
        Setting("mode", "a", "", "mode", choices=("a", "b")),
        Setting("box", [0.0, 1.0], "m", "box", check=lambda v: None if v[0] < v[1] else "min>max"),
    ]
    assert defaults(table) == {"n": 3, "mode": "a", "box": [0.0, 1.0]}
    assert table[2].help == "box [m]"
    assert resolve(table, {"n": 5})["n"] == 5
    with pytest.raises(ValueError) as exc:
        resolve(table, {"n": 9, "mode": "c", "box": [1.0, 0.0], "x": 1})
    for text in ("unknown setting 'x'", "'n' = 9 is outside [1, 5]", "'mode' = 'c'", "min>max"):
        assert text in str(exc.value)
