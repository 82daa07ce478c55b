import numpy as np
import pytest

from gs_segmentation.synthetic import OBJECT_RGB, ROBOT_RGB, render, rig


@pytest.fixture
def scene():
    """(views, truths) of an object sphere and a robot sphere touching it, 4 cameras."""
    spheres = [
        (np.array([0.0, 0.0, 0.03]), 0.03, OBJECT_RGB, False),
        (np.array([0.06, 0.0, 0.03]), 0.02, ROBOT_RGB, True),
    ]
    return render(rig(), spheres)
