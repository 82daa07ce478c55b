"""Multi-push robustness pieces of the tracker: adaptive budget, pusher contact, cloud."""

import numpy as np
import torch

from gs_common.camera import CameraIntrinsics
from gs_tracking.observation import Observation, RigTensors
from gs_tracking.tracker import GaussianTracker, TrackerConfig


def _rig():
    intr = CameraIntrinsics(40, 30, 50.0, 50.0, 19.5, 14.5)
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])  # looking straight down
    pose[2, 3] = 0.5
    return [intr], pose[None]


def _obs(mask, depth=0.5, robot=None):
    return Observation.from_arrays(
        [np.full((30, 40, 3), 128, np.uint8)],
        [mask],
        None if robot is None else [robot],
        [np.where(mask, depth, 0.0).astype(np.float32)],
    )


def test_budget_follows_the_observed_motion_and_the_pusher():
    intr, pose = _rig()
    cfg = TrackerConfig(adaptive=True, static_iterations=2, max_iterations=20, iterations=10)
    tr = GaussianTracker(RigTensors.from_rig(intr, pose), cfg)
    mask = np.zeros((30, 40), bool)
    mask[10:20, 10:20] = True
    tr._prev_obs = _obs(mask)
    assert tr.motion(_obs(mask)) == 0.0
    moved = np.roll(mask, 3, axis=1)
    assert 0.5 < tr.motion(_obs(moved)) <= 0.7  # 60 of 100 object pixels changed
    assert tr.budget(0.0, pusher_near=False) == 2
    assert tr.budget(0.0, pusher_near=True) == 10
    assert tr.budget(1.0, pusher_near=False) == 20
    assert TrackerConfig(iterations=7).iterations == GaussianTracker(
        tr.rig, TrackerConfig(iterations=7)
    ).budget(1.0, True)


def test_pusher_pushes_gaussians_out_of_its_cylinder():
    intr, pose = _rig()
    tr = GaussianTracker(RigTensors.from_rig(intr, pose), TrackerConfig(pusher_radius=0.01))
    means = torch.tensor([[0.005, 0.0, 0.01], [0.05, 0.0, 0.01], [0.0, 0.004, 0.2]])
    tip = torch.tensor([0.0, 0.0, 0.005])
    pen = tr._penetration(means, tip)
    assert pen[0] > 0 and pen[1] == 0 and pen[2] == 0  # outside radius / above the cylinder
    out = tr._push_out(means, tip)
    r = (out[0, :2] - tip[:2]).norm()
    assert torch.isclose(r, torch.tensor(0.01 + tr.config.pusher_margin), atol=1e-6)
    assert torch.equal(out[1:], means[1:])
    assert tr._pusher_near(means, tip) and not tr._pusher_near(means + 1.0, tip)
    overhead = torch.tensor([0.0, 0.0, 0.15])  # transit above the object: not in contact
    assert not tr._pusher_near(means[:2], overhead)


def test_observed_cloud_back_projects_object_pixels_to_the_world():
    intr, pose = _rig()
    tr = GaussianTracker(RigTensors.from_rig(intr, pose), TrackerConfig(cloud_points=50))
    mask = np.zeros((30, 40), bool)
    mask[10:20, 10:20] = True
    robot = np.zeros((30, 40), bool)
    robot[10:20, 10:12] = True  # robot pixels never enter the cloud
    cloud = tr.observed_cloud(_obs(mask, depth=0.4, robot=robot))
    assert cloud.shape == (50, 3)
    assert torch.allclose(cloud[:, 2], torch.full((50,), 0.1), atol=1e-5)  # 0.5 - 0.4 m
    # x = (u - cx) / fx * z for object columns u = 12..19 (10, 11 are robot pixels)
    assert float(cloud[:, 0].min()) >= (12 - 19.5) / 50 * 0.4 - 1e-6
    assert float(cloud[:, 0].max()) <= (19 - 19.5) / 50 * 0.4 + 1e-6
    assert float(cloud[:, 1].abs().max()) <= 5.5 / 50 * 0.4 + 1e-6
