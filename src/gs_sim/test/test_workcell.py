"""Scene, IK, physics and rendering of the workcell (small images to stay fast)."""

import dataclasses

import numpy as np
import pytest

from gs_sim.camera_rig import RigLayout
from gs_sim.objects import S_TURN_DEG, U_TURN_DEG, default_params, sample_object
from gs_sim.push import PushRejected, validate_push
from gs_sim.rig_renderer import RigRenderer
from gs_sim.workcell import Workcell, WorkcellConfig

SMALL = RigLayout(width_px=80, height_px=60)


@pytest.fixture(scope="module")
def rope():
    return Workcell(WorkcellConfig(obj=default_params("rope"), rig=SMALL), seed=2)


@pytest.mark.parametrize("kind", ["rope", "cloth", "toy"])
def test_objects_rest_on_the_table(kind):
    wc = Workcell(WorkcellConfig(obj=default_params(kind), rig=SMALL, settle_time=0.2), seed=1)
    pts = wc.object_points()
    assert pts.dtype == np.float32 and pts.shape[1] == 3 and len(pts) > 8
    assert pts[:, 2].min() > -0.002 and pts[:, 2].min() < 0.02
    assert np.abs(pts[:, :2]).max() < 0.35


def test_seeded_randomization_is_deterministic():
    cfg = WorkcellConfig(obj=default_params("rope"), rig=SMALL, settle_time=0.05)
    a, b = Workcell(cfg, seed=5).object_points(), Workcell(cfg, seed=5).object_points()
    c = Workcell(cfg, seed=6).object_points()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_ik_reaches_workspace_corners_and_rejects_far_poses(rope):
    for x, y in [(-0.22, -0.25), (0.22, 0.25), (0.0, 0.0)]:
        res = rope.ik.solve([x, y, 0.005])
        assert res.ok, (x, y, res)
        pos, rot = rope.ik.forward(res.qpos)
        np.testing.assert_allclose(pos, [x, y, 0.005], atol=2e-3)
        assert rot[2, 2] < -0.999  # tool axis points down
    assert not rope.ik.solve([0.6, 0.0, 0.005]).ok


def test_unreachable_push_is_rejected():
    cfg = WorkcellConfig(
        obj=default_params("rope"),
        rig=SMALL,
        settle_time=0.05,
        workspace=dataclasses.replace(WorkcellConfig().workspace, x_max=0.6),
    )
    wc = Workcell(cfg, seed=0)
    goal = validate_push((0.3, 0.0), (0.55, 0.0), 0.0, 0.0, cfg.workspace, cfg.limits)
    with pytest.raises(PushRejected, match="unreachable"):
        wc.start_push(goal)
    assert not wc.busy


def test_push_moves_the_rope_and_the_tip_follows_the_line(rope):
    before = rope.object_points()
    c = before.mean(axis=0)
    goal = validate_push(
        (c[0] - 0.1, c[1]),
        (c[0] + 0.06, c[1]),
        0.0,
        0.15,
        rope.config.workspace,
        rope.config.limits,
    )
    traj = rope.start_push(goal)
    tips = []
    while rope.busy:
        rope.step_frame()
        if 0.1 < rope.push_progress() < 0.9:
            tips.append(rope.tip_pose()[0])
    tips = np.array(tips)
    assert len(tips) > 3
    np.testing.assert_allclose(tips[:, 1], c[1], atol=3e-3)
    np.testing.assert_allclose(tips[:, 2], goal.height, atol=3e-3)
    assert rope.time == pytest.approx(np.ceil(traj.duration * 15 - 1e-6) / 15, abs=0.07)
    moved = np.linalg.norm(rope.object_points() - before, axis=1)
    assert moved.max() > 0.02
    np.testing.assert_allclose(rope.tip_pose()[0], rope.rest_tip, atol=3e-3)


def test_render_depth_and_masks(rope):
    r = RigRenderer(
        rope.model, rope.scene.camera_ids, 80, 60, rope.scene.flex_id, rope.scene.robot_geom_ids
    )
    try:
        frames = r.render_all(rope.data, masks=True)
    finally:
        r.close()
    assert len(frames) == 4
    for cam, fr in zip(rope.cameras, frames):
        assert fr.rgb.shape == (60, 80, 3) and fr.rgb.dtype == np.uint8
        assert fr.depth.shape == (60, 80) and fr.depth.dtype == np.float32
        assert fr.object_mask.any()
        assert not (fr.object_mask & fr.robot_mask).any()
        # the centre pixel looks at the table centre: depth = distance along the optical axis
        expected = np.linalg.norm(cam.world_from_camera[:3, 3])
        center = fr.depth[29:31, 39:41]
        if not fr.object_mask[29:31, 39:41].any() and not fr.robot_mask[29:31, 39:41].any():
            assert np.abs(center - expected).max() < 0.01
        # object pixels are closer than the table behind them would be
        assert fr.depth[fr.object_mask].min() > 0.2


def _headings_deg(points):
    d = np.diff(np.asarray(points)[:, :2], axis=0)
    return np.degrees(np.unwrap(np.arctan2(d[:, 1], d[:, 0])))


@pytest.mark.parametrize("seed", [0, 5])
def test_bent_rope_shapes_turn_as_named_and_keep_their_length(seed):
    params = default_params("rope")
    u = sample_object(params, np.random.default_rng(seed), rope_shape="u").points
    s = sample_object(params, np.random.default_rng(seed), rope_shape="s").points
    for pts in (u, s):
        seg = np.linalg.norm(np.diff(pts[:, :2], axis=0), axis=1)
        assert seg.sum() == pytest.approx(params.size, rel=1e-6)
    hu, hs = np.diff(_headings_deg(u)), np.diff(_headings_deg(s))
    # U: one arc, always turning the same way, 150 deg in all
    assert (hu > 0).all() and hu.sum() == pytest.approx(U_TURN_DEG * 28 / 29, abs=1.0)
    # S: turns one way, then back (one inflection), 120 deg each
    assert (hs[: len(hs) // 2 - 1] > 0).all() and (hs[len(hs) // 2 + 1 :] < 0).all()
    assert np.ptp(_headings_deg(s)) == pytest.approx(S_TURN_DEG, abs=8.0)
    # the seed still places and turns the rope
    u2 = sample_object(params, np.random.default_rng(seed + 1), rope_shape="u").points
    assert not np.allclose(u, u2)
    with pytest.raises(ValueError, match="rope_shape 'w'"):
        sample_object(params, np.random.default_rng(seed), rope_shape="w")
