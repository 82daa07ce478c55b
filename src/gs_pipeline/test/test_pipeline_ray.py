"""End to end on a local Ray instance: the tiny pipeline runs every stage, a re-run
recomputes nothing, and a changed setting redoes only the stages that depend on it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from gs_pipeline.config import load_config
from gs_pipeline.runner import run_pipeline

ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[3]
TINY = REPO / "config" / "pipeline" / "tiny.yaml"


@pytest.fixture(scope="module")
def local_ray():
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_run(local_ray, tmp_path_factory):
    """The tiny pipeline run once for the module: (overrides, result)."""
    tmp = tmp_path_factory.mktemp("pipeline")
    over = {"cache": str(tmp / "cache"), "output": str(tmp / "models")}
    return tmp, over, run_pipeline(load_config(TINY, over), progress=False)


def counts(result) -> dict:
    return {stage: (len(r.ran), len(r.cached), len(r.failed)) for stage, r in result.stages.items()}


def test_tiny_pipeline_resumes_and_redoes_only_what_changed(tiny_run):
    tmp_path, over, first = tiny_run
    cfg = load_config(TINY, over)
    assert first.ok, first.message
    # 3 episodes generated (2 train + 1 held-out), the 2 training ones tracked
    assert counts(first) == {
        "generate": (3, 0, 0),
        "track": (2, 0, 0),
        "train": (1, 0, 0),
        "evaluate": (1, 0, 0),
    }
    model = first.model_dir
    assert (model / "model.safetensors").is_file() and (model / "model.json").is_file()
    assert (model / "eval.json").is_file() and (model / "loss.png").is_file()
    assert (tmp_path / "models" / "tiny" / "current").resolve() == model.resolve()
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["trained_on"] == "tracked particles"
    episodes = json.loads((model / "episodes.json").read_text())
    assert [e["role"] for e in episodes] == ["train", "train", "heldout"]
    assert all(e["status"] == "ok" for e in episodes)
    # the tracked training episodes are scored against their simulator ground truth
    mte = [e["tracking"]["mte_3d_mm"] for e in episodes if e["role"] == "train"]
    assert len(mte) == 2 and all(0.0 < m < 100.0 for m in mte)
    assert manifest["tracking_error"]["episodes"] == 2
    assert any(line.startswith("tracking: 3D MTE") for line in first.eval_summary)
    report = json.loads((model / "eval.json").read_text())
    assert "model" in report["methods"]
    # the model directory loads as the dynamics node loads a checkpoint
    from gs_gnn_dynamics.checkpoint import load_checkpoint

    load_checkpoint(model / "model", "cpu")

    second = run_pipeline(cfg, progress=False)
    assert second.ok and second.model_dir == model
    assert counts(second) == {
        "generate": (0, 3, 0),
        "track": (0, 2, 0),
        "train": (0, 1, 0),
        "evaluate": (0, 1, 0),
    }

    changed = load_config(TINY, {**over, "training": {"lr": 5e-4}})
    third = run_pipeline(changed, progress=False)
    assert third.ok
    assert counts(third) == {
        "generate": (0, 3, 0),
        "track": (0, 2, 0),
        "train": (1, 0, 0),
        "evaluate": (1, 0, 0),
    }
    assert third.model_dir != model  # a new version beside the old one
    assert model.is_dir()
    assert (tmp_path / "models" / "tiny" / "current").resolve() == third.model_dir.resolve()


def test_corrupt_recorded_episode_is_retried_reported_and_left_out(tiny_run):
    """A recorded episode that cannot be read fails its tracking task (after its retries);
    the others are trained on and the failure is in the report."""
    tmp_path, over, first = tiny_run
    assert first.ok
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    gen = sorted((tmp_path / "cache" / "generate").glob("*/episode.mcap"))
    shutil.copy(gen[0], recorded / "good.mcap")
    (recorded / "broken.mcap").write_bytes(b"\x89MCAP0\r\n" + os.urandom(4096))
    files = load_config(
        TINY,
        {
            **over,
            "retries": 1,
            "episodes": {"train": {"source": "files", "files": [str(recorded / "*.mcap")]}},
        },
    )
    result = run_pipeline(files, progress=False)
    assert result.ok, result.message
    assert counts(result)["track"][2] == 1  # the broken file
    assert "1 task(s) failed" in result.message
    episodes = json.loads((result.model_dir / "episodes.json").read_text())
    status = {Path(e["file"]).name: e["status"] for e in episodes if "file" in e}
    assert status["good.mcap"] == "ok" and status["broken.mcap"].startswith("failed")
