"""A short headless MPC episode in the in-process simulator, and the benchmark helpers."""

import json

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from gs_evaluation.plan_bench import parse_seeds, run_bench
from gs_evaluation.plan_episode import EpisodeConfig, run_episode
from gs_mppi_planner.costs import CostConfig
from gs_mppi_planner.mppi import MPPIConfig, MPPIPlanner
from gs_mppi_planner.plots import padded_errors, success_curve


def test_episode_reduces_the_error(model):
    planner = MPPIPlanner(model, CostConfig(), MPPIConfig(num_samples=16, iterations=2))
    r = run_episode(planner, 1003, EpisodeConfig(max_pushes=2, tolerance=1e-4))
    assert len(r.errors) == 3 and len(r.pushes) == 2 and r.rejected == 0
    assert r.errors[-1] < r.errors[0] - 0.005  # measured: 44 -> ~25 mm
    assert all(lat > 0 for lat in r.latencies) and r.rollouts == [32, 32]


def test_bench_writes_results(model, tmp_path):
    summary = run_bench(
        "rope_straighten",
        [1002],
        ["mppi", "shooting"],
        tmp_path,
        EpisodeConfig(max_pushes=1),
        MPPIConfig(num_samples=8, iterations=2),
        CostConfig(),
        0.015,
        device="cpu",
        log=lambda _m: None,
    )
    assert set(summary) == {"oracle"}  # the default observation
    assert set(summary["oracle"]) == {"mppi", "shooting"}
    assert "vs_shooting" in summary["oracle"]["mppi"]
    doc = json.loads((tmp_path / "results.json").read_text())
    assert len(doc["episodes"]) == 2 and doc["meta"]["budget"] == 16
    assert doc["meta"]["observe"] == ["oracle"] and doc["episodes"][0]["observe"] == "oracle"
    assert "**Observation: oracle**" in (tmp_path / "summary.md").read_text()
    for f in ("summary.md", "error_vs_pushes.png", "success_vs_threshold.png"):
        assert (tmp_path / f).stat().st_size > 0


def test_bench_helpers():
    assert parse_seeds("1000-1003,7") == [1000, 1001, 1002, 1003, 7]
    with pytest.raises(ValueError):
        parse_seeds("5-1")
    e = padded_errors([[3.0, 2.0], [3.0, 2.0, 1.0, 0.5]], 3)
    assert e.tolist() == [[3, 2, 2, 2], [3, 2, 1, 0.5]]
    assert success_curve(np.array([0.01, 0.02]), np.array([0.0, 0.015, 0.03])).tolist() == [
        0.0,
        0.5,
        1.0,
    ]
