"""gs_viz.scene / gs_viz.render: stored scenes and the headless picture (no planning)."""

from __future__ import annotations

import numpy as np

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import look_at
from gs_viz import markers as mk
from gs_viz.scene import WORKSPACE, Scene, load_scene, save_scene, scene_markers


def _scene() -> Scene:
    t, n = 6, 5
    base = np.stack([np.linspace(-0.1, 0.1, n), np.zeros(n), np.full(n, 0.01)], 1)
    pos = base[None] + np.arange(t + 1)[:, None, None] * np.array([0.0, 0.01, 0.0])
    ee = np.stack([np.zeros(t + 1), -0.05 + 0.01 * np.arange(t + 1), np.full(t + 1, 0.005)], 1)
    plan = mk.Plan(pos, ee, np.array([[0.0, -0.05, np.pi / 2, 0.06]]), np.array([0]))
    k = CameraIntrinsics(width=320, height=240, fx=300.0, fy=300.0, cx=159.5, cy=119.5)
    pose = look_at(np.array([0.4, 0.4, 0.5]), np.zeros(3))
    return Scene(
        particles=pos[0],
        target=base + [0.0, 0.1, 0.0],
        plan=plan,
        push_height=0.005,
        edge_radius=0.08,
        edge_topk=5,
        cameras=(["cam0"], [k], pose[None]),
        info="test scene",
    )


def test_workspace_default_equals_the_simulators():
    from gs_common.settings import defaults
    from gs_sim.settings import SETTINGS

    sim = defaults(SETTINGS)
    x, y, z = WORKSPACE
    assert list(x) == sim["workspace_x"] and list(y) == sim["workspace_y"]
    assert z == sim["workspace_z_max"]


def test_scene_roundtrip_and_markers(tmp_path):
    scene = _scene()
    save_scene(scene, tmp_path / "s.npz")
    back = load_scene(tmp_path / "s.npz")
    np.testing.assert_allclose(back.plan.positions, scene.plan.positions)
    np.testing.assert_allclose(back.cameras[2], scene.cameras[2])
    assert back.cameras[1][0] == scene.cameras[1][0] and back.info == "test scene"
    keys = {s.key for s in scene_markers(back)}
    for key in (("push", 0), ("predicted_paths", 0), ("target", 0), ("workspace", 0)):
        assert key in keys
    assert ("particles", 0) in keys and ("edges", 0) in keys and ("camera", 0) in keys
    # the view pyramid's apex is the camera centre
    cam = next(s for s in scene_markers(back) if s.ns == "camera")
    np.testing.assert_allclose(cam.points[0], [0.4, 0.4, 0.5])


def test_render_writes_a_png(tmp_path):
    from gs_viz.render import render

    scene = _scene()
    out = render(scene_markers(scene), tmp_path / "img" / "scene.png", "t", "f", num_steps=6)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert not list(out.parent.glob("*.tmp*"))


def test_simulated_scene_plans_on_the_simulators_rope():
    """`gs-viz snapshot` without --scene: one MPPI decision on the seeded rope (its imports
    had gone stale when the episode code moved to gs_evaluation)."""
    from gs_viz.scene import scene_markers, simulated_scene

    scene = simulated_scene(seed=1000, horizon=1, samples=8, iterations=1, log=None)
    assert scene.plan.pushes.shape == (1, 4) and len(scene.particles) >= 2
    assert scene.target.shape == (60, 3) and len(scene_markers(scene)) > 5
