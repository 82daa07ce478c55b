import numpy as np
import pytest

from gs_segmentation.colour_model import ColourModel, to_lab
from gs_segmentation.consistency import consistent_masks
from gs_segmentation.geometric import GeometricConfig, GeometricSegmenter
from gs_segmentation.metrics import boundary_f, mask_iou
from gs_segmentation.pipeline import ObjectPerception, make_backend
from gs_segmentation.plane import TablePlane
from gs_segmentation.synthetic import OBJECT_RGB, ROBOT_RGB, render, rig
from gs_segmentation.views import RGBDView


def test_metrics_on_known_masks():
    a = np.zeros((20, 20), bool)
    a[5:15, 5:15] = True
    b = np.zeros_like(a)
    b[5:15, 10:20] = True
    assert mask_iou(a, a) == 1.0 and boundary_f(a, a) == 1.0
    assert mask_iou(a, b) == pytest.approx(50 / 150)
    assert mask_iou(a, np.zeros_like(a)) == 0.0 and boundary_f(a, np.zeros_like(a)) == 0.0
    far = np.zeros((200, 200), bool)
    far[150:160, 150:160] = True
    near = np.zeros_like(far)
    near[10:20, 10:20] = True
    assert boundary_f(near, far) == 0.0  # boundaries 190 px apart


def test_plane_refinement_accepts_small_offsets_and_rejects_large_ones():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-0.3, 0.3, (5000, 2))
    pts = np.c_[xy, 0.004 + 0.01 * xy[:, 0] + rng.normal(0, 3e-4, len(xy))]
    plane, msg = TablePlane.from_calibration().refined(pts)
    assert plane.source == "ransac", msg
    assert np.abs(plane.height(pts)).mean() < 1e-3
    far = np.c_[xy, np.full(len(xy), 0.015)]
    plane2, msg2 = TablePlane.from_calibration().refined(far, band=0.02)
    assert plane2.source == "calibration" and "rejected" in msg2


def test_colour_model_separates_object_from_robot_colour():
    rng = np.random.default_rng(1)
    shade = rng.uniform(0.7, 1.0, (500, 1))
    obj = to_lab((np.array(OBJECT_RGB) * shade).astype(np.uint8))
    model = ColourModel()
    assert model.update(obj)
    gate = model.gate(1.3)
    assert np.percentile(model.distance(obj), 99) < gate
    robot = to_lab(np.array([ROBOT_RGB] * 10, np.uint8))
    assert (model.distance(robot) > gate).all()


def test_object_is_segmented_and_robot_excluded(scene):
    views, truths = scene
    seg = GeometricSegmenter()
    res = seg.segment(views)
    for m, t, v in zip(res.masks, truths, views):
        assert mask_iou(m, t) > 0.9
        assert not (m & v.robot_mask).any()
        assert boundary_f(m, t) > 0.9
    assert seg.colour.ready
    for o, v in zip(res.occluders, views):
        assert (o & v.robot_mask).sum() >= 0.8 * v.robot_mask.sum()


def test_without_robot_masks_colour_and_boundary_rules_remove_the_robot():
    cams = rig()
    obj = (np.array([0.0, 0.0, 0.03]), 0.03, OBJECT_RGB, False)
    robot = (np.array([0.10, 0.0, 0.05]), 0.03, ROBOT_RGB, True)
    tall = (np.array([-0.10, 0.05, 0.19]), 0.04, ROBOT_RGB, True)  # reaches the volume's top
    seg = GeometricSegmenter()
    views, truths = render(cams, [obj])
    seg.segment(views)  # first frame: the object alone initializes the colour model
    views, truths = render(cams, [obj, robot, tall])
    views = [RGBDView(v.color, v.depth, v.intrinsics, v.world_from_camera, None) for v in views]
    res = seg.segment(views)
    for m, t in zip(res.masks, truths):
        assert mask_iou(m, t) > 0.9
    # with colour gating off, the robot sphere in the workspace stays (it is above the table)
    plain = GeometricSegmenter(GeometricConfig(colour_gate=0.0))
    res = plain.segment(views)
    assert np.mean([mask_iou(m, t) for m, t in zip(res.masks, truths)]) < 0.9


def test_multi_view_consistency_removes_a_blob_seen_by_one_view_only(scene):
    views, truths = scene
    p0 = views[0].world_points()
    blob = (
        ((p0[..., 0] > -0.14) & (p0[..., 0] < -0.05) & (p0[..., 1] > 0.04) & (p0[..., 1] < 0.14))
        & ~truths[0]
        & ~views[0].robot_mask
    )
    assert blob.sum() > 10
    bad = views[0].depth.copy()
    bad[blob] *= 0.9  # these table pixels of view 0 float ~5 cm above the table
    views[0] = RGBDView(views[0].color, bad, views[0].intrinsics, views[0].world_from_camera)
    cand = [t.copy() for t in truths]
    cand[0] |= blob
    out = consistent_masks(views, cand, [v.world_points() for v in views])
    assert not (out[0] & blob).any()  # the other views see the table through the blob
    assert (out[0] & truths[0]).sum() >= 0.95 * truths[0].sum()  # the object stays
    for o, t in zip(out[1:], truths[1:]):
        assert (o & t).sum() >= 0.95 * t.sum()


def test_perception_fuses_the_object_cloud_on_the_sphere(scene):
    views, _ = scene
    perception = ObjectPerception(make_backend("geometric"), voxel_size=0.003)
    res = perception.process(views)
    assert len(res.points) > 30
    r = np.linalg.norm(res.points - np.array([0.0, 0.0, 0.03]), axis=1)
    assert np.abs(r - 0.03).max() < 0.006
    assert res.colors.shape == res.points.shape


def test_bad_configuration_is_rejected_with_the_value():
    with pytest.raises(ValueError, match="workspace_min"):
        GeometricSegmenter(GeometricConfig(workspace_min=(0.5, -0.4, 0.0)))
    with pytest.raises(ValueError, match="not one of"):
        make_backend("magic")
