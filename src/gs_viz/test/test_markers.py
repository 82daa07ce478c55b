"""gs_viz.markers: the ROS-free marker construction."""

from __future__ import annotations

import numpy as np
import pytest

from gs_viz import markers as mk


def _plan(t: int = 6, n: int = 4, pushes=((0.0, -0.1, np.pi / 2, 0.05),)) -> mk.Plan:
    steps = np.arange(t + 1)[:, None, None] * np.array([0.0, 0.01, 0.0])
    base = np.stack([np.linspace(-0.1, 0.1, n), np.zeros(n), np.full(n, 0.01)], 1)
    pos = base[None] + steps  # particles move +y by 1 cm per step
    ee = np.stack([np.zeros(t + 1), -0.1 + 0.01 * np.arange(t + 1), np.full(t + 1, 0.005)], 1)
    return mk.plan_from_flat(t, n, pos.ravel(), ee.ravel(), pushes, [0] * len(pushes))


def _by_ns(specs):
    return {(s.ns, s.id): s for s in specs}


def test_push_arrow_goes_from_start_along_theta_for_length():
    plan = _plan(pushes=((0.02, -0.1, np.pi / 2, 0.05), (0.05, 0.0, 0.0, 0.1)))
    specs = _by_ns(mk.plan_markers(plan, push_height=0.005, lifetime=30.0))
    a0, a1 = specs[("push", 0)], specs[("push", 1)]
    assert a0.type == mk.ARROW and a0.lifetime == 30.0
    np.testing.assert_allclose(a0.points, [[0.02, -0.1, 0.005], [0.02, -0.05, 0.005]], atol=1e-12)
    np.testing.assert_allclose(a1.points, [[0.05, 0.0, 0.005], [0.15, 0.0, 0.005]], atol=1e-12)
    assert specs[("push_label", 1)].text == "push 2"


def test_predicted_paths_join_consecutive_steps_coloured_by_time():
    t, n = 6, 4
    plan = _plan(t, n)
    paths = _by_ns(mk.plan_markers(plan))[("predicted_paths", 0)]
    assert paths.type == mk.LINE_LIST
    assert paths.points.shape == (2 * t * n, 3) and paths.colors.shape == (2 * t * n, 4)
    seg = paths.points.reshape(t, n, 2, 3)
    np.testing.assert_allclose(seg[:, :, 0], plan.positions[:-1])
    np.testing.assert_allclose(seg[:, :, 1], plan.positions[1:])
    colors = mk.time_colors(t + 1)
    np.testing.assert_allclose(paths.colors.reshape(t, n, 2, 4)[0, 0, 0], colors[0])
    np.testing.assert_allclose(paths.colors.reshape(t, n, 2, 4)[-1, -1, 1], colors[-1])
    assert not np.allclose(colors[0], colors[-1])


def test_state_snapshots_include_start_and_final_state_and_ee_path():
    plan = _plan(t=10, n=3)
    specs = _by_ns(mk.plan_markers(plan, num_state_snapshots=3))
    states = specs[("predicted_states", 0)]
    assert states.type == mk.SPHERE_LIST and states.points.shape == (3 * 3, 3)
    np.testing.assert_allclose(states.points[:3], plan.positions[0])
    np.testing.assert_allclose(states.points[-3:], plan.positions[-1])
    np.testing.assert_allclose(specs[("ee_path", 0)].points, plan.ee_positions)


def test_ee_path_is_split_at_push_starts():
    plan = _plan(t=10, n=3, pushes=((0, -0.1, 0, 0.05), (0.3, 0.2, 1, 0.05)))
    plan.push_start_step = np.array([0, 5])
    strips = mk.ee_strips(plan)
    assert [len(s) for s in strips] == [6, 6]
    np.testing.assert_allclose(strips[0][0, :2], [0, -0.1])  # push 1's start point
    np.testing.assert_allclose(strips[0][1:], plan.ee_positions[1:6])
    np.testing.assert_allclose(strips[1][0, :2], [0.3, 0.2])  # push 2 starts at its start
    np.testing.assert_allclose(strips[1][1:], plan.ee_positions[6:11])


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"positions": np.zeros(10)}, "positions"),
        ({"ee_positions": np.zeros(5)}, "ee_positions"),
        ({"num_particles": 0}, "num_particles"),
        ({"push_start_step": [0, 1]}, "push_start_step"),
        ({"pushes": [(0, 0, 0, np.nan)]}, "pushes"),
    ],
)
def test_bad_plan_is_rejected_naming_the_field(kwargs, field):
    t, n = 2, 2
    args = dict(
        num_steps=t,
        num_particles=n,
        positions=np.zeros((t + 1) * n * 3),
        ee_positions=np.zeros((t + 1) * 3),
        pushes=[(0, 0, 0, 0.1)],
        push_start_step=[0],
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        mk.plan_from_flat(**args)


def test_deletions_remove_markers_a_new_plan_no_longer_draws():
    two = mk.plan_markers(_plan(pushes=((0, 0, 0, 0.1), (0, 0, 1, 0.1))))
    one = mk.plan_markers(_plan(pushes=((0, 0, 0, 0.1),)))
    dels = mk.deletions({s.key for s in two}, one)
    assert {d.key for d in dels} == {("push", 1), ("push_label", 1)}
    assert all(d.action == mk.DELETE for d in dels)


def test_workspace_box_has_12_axis_aligned_edges_on_its_faces():
    (box,) = mk.workspace_markers((-0.22, 0.22), (-0.25, 0.25), 0.15)
    seg = box.points.reshape(12, 2, 3)
    lengths = np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)
    assert sorted(np.round(lengths, 6)) == [0.15] * 4 + [0.44] * 4 + [0.5] * 4
    assert box.points[:, 0].min() == -0.22 and box.points[:, 2].max() == 0.15


def test_workspace_default_equals_the_simulators():
    from gs_common.settings import defaults as table_defaults
    from gs_sim.settings import SETTINGS
    from gs_viz.markers_node import PARAMS

    defaults = {p.name: p.default for p in PARAMS}
    sim = table_defaults(SETTINGS)
    for name in ("workspace_x", "workspace_y", "workspace_z_max"):
        assert defaults[name] == sim[name], name


def test_graph_edges_follow_the_models_radius_graph():
    # a chain with 3 cm spacing and one far particle: radius 4 cm links neighbours only
    pts = np.array([[0.0, 0, 0], [0.03, 0, 0], [0.06, 0, 0], [0.5, 0, 0]])
    edges = mk.graph_edges(pts, radius=0.04, topk=5)
    assert edges.tolist() == [[0, 1], [1, 2]]
    (spheres, lines) = mk.particle_markers(pts, edges, lifetime=2.0)
    assert spheres.points.shape == (4, 3) and lines.points.shape == (4, 3)
    np.testing.assert_allclose(lines.points[2:], pts[[1, 2]])
    assert mk.graph_edges(pts[:1], 0.04, 5).shape == (0, 2)


def test_target_markers():
    (t,) = mk.target_markers(np.ones((7, 3)))
    assert t.ns == "target" and t.type == mk.SPHERE_LIST and t.points.shape == (7, 3)
    assert t.lifetime == 0.0
