"""gs-track on a small simulated episode: outputs load with the shared readers."""

import re

import numpy as np
import pytest

from gs_common.episode import load_episode, load_trajectories
from gs_tracking.cli import main as track_main
from gs_tracking.tracked_io import load_tracked

gs_sim_generate = pytest.importorskip("gs_sim.generate", reason="gs_sim is not installed")


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    from gs_sim.settings import workcell_config

    cfg = workcell_config({"object": "rope", "image_width": 96, "image_height": 72})
    path = tmp_path_factory.mktemp("ep") / "episode_0000.mcap"
    return gs_sim_generate.generate_episode(
        path, cfg, seed=3, index=0, num_pushes=1, sampling=gs_sim_generate.PushSampling(speed=0.2)
    )


def test_gs_track_writes_tracked_gaussians_and_shared_trajectories(episode, tmp_path, capsys):
    rc = track_main(
        [
            str(episode),
            "--out",
            str(tmp_path),
            "--frames",
            "0:6",
            "--iterations",
            "2",
            "--first-frame-iterations",
            "5",
            "--scale",
            "1.0",
            "--particles",
            "20",
        ]
    )
    assert rc == 0
    assert "particles" in capsys.readouterr().out
    seq, meta = load_tracked(tmp_path / "episode_0000.gaussians.safetensors")
    assert seq.means.shape[0] == 6 and seq.quats.shape == (*seq.means.shape[:2], 4)
    assert meta["settings"]["iterations"] == 2 and meta["source_episode"] == str(episode)
    traj = load_trajectories(tmp_path / "episode_0000.npz")
    ep = load_episode(episode)
    assert traj.source == "tracking" and traj.points.shape[0] == 6
    assert 2 <= traj.points.shape[1] <= 20
    assert np.allclose(traj.ee, ep.ee_positions[:6], atol=1e-6)
    # the tracked particles lie on the rope (within its radius + a few mm)
    gt = ep.object_points[0]
    d = np.linalg.norm(traj.points[0][:, None] - gt[None], axis=-1).min(1)
    assert np.median(d) < 0.015


def test_gs_track_rejects_bad_arguments(episode, tmp_path, capsys):
    assert track_main([str(episode), "--out", str(tmp_path), "--scale", "3"]) == 2
    assert "--scale must be in" in capsys.readouterr().err
    assert track_main([str(episode), "--out", str(tmp_path), "--frames", "5:6"]) == 2
    assert "selects 1 frames" in capsys.readouterr().err


def test_gs_track_eval_compares_current_and_legacy_tracker_in_one_run(episode, tmp_path, capsys):
    import json

    from gs_tracking.evaluate import main as eval_main

    args = [str(episode), "--out", str(tmp_path), "--frames", "0:4", "--iterations", "2"]
    args += ["--first-frame-iterations", "5", "--scale", "1.0", "--compare-legacy", "--multipush"]
    assert eval_main(args) == 0
    report = json.loads((tmp_path / "tracking_report.json").read_text())
    methods = report["results"]["rope"]
    assert set(methods) == {"gaussians", "gaussians_legacy", "nn_baseline"}
    assert set(report["seconds_per_frame"]) == {"gaussians", "gaussians_legacy"}
    assert report["iterations_per_frame"]["gaussians_legacy"] == 2  # --iterations is kept
    assert report["settings"]["adaptive"] and report["settings"]["w_pusher"] > 0
    for m in methods.values():
        assert np.isfinite(m["summary"]["3d_mte_mm"])
    assert "gaussians_legacy" in capsys.readouterr().out
    # a second run reuses both tracked files
    assert eval_main(args) == 0
    assert "tracked 4 frames" not in capsys.readouterr().out


def test_tracker_overrides_are_typed_and_checked():
    from gs_tracking.cli import parse_overrides

    assert parse_overrides(["velocity=0.5", "adaptive=false", "max_iterations=40"]) == {
        "velocity": 0.5,
        "adaptive": False,
        "max_iterations": 40,
    }
    with pytest.raises(ValueError, match=r"'velocty=1'.*KEY one of"):
        parse_overrides(["velocty=1"])
    with pytest.raises(ValueError, match=re.escape("adaptive: 'maybe' is not a valid bool")):
        parse_overrides(["adaptive=maybe"])
    with pytest.raises(ValueError, match=re.escape("max_iterations: '2.5' is not a valid int")):
        parse_overrides(["max_iterations=2.5"])
