"""Episode generation -> MCAP -> gs_common reader, for all three object types."""

import numpy as np
import pytest
from mcap.reader import make_reader

from gs_common.episode import load_episode, load_trajectories
from gs_sim.cli import main as cli_main
from gs_sim.generate import PushSampling, generate_episode
from gs_sim.settings import workcell_config

FAST = PushSampling(speed=0.2)


def _config(kind):
    return workcell_config({"object": kind, "image_width": 64, "image_height": 48})


@pytest.mark.parametrize("kind", ["rope", "cloth", "toy"])
def test_generated_episode_loads_with_ground_truth(tmp_path, kind):
    path = generate_episode(
        tmp_path / f"{kind}.mcap", _config(kind), seed=0, index=0, num_pushes=1, sampling=FAST
    )
    assert path.is_file() and not path.with_name(path.name + ".tmp").exists()
    ep = load_episode(path)
    T = ep.num_frames
    assert T > 10 and ep.metadata["object"] == kind
    assert ep.object_points.shape[0] == T and ep.object_points.shape[2] == 3
    assert ep.ee_positions.shape == (T, 3) and ep.joint_positions.shape == (T, 7)
    assert ep.pushes.shape == (1, 4) and 0.1 <= ep.pushes[0, 3] <= 0.2
    assert ep.camera_names == ["cam0", "cam1", "cam2", "cam3"]
    assert ep.world_from_camera.shape == (4, 4, 4) and ep.intrinsics[0].width == 64
    assert ep.fps == pytest.approx(15.0, rel=1e-3)
    assert ep.color(0, "cam0").shape == (48, 64, 3)
    depth = ep.depth(T - 1, 2)
    assert depth.shape == (48, 64) and np.nanmedian(depth) > 0.3
    assert ep.object_mask(0, "cam1").any() and ep.robot_mask(T // 2, 0).dtype == bool
    moved = np.linalg.norm(ep.object_points[-1] - ep.object_points[0], axis=1)
    assert moved.max() > 0.005, f"{kind} did not move"
    traj = load_trajectories(path)
    assert traj.points.shape == ep.object_points.shape and traj.source == "sim_ground_truth"


def test_generation_is_deterministic_and_plain_mcap_lists_topics(tmp_path):
    cfg = _config("rope")
    a = load_episode(
        generate_episode(tmp_path / "a.mcap", cfg, 7, 3, 1, masks=False, sampling=FAST)
    )
    b = load_episode(
        generate_episode(tmp_path / "b.mcap", cfg, 7, 3, 1, masks=False, sampling=FAST)
    )
    np.testing.assert_array_equal(a.object_points, b.object_points)
    np.testing.assert_array_equal(a.pushes, b.pushes)
    assert (tmp_path / "a.mcap").read_bytes() == (tmp_path / "b.mcap").read_bytes()
    with open(tmp_path / "a.mcap", "rb") as f:
        summary = make_reader(f).get_summary()
    topics = {c.topic for c in summary.channels.values()}
    assert {
        "cameras/rig",
        "cameras/cam0/color/image_raw",
        "cameras/cam3/depth/image_raw",
        "robot/joint_states",
        "robot/ee_pose",
        "robot/executed_push",
        "sim/ground_truth/object_points",
    } <= topics
    assert all(s.encoding == "ros2msg" for s in summary.schemas.values())
    assert {c.message_encoding for c in summary.channels.values()} == {"cdr"}


def test_cli_generate(tmp_path, capsys):
    rc = cli_main(
        [
            "generate",
            "--object",
            "rope",
            "--episodes",
            "1",
            "--seed",
            "1",
            "--out",
            str(tmp_path),
            "--pushes",
            "1",
            "--width",
            "48",
            "--height",
            "32",
            "--speed",
            "0.2",
            "--no-masks",
            "--quiet",
        ]
    )
    assert rc == 0 and (tmp_path / "episode_0000.mcap").is_file()
    assert (
        cli_main(
            ["generate", "--object", "rope", "--out", str(tmp_path), "--width", "2", "--quiet"]
        )
        == 2
    )
    assert "image_width" in capsys.readouterr().err
