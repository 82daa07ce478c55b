"""gs_common.episode without the simulator: a hand-written MCAP and trajectory files."""

import sys
from pathlib import Path

import numpy as np
import pytest

from gs_common.episode import (
    EpisodeFormatError,
    Trajectories,
    load_episode,
    load_trajectories,
    save_trajectories,
)
from gs_common.pointcloud import pack_points

mcap_ros2_writer = pytest.importorskip("mcap_ros2.writer")


def _msg(full: str) -> str:
    pkg, name = full.split("/")
    for root in (Path(sys.prefix) / "share", Path(__file__).resolve().parents[2]):
        p = root / pkg / "msg" / f"{name}.msg"
        if p.is_file():
            return p.read_text()
    pytest.skip(f"{full}.msg not installed")


def _schema(full: str, deps: list[str]) -> str:
    return "\n".join([_msg(full)] + [f"{'=' * 80}\nMSG: {d}\n{_msg(d)}" for d in deps])


def _write_episode(path: Path, frames: int = 5) -> np.ndarray:
    pts = np.random.default_rng(0).normal(size=(frames, 6, 3)).astype(np.float32)
    with open(path, "wb") as f:
        w = mcap_ros2_writer.Writer(f)
        cloud = w.register_msgdef(
            "sensor_msgs/msg/PointCloud2",
            _schema(
                "sensor_msgs/PointCloud2",
                ["std_msgs/Header", "builtin_interfaces/Time", "sensor_msgs/PointField"],
            ),
        )
        pose = w.register_msgdef(
            "geometry_msgs/msg/PoseStamped",
            _schema(
                "geometry_msgs/PoseStamped",
                [
                    "std_msgs/Header",
                    "builtin_interfaces/Time",
                    "geometry_msgs/Pose",
                    "geometry_msgs/Point",
                    "geometry_msgs/Quaternion",
                ],
            ),
        )
        push = w.register_msgdef(
            "gs_dynamics_interfaces/msg/Push", _schema("gs_dynamics_interfaces/Push", [])
        )
        w.add_metadata(
            "gs_sim.episode", {"format": "gs_dynamics.sim_episode", "version": "1", "fps": "10.0"}
        )
        for k in range(frames):
            ns = 1_000_000_000 + k * 100_000_000
            hdr = {"stamp": {"sec": ns // 10**9, "nanosec": ns % 10**9}, "frame_id": "world"}
            data, fields, step = pack_points(pts[k])
            w.write_message(
                "sim/ground_truth/object_points",
                cloud,
                {
                    "header": hdr,
                    "height": 1,
                    "width": 6,
                    "fields": [
                        {"name": fl.name, "offset": fl.offset, "datatype": fl.datatype, "count": 1}
                        for fl in fields
                    ],
                    "is_bigendian": False,
                    "point_step": step,
                    "row_step": step * 6,
                    "data": data,
                    "is_dense": True,
                },
                log_time=ns,
                publish_time=ns,
            )
            w.write_message(
                "robot/ee_pose",
                pose,
                {
                    "header": hdr,
                    "pose": {
                        "position": {"x": 0.01 * k, "y": 0.0, "z": 0.005},
                        "orientation": {"x": 1.0, "y": 0.0, "z": 0.0, "w": 0.0},
                    },
                },
                log_time=ns,
                publish_time=ns,
            )
            if k == 1:
                w.write_message(
                    "robot/executed_push",
                    push,
                    {"x": 0.1, "y": -0.1, "theta": 0.5, "length": 0.15},
                    log_time=ns,
                    publish_time=ns,
                )
        w.finish()
    return pts


def test_load_episode_and_trajectories_from_mcap(tmp_path):
    pts = _write_episode(tmp_path / "ep.mcap")
    ep = load_episode(tmp_path / "ep.mcap")
    np.testing.assert_array_equal(ep.object_points, pts)
    np.testing.assert_allclose(ep.times, np.arange(5) * 0.1)
    np.testing.assert_allclose(ep.ee_positions[:, 0], np.arange(5) * 0.01)
    np.testing.assert_allclose(ep.ee_quats[0], [0, 1, 0, 0])
    np.testing.assert_allclose(ep.pushes, [[0.1, -0.1, 0.5, 0.15]])
    np.testing.assert_allclose(ep.push_times, [0.1])
    assert ep.metadata["fps"] == 10.0 and ep.camera_names == []
    traj = load_trajectories(tmp_path / "ep.mcap")
    assert traj.points.shape == (5, 6, 3) and traj.dt == pytest.approx(0.1)


def test_trajectories_npz_round_trip(tmp_path):
    t = Trajectories(
        np.zeros((4, 3, 3), np.float32),
        np.ones((4, 3), np.float32),
        np.array([[0, 0, 1.0, 0.1]]),
        np.arange(4) / 15,
        1 / 15,
        "tracking",
    )
    path = save_trajectories(tmp_path / "t.npz", t)
    back = load_trajectories(path)
    np.testing.assert_array_equal(back.points, t.points)
    np.testing.assert_array_equal(back.pushes, t.pushes)
    assert back.source == "tracking" and back.dt == pytest.approx(1 / 15)
    assert not (tmp_path / "t.npz.tmp").exists()


def test_bad_files_are_named(tmp_path):
    with pytest.raises(EpisodeFormatError, match="does not exist"):
        load_episode(tmp_path / "missing.mcap")
    (tmp_path / "junk.mcap").write_bytes(b"not an mcap")
    with pytest.raises(EpisodeFormatError, match=r"junk\.mcap"):
        load_episode(tmp_path / "junk.mcap")
    np.savez(tmp_path / "other.npz", points=np.zeros((1, 1, 3)))
    with pytest.raises(EpisodeFormatError, match=r"not a gs_dynamics\.trajectories"):
        load_trajectories(tmp_path / "other.npz")
    with pytest.raises(EpisodeFormatError, match="points must be"):
        Trajectories(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((0, 4)), np.zeros(2), 0.1, "x")
