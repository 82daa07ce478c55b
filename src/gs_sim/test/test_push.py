import math

import numpy as np
import pytest

from gs_sim.push import PushLimits, PushRejected, push_trajectory, validate_push
from gs_sim.scene import Workspace

WS = Workspace()


def test_valid_push_defaults():
    g = validate_push((0.0, 0.0), (0.1, 0.0), 0.0, -1.0, WS)
    assert g.height == PushLimits().default_height and g.speed == PushLimits().default_speed
    assert g.length == pytest.approx(0.1) and g.theta == pytest.approx(0.0)


@pytest.mark.parametrize(
    "args, words",
    [
        (((math.nan, 0.0), (0.1, 0.0), 0.01, 0.05), "start.x = nan is not finite"),
        (((0.0, 0.0), (0.1, math.inf), 0.01, 0.05), "end.y = inf is not finite"),
        (((0.9, 0.0), (0.1, 0.0), 0.01, 0.05), "start = (0.900, 0.000) m is outside the workspace"),
        (((0.0, 0.0), (0.0, -0.6), 0.01, 0.05), "end = (0.000, -0.600) m is outside"),
        (((0.0, 0.0), (0.001, 0.0), 0.01, 0.05), "push length"),
        (((0.0, 0.0), (0.1, 0.0), 0.5, 0.05), "height = 0.500 m is above"),
        (((0.0, 0.0), (0.1, 0.0), 0.01, 5.0), "speed = 5.000 m/s exceeds"),
    ],
)
def test_rejections_name_the_value(args, words):
    with pytest.raises(PushRejected, match=words.replace("(", r"\(").replace(")", r"\)")):
        validate_push(*args, WS)


def test_trajectory_passes_through_push():
    g = validate_push((-0.1, 0.0), (0.05, 0.0), 0.01, 0.05, WS)
    traj = push_trajectory(g, np.array([-0.2, 0.0, 0.25]), np.array([-0.2, 0.0, 0.25]))
    assert traj.push_end - traj.push_start == pytest.approx(0.15 / 0.05)
    np.testing.assert_allclose(traj.at(traj.push_start), [-0.1, 0.0, 0.01], atol=1e-9)
    np.testing.assert_allclose(traj.at(traj.push_end), [0.05, 0.0, 0.01], atol=1e-9)
    assert traj.push_progress(traj.push_start) == 0.0
    assert traj.push_progress(traj.duration) == 1.0
    np.testing.assert_allclose(traj.at(traj.duration), [-0.2, 0.0, 0.25])
