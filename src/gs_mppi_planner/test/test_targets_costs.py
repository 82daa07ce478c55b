"""Targets, costs, bounds and the object-relative action space (no model needed)."""

import math

import numpy as np
import pytest
import torch

from gs_mppi_planner.costs import CostConfig, project_pushes, push_penalties, shape_cost
from gs_mppi_planner.problem import make_problem
from gs_mppi_planner.proposals import aim_pushes, heuristic_action, propose_actions
from gs_mppi_planner.targets import (
    InvalidTargetError,
    centreline_length,
    check_target,
    object_length,
    preset_target,
    principal_yaw,
    relocate,
    straight_line,
)

WS = (-0.22, 0.22, -0.25, 0.25)


def test_straight_line_and_length():
    line = straight_line(0.01, -0.02, math.pi / 4, 0.3, 0.008, 31)
    assert line.shape == (31, 3)
    assert object_length(line) == pytest.approx(0.3, abs=1e-5)
    assert line[:, :2].mean(0) == pytest.approx([0.01, -0.02], abs=1e-6)
    assert principal_yaw(line) % math.pi == pytest.approx(math.pi / 4, abs=1e-4)
    # an unordered, bent rope: MST longest path ~ arc length
    s = np.linspace(0, math.pi, 40)
    arc = np.stack([0.1 * np.cos(s), 0.1 * np.sin(s), np.zeros(40)], 1)
    assert object_length(arc[np.random.default_rng(0).permutation(40)]) == pytest.approx(
        0.1 * math.pi, rel=0.01
    )


def test_centreline_length_of_a_rope_seen_as_a_dense_cloud(curved_rope):
    """A segmented cloud is many points wide: the tree path over it zig-zags to about twice
    the rope's length; the centreline length stays within 5 % (also on the vertices)."""
    rng = np.random.default_rng(0)
    rope = curved_rope.astype(np.float64)
    true = object_length(rope)
    seg = np.diff(rope, axis=0)
    t = rng.uniform(0, 1, (len(seg), 60))
    centre = (rope[:-1, None] + seg[:, None] * t[..., None]).reshape(-1, 3)
    cloud = (
        centre + np.c_[rng.normal(0, 0.005, (len(centre), 2)), rng.uniform(0, 8e-3, len(centre))]
    )
    assert object_length(cloud) > 1.5 * true  # why the centreline is needed
    assert centreline_length(cloud) == pytest.approx(true, rel=0.05)
    assert centreline_length(rope) == pytest.approx(true, rel=0.05)
    assert centreline_length(rope[:1]) == 0.0


def test_presets(curved_rope):
    t = preset_target("straight_line", curved_rope, 0.0, 0.0, 0.0, 0.0, n=30)
    assert object_length(t) == pytest.approx(object_length(curved_rope), rel=0.03)
    assert np.allclose(t[:, 2], 0.008)
    moved = preset_target("translate", curved_rope, 0.05, -0.01)
    assert np.allclose(moved - curved_rope, [0.05, -0.01, 0.0], atol=1e-6)
    rot = preset_target("rotate", curved_rope, yaw=math.pi)
    assert np.allclose(rot[:, :2].mean(0), curved_rope[:, :2].mean(0), atol=1e-6)
    with pytest.raises(InvalidTargetError, match="zigzag"):
        preset_target("zigzag", curved_rope)
    with pytest.raises(InvalidTargetError, match="preset_yaw"):
        preset_target("rotate", curved_rope, yaw=float("inf"))


def test_relocate_preset_rotates_about_the_centroid_then_moves_it(curved_rope):
    p = curved_rope.astype(np.float64)
    t = preset_target("relocate", p, 0.04, -0.03, math.pi / 2).astype(np.float64)
    # the centroid moves by exactly (x, y); the shape is rigidly turned by yaw
    assert np.allclose(t.mean(0) - p.mean(0), [0.04, -0.03, 0.0], atol=1e-6)
    d0, d1 = p[:, :2] - p[:, :2].mean(0), t[:, :2] - t[:, :2].mean(0)
    assert np.allclose(d1, np.stack([-d0[:, 1], d0[:, 0]], 1), atol=1e-6)  # +90 deg about z
    assert np.allclose(t[:, 2], p[:, 2])
    assert np.allclose(t, relocate(p, 0.04, -0.03, math.pi / 2))
    assert np.allclose(
        preset_target("relocate", p, 0.0, 0.0, 0.3), preset_target("rotate", p, yaw=0.3)
    )
    assert np.allclose(
        preset_target("relocate", p, 0.02, 0.01), preset_target("translate", p, 0.02, 0.01)
    )
    for key, kw in (("preset_x", {"x": math.nan}), ("preset_yaw", {"yaw": math.inf})):
        with pytest.raises(InvalidTargetError, match=key):
            preset_target("relocate", p, **kw)


def test_check_target_messages(curved_rope):
    assert check_target(curved_rope, WS, 0.03).shape == (30, 3)
    with pytest.raises(InvalidTargetError, match="empty"):
        check_target(np.zeros((0, 3)), WS, 0.03)
    bad = curved_rope.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidTargetError, match=r"non-finite.*index 3"):
        check_target(bad, WS, 0.03)
    with pytest.raises(InvalidTargetError, match="frame_id = 'camera'"):
        check_target(curved_rope, WS, 0.03, "camera")
    with pytest.raises(InvalidTargetError, match="unreachable"):
        check_target(curved_rope + [0.3, 0, 0], WS, 0.03)


def test_project_pushes_stay_in_the_workspace():
    cfg = CostConfig()
    g = torch.Generator().manual_seed(0)
    raw = torch.rand(500, 4, generator=g) * torch.tensor([0.6, 0.6, 20.0, 0.6]) - torch.tensor(
        [0.3, 0.3, 10.0, 0.05]
    )
    p = project_pushes(raw, cfg)
    end = p[:, :2] + p[:, 3:] * torch.stack([torch.cos(p[:, 2]), torch.sin(p[:, 2])], -1)
    m = cfg.margin - 1e-6
    longer = p[:, 3] > cfg.min_length + 1e-6  # min-length pushes may end outside (penalized)
    assert longer.float().mean() > 0.5
    for xy in (p[:, :2], end[longer]):
        assert (xy[:, 0] >= WS[0] + m).all() and (xy[:, 0] <= WS[1] - m).all()
        assert (xy[:, 1] >= WS[2] + m).all() and (xy[:, 1] <= WS[3] - m).all()
    assert (p[:, 3] >= cfg.min_length - 1e-6).all() and (p[:, 3] <= cfg.max_length + 1e-6).all()
    assert (p[:, 2].abs() <= math.pi).all()


def _problem(rope):
    target = straight_line(0.0, 0.0, 0.0, object_length(rope), 0.008, len(rope))
    return make_problem(rope[::3], rope, target)  # every third point as "particles"


def test_shape_costs(curved_rope):
    line = straight_line(0.0, 0.0, 0.0, 0.4, 0.008, 30)
    pr = make_problem(line[::3], line, line)
    for kind in ("chamfer", "matched"):
        assert float(shape_cost(pr.particles[None], pr, kind)[0]) == pytest.approx(0, abs=1e-6)
    pr = _problem(curved_rope)
    start = pr.particles[None]
    # the cost is measured on the observed points: moving no particle = the observed error
    c = shape_cost(start, pr, "chamfer")[0]
    from gs_common.pointsets import chamfer_distance

    assert float(c) == pytest.approx(
        float(chamfer_distance(pr.cost_points, pr.target_cost)), rel=1e-5
    )
    # moving the particles onto the line lowers both costs
    flat = start.clone()
    flat[..., 1] = 0.0
    for kind in ("chamfer", "matched"):
        assert float(shape_cost(flat, pr, kind)[0]) < float(shape_cost(start, pr, kind)[0])


def test_penalties(curved_rope):
    cfg = CostConfig()
    pr = _problem(curved_rope)
    mid = curved_rope[15]  # (0, -0.04) region: bottom of the arc
    good = torch.tensor([[[mid[0], mid[1] - 0.03, math.pi / 2, 0.1]]])
    inside = torch.tensor([[[mid[0], mid[1], math.pi / 2, 0.1]]])
    miss = torch.tensor([[[0.0, -0.2, 0.0, 0.1]]])  # far below the rope, parallel
    outside = torch.tensor([[[0.21, 0.2, 0.0, 0.1]]])  # ends outside the workspace
    pen = [float(push_penalties(p, pr, cfg)[0]) for p in (good, inside, miss, outside)]
    assert pen[0] == 0.0
    assert pen[1] > 0.1 and pen[2] > 0.1 and pen[3] > 0.1


def test_actions_become_pushes_next_to_the_object(curved_rope):
    cfg = CostConfig()
    pr = _problem(curved_rope)
    g = torch.Generator().manual_seed(1)
    u = propose_actions(pr, cfg, 200, g)
    pushes = aim_pushes(u, pr.dense[:, :2], cfg)
    assert torch.isfinite(pushes).all()
    d0 = torch.cdist(pushes[:, :2], pr.dense[:, :2]).min(-1).values
    # starts clear of the rope (unless clamped into the workspace or no clear start within
    # 20 cm along the direction: those are penalized)
    assert (d0 >= cfg.clearance - 1e-5).float().mean() > 0.9
    pen = push_penalties(pushes[:, None], pr, cfg)
    assert (pen < 1e-4).float().mean() > 0.8  # proposals are mostly feasible pushes
    h = heuristic_action(pr, cfg)
    push = aim_pushes(h[None], pr.dense[:, :2], cfg)[0]
    # the heuristic pushes the point farthest from the line (the arc's middle) towards it
    assert math.sin(float(push[2])) > 0.9 and abs(float(push[0])) < 0.03
