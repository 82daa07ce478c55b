"""Multi-push robustness pieces of the tracker: adaptive budget, pusher contact, cloud."""

import numpy as np
import pytest
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
    fixed = TrackerConfig(iterations=7, adaptive=False)  # the fixed budget of the legacy tracker
    assert GaussianTracker(tr.rig, fixed).budget(1.0, True) == 7
    assert GaussianTracker(tr.rig, fixed).budget(0.0, False) == 7


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


def _square_tracker(**overrides):
    """A tracker on the test rig whose Gaussians sit on a 4 x 4 grid at z = 0.1 m, with a
    previous frame 5 mm to the -x side (i.e. last frame's velocity is +5 mm in x)."""
    from gs_render import Gaussians
    from gs_tracking.regularizers import NeighbourGraph

    intr, pose = _rig()
    cfg = TrackerConfig(lr_means=1e-9, lr_quats=1e-9, **overrides)
    tr = GaussianTracker(RigTensors.from_rig(intr, pose), cfg)
    xy = torch.stack(
        torch.meshgrid(
            torch.linspace(-0.02, 0.02, 4), torch.linspace(-0.02, 0.02, 4), indexing="ij"
        ),
        -1,
    ).reshape(-1, 2)
    means = torch.cat([xy, torch.full((16, 1), 0.1)], 1)
    quats = torch.tensor([[1.0, 0.0, 0.0, 0.0]]).repeat(16, 1)
    tr.gaussians = Gaussians(
        means, quats, torch.full((16, 3), 0.005), torch.full((16,), 0.9), torch.full((16, 3), 0.5)
    )
    tr.graph = NeighbourGraph.build(means, cfg.knn, cfg.lambda_w)
    tr._prev = (means - torch.tensor([0.005, 0.0, 0.0]), quats)
    return tr, means


def test_velocity_is_not_extrapolated_while_the_silhouette_is_static():
    mask = np.zeros((30, 40), bool)
    mask[10:20, 10:20] = True
    for gate, expected_shift in ((0.01, 0.0), (0.0, 0.005)):
        tr, means = _square_tracker(velocity_gate=gate, adaptive=False, iterations=1)
        tr._prev_obs = _obs(mask)
        tr.track(_obs(mask))  # the same silhouette as the previous frame: static
        shift = (tr.gaussians.means - means)[:, 0]
        assert torch.allclose(shift, torch.full_like(shift, expected_shift), atol=1e-6), gate
    # a moving silhouette keeps the constant-velocity initialization
    tr, means = _square_tracker(velocity_gate=0.01, adaptive=False, iterations=1)
    tr._prev_obs = _obs(np.roll(mask, -3, axis=1))
    tr.track(_obs(mask))
    shift = (tr.gaussians.means - means)[:, 0]
    assert torch.allclose(shift, torch.full_like(shift, 0.005), atol=1e-6)


def test_forget_motion_drops_the_constant_velocity_start():
    mask = np.zeros((30, 40), bool)
    mask[10:20, 10:20] = True
    tr, means = _square_tracker(adaptive=False, iterations=1)
    tr._prev_obs = _obs(np.roll(mask, -3, axis=1))  # moving: velocity would be used
    tr.forget_motion()  # ... but the frames in between were skipped
    tr.track(_obs(mask))
    shift = (tr.gaussians.means - means)[:, 0]
    assert torch.allclose(shift, torch.zeros_like(shift), atol=1e-6)


class _Pushes:
    """The part of an Episode that frame selection reads: 40 frames, pusher low in 10-14
    and 30-31."""

    path = "fake.mcap"
    num_frames = 40

    def __init__(self):
        self.ee_positions = np.zeros((40, 3))
        self.ee_positions[:, 2] = 0.1
        self.ee_positions[10:15, 2] = 0.005
        self.ee_positions[30:32, 2] = 0.005


def test_frame_selection_tracks_the_pushes_and_their_margins():
    from gs_tracking.tracked_io import frame_selection

    ep = _Pushes()
    assert frame_selection("pushes:2:3", ep) == [0, *range(8, 18), *range(28, 35)]
    assert frame_selection("pushes", ep) == [0, *range(7, 40)]  # 3 before, 12 after
    assert frame_selection("2:8:3", ep) == [2, 5]
    assert frame_selection("", ep) == list(range(40))
    for bad in ("pushes:1", "pushes:a:b", "pushes:-1:2"):
        with pytest.raises(ValueError, match="pushes"):
            frame_selection(bad, ep)
    ep.ee_positions[:, 2] = 0.1  # no push at all
    with pytest.raises(ValueError, match="no push"):
        frame_selection("pushes", ep)
