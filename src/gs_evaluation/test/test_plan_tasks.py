"""The task table of ``gs-plan bench``: objects, models, seeded targets, tolerances, the
perception settings per object, and one tiny toy-relocation episode."""

import math

import numpy as np
import pytest

from gs_evaluation.perception_env import PerceptionConfig, task_perception
from gs_evaluation.plan_cli import _configs, _perception, build_parser
from gs_evaluation.plan_tasks import TASK_TABLE, TASKS, RelocationSampler, get_task, pose_error
from gs_mppi_planner.settings import SETTINGS
from gs_mppi_planner.targets import preset_target

WS = (-0.22, 0.22, -0.25, 0.25)


def _block(center=(0.0, 0.0), size=(0.14, 0.10, 0.08), n=5):
    """(n^3, 3) vertices of a box resting on the table [m]."""
    axes = [np.linspace(-s / 2, s / 2, n) for s in size]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    return g + [center[0], center[1], size[2] / 2]


def _pose(points, target):
    """(dx, dy, yaw) of the rigid motion points -> target about the centroid."""
    c0, c1 = points.mean(0), target.mean(0)
    a, b = points[:, :2] - c0[:2], target[:, :2] - c1[:2]
    yaw = math.atan2((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum(), (a * b).sum())
    return c1[0] - c0[0], c1[1] - c0[1], yaw


def test_table_names_object_model_tolerance():
    from gs_gnn_dynamics.predictor import resolve_checkpoint
    from gs_sim.objects import OBJECT_TYPES

    assert TASKS[0] == "rope_straighten" and {"toy_relocate", "cloth_relocate"} <= set(TASKS)
    for t in TASK_TABLE.values():
        assert t.object in OBJECT_TYPES and 0.005 <= t.tolerance <= 0.05
        assert resolve_checkpoint(t.model).with_suffix(".json").is_file(), t.model
        assert set(t.perception) <= {f.name for f in PerceptionConfig.__dataclass_fields__.values()}
        assert set(t.planner) <= {s.name for s in SETTINGS}, t.planner
    assert get_task("toy_relocate").model == "toy" and get_task("cloth_relocate").object == "cloth"
    with pytest.raises(ValueError, match="'juggle'"):
        get_task("juggle")


def test_perception_settings_per_object():
    base = PerceptionConfig(image_width=160, image_height=120, iterations=4, state="tracking")
    rope = task_perception(get_task("rope_straighten"), base)
    assert rope == base and rope.adaptive and rope.velocity_gate > 0  # the rope preset
    for name in ("toy_relocate", "cloth_relocate"):
        cfg = task_perception(get_task(name), base)
        # the default tracker at the offline pipeline's 0.3 x resolution; the CLI's own
        # choices (cameras, tracker budget) are kept
        assert not cfg.adaptive and cfg.velocity_gate == 0.0 and cfg.scale == 0.3
        assert cfg.image_width == 160 and cfg.iterations == 4
        assert "default tracker" in cfg.describe()


@pytest.mark.parametrize("name", ["toy_relocate", "cloth_relocate"])
def test_relocation_targets_are_seeded_reachable_rigid_moves(name):
    task = get_task(name)
    spec = task.target
    pts = _block()
    targets = {}
    for seed in range(20):
        t, p = task.sample_target(pts, WS, seed)
        targets[seed] = t
        dx, dy, yaw = _pose(pts, t)
        assert (dx, dy, yaw) == pytest.approx((p["dx"], p["dy"], p["yaw"]), abs=1e-5)
        assert spec.distance[0] - 1e-6 <= math.hypot(dx, dy) <= spec.distance[1] + 1e-6
        assert spec.angle[0] - 1e-6 <= abs(yaw) <= spec.angle[1] + 1e-6
        # the same function as the Plan action's relocate preset
        np.testing.assert_allclose(t, preset_target("relocate", pts, dx, dy, yaw), atol=1e-6)
        m = spec.inside
        assert t[:, 0].min() >= WS[0] + m and t[:, 0].max() <= WS[1] - m
        assert t[:, 1].min() >= WS[2] + m and t[:, 1].max() <= WS[3] - m
        np.testing.assert_allclose(t[:, 2], pts[:, 2], atol=1e-6)  # stays on the table
    np.testing.assert_array_equal(task.sample_target(pts, WS, 3)[0], targets[3])
    assert not np.allclose(targets[3], targets[4])
    # an object near the edge: only moves away from it are drawn
    edge = _block(center=(0.12, 0.0))
    for seed in range(10):
        assert task.sample_target(edge, WS, seed)[1]["dx"] < 0.04


def test_pose_error_of_a_relocation():
    pts = _block()
    t = preset_target("relocate", pts, 0.03, -0.04, -0.5)
    off, yaw = pose_error(pts, t)
    assert off == pytest.approx(0.05, abs=1e-6) and yaw == pytest.approx(-0.5, abs=1e-5)
    assert pose_error(t, t) == pytest.approx((0.0, 0.0), abs=1e-6)
    with pytest.raises(ValueError, match="correspond"):
        pose_error(pts[:-1], t)


def test_relocation_that_cannot_fit_names_the_object():
    sampler = RelocationSampler(distance=(0.05, 0.1), angle=(0.3, 0.6), tries=20)
    with pytest.raises(ValueError, match="no relocation target"):
        sampler(_block(size=(0.45, 0.5, 0.05)), WS, np.random.default_rng(0))


def test_cli_uses_the_tasks_tolerance_model_and_tracker():
    parser = build_parser()
    args = parser.parse_args(["bench", "--task", "toy_relocate"])
    episode, _, _ = _configs(args)
    assert episode.tolerance == get_task("toy_relocate").tolerance and args.checkpoint == ""
    assert _perception(args).scale == 0.3 and not _perception(args).adaptive
    args = parser.parse_args(["bench", "--task", "toy_relocate", "--threshold", "0.01"])
    assert _configs(args)[0].tolerance == 0.01
    rope = parser.parse_args(["episode"])
    assert _perception(rope).adaptive and _configs(rope)[0].tolerance == 0.015


def test_toy_episode_smoke():
    """One push of the toy task with its own model and a tiny planning budget."""
    pytest.importorskip("mujoco", reason="MuJoCo is not installed")
    import torch

    from gs_evaluation.plan_episode import EpisodeConfig, run_episode
    from gs_mppi_planner.costs import CostConfig
    from gs_mppi_planner.mppi import MPPIConfig, MPPIPlanner
    from gs_mppi_planner.push_model import PushModel

    torch.set_num_threads(1)
    model = PushModel("toy", "cpu")
    planner = MPPIPlanner(model, CostConfig(), MPPIConfig(num_samples=8, iterations=1))
    cfg = EpisodeConfig(max_pushes=1, tolerance=1e-4, push_speed=0.15, settle_max_frames=5)
    r = run_episode(planner, 905, cfg, task="toy_relocate")
    assert r.task == "toy_relocate" and set(r.target_params) == {"dx", "dy", "yaw"}
    assert len(r.errors) == 2 and len(r.pushes) == 1 and r.rollouts == [8]
    assert r.final_points.shape == r.target.shape == (99, 3)  # the toy's vertices
    assert r.errors[0] > 0.05  # a 5-10 cm, 20-45 deg relocation
    (off0, yaw0), _final = r.pose_errors
    p = r.target_params
    assert off0 == pytest.approx(math.hypot(p["dx"], p["dy"]), abs=1e-4)
    assert yaw0 == pytest.approx(p["yaw"], abs=1e-3)


def _run(tmp_path, name, planner, seeds, finals, max_pushes=2):
    """A results.json as run_bench writes it, of made-up episodes (no simulation)."""
    from gs_evaluation.plan_bench import _write
    from gs_evaluation.plan_episode import EpisodeResult

    eps = [
        EpisodeResult(
            planner, s, [0.07, 0.04, f], [0.07, 0.04, f], [[0, 0, 0, 0.05]] * 2, [1.0, 1.0],
            [0.03, 0.02], [256, 256], 0, f <= 0.015, np.zeros((1, 3)), np.zeros((1, 3)),
            task="toy_relocate", target_params={"dx": 0.05, "dy": 0.0, "yaw": 0.4},
        )
        for s, f in zip(seeds, finals)
    ]  # fmt: skip
    meta = {
        "task": "toy_relocate", "seeds": "x", "planners": [planner], "observe": ["oracle"],
        "max_pushes": max_pushes, "threshold": 0.015, "budget": 256, "num_samples": 64,
        "iterations": 4, "checkpoint": "toy",
    }  # fmt: skip
    out = tmp_path / name
    out.mkdir()
    _write(out, meta, eps, [planner], 0.015, max_pushes, 1.0)
    return out


def test_merge_runs_made_in_parallel(tmp_path):
    from gs_evaluation.plan_bench import merge_runs

    a = _run(tmp_path, "a", "mppi", [1000, 1001], [0.009, 0.030])
    b = _run(tmp_path, "b", "shooting", [1000, 1001], [0.012, 0.020])
    summary = merge_runs([a, b], tmp_path / "ab")
    m, s = summary["oracle"]["mppi"], summary["oracle"]["shooting"]
    assert m["episodes"] == s["episodes"] == 2
    assert m["success_rate_10mm"] == 0.5 and s["success_rate_10mm"] == 0.0
    assert s["success_rate_15mm"] == 0.5 and m["vs_shooting"]["better"] == 1
    for f in ("results.json", "summary.md", "error_vs_pushes.png", "success_vs_threshold.png"):
        assert (tmp_path / "ab" / f).stat().st_size > 0
    with pytest.raises(ValueError, match="two runs"):
        merge_runs([a, a], tmp_path / "aa")
    c = _run(tmp_path, "c", "shooting", [1002], [0.01], max_pushes=4)
    with pytest.raises(ValueError, match="max_pushes"):
        merge_runs([a, c], tmp_path / "ac")


def test_each_task_scores_and_checks_its_goal_with_its_metric():
    from gs_evaluation.plan_episode import task_error
    from gs_mppi_planner.mpc import GOAL_METRICS

    parser = build_parser()
    for name, metric in (("rope_straighten", "curve"), ("toy_relocate", "points")):
        assert get_task(name).metric == metric
        assert _configs(parser.parse_args(["bench", "--task", name]))[0].goal_metric == metric
    # a relocation: the target is the same vertices moved, so they correspond; 1 cm off
    # reads 1 cm each way, for the score and for the goal check
    block = _block()
    moved = block + [0.01, 0.0, 0.0]
    assert task_error(block, moved, "points") == pytest.approx(0.02, abs=1e-6)
    assert GOAL_METRICS["points"](block, moved) == pytest.approx(0.02, abs=1e-6)
    with pytest.raises(ValueError, match="metric 'area' is not one of"):
        task_error(block, moved, "area")
