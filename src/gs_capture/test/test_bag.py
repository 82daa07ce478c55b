"""Recorder storage: serialized messages -> rosbag2-layout MCAP that gs_common.episode reads
exactly like a simulator episode; atomic finalization; header stamps as log times."""

import numpy as np
import pytest
from mcap.reader import make_reader

from gs_capture.bag import (
    RawEpisodeWriter,
    episode_topics,
    header_stamp_ns,
    iter_raw,
    playback_plan,
    topic_matches,
)
from gs_common.episode import load_episode, load_trajectories
from gs_sim.camera_rig import RigLayout, corner_rig
from gs_sim.episode_writer import EpisodeWriter
from gs_sim.rig_renderer import CameraFrame


def _sim_episode(path, frames=4):
    """A small episode in the simulator's writer (synthetic images, no physics)."""
    cams = corner_rig(RigLayout(width_px=32, height_px=24))
    rng = np.random.default_rng(0)
    w = EpisodeWriter(path, {"object": "rope"})
    w.write_rig(0.0, cams)
    for k in range(frames):
        fr = [
            CameraFrame(
                rng.integers(0, 255, (24, 32, 3), dtype=np.uint8),
                rng.uniform(0.4, 0.9, (24, 32)).astype(np.float32),
                rng.random((24, 32)) > 0.5,
                rng.random((24, 32)) > 0.8,
            )
            for _ in cams
        ]
        pts = rng.normal(size=(10, 3)).astype(np.float32)
        w.write_frame(k / 15, cams, fr, [f"j{i}" for i in range(7)], np.zeros(7), np.zeros(7),
                      [0.1, 0.0, 0.05 * k], [1.0, 0, 0, 0], pts)  # fmt: skip
        if k == 1:
            w.write_push(k / 15, 0.0, 0.0, 0.5, 0.1)
    return w.close()


def test_copy_through_recorder_storage_reads_like_the_simulator_episode(tmp_path):
    src = _sim_episode(tmp_path / "sim.mcap")
    dst = tmp_path / "rec.mcap"
    writer = RawEpisodeWriter(dst, {"note": "test"})
    types = episode_topics(src)
    assert "tf_static" in types and types["tf_static"] == "tf2_msgs/msg/TFMessage"
    for topic, ros_type in types.items():
        writer.add_topic(topic, ros_type)
    receive = 10**18  # receive times far from the stamps: log times must come from headers
    for i, m in enumerate(iter_raw(src)):
        writer.write(m.topic, m.data, receive + i * 1000)
    assert writer.tmp.exists() and not dst.exists()  # never complete-looking while writing
    writer.close()
    assert dst.exists() and not writer.tmp.exists()
    a, b = load_episode(src), load_episode(dst)
    assert b.num_frames == a.num_frames == 4 and b.camera_names == a.camera_names
    fields = ("times", "object_points", "ee_positions", "joint_positions", "pushes")
    for name in (*fields, "world_from_camera"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    for k in range(4):
        for cam in a.camera_names:
            np.testing.assert_array_equal(b.color(k, cam), a.color(k, cam))
            np.testing.assert_array_equal(b.depth(k, cam), a.depth(k, cam))
            np.testing.assert_array_equal(b.object_mask(k, cam), a.object_mask(k, cam))
    assert b.metadata["format"] == "gs_dynamics.recorded_episode" and b.metadata["note"] == "test"
    np.testing.assert_array_equal(load_trajectories(dst).points, a.object_points)
    with open(dst, "rb") as f:
        reader = make_reader(f)
        assert reader.get_header().profile == "ros2"
        summary = reader.get_summary()
        assert {s.encoding for s in summary.schemas.values()} == {"ros2msg"}
        assert {c.message_encoding for c in summary.channels.values()} == {"cdr"}
    # messages without a header (TFMessage, Push) keep their receive time
    push = [m for m in iter_raw(dst, ["robot/executed_push"])]
    assert len(push) == 1 and push[0].log_ns >= receive


def test_playback_plan_offset_and_rate(tmp_path):
    src = _sim_episode(tmp_path / "sim.mcap", frames=4)  # frames at 0, 1/15, 2/15, 3/15 s
    topics = ["robot/ee_pose", "robot/joint_states"]
    plan = list(playback_plan(src, topics))
    assert [round(t * 15, 6) for t, m in plan if m.topic == "robot/ee_pose"] == [0, 1, 2, 3]
    late = list(playback_plan(src, topics, start_offset_s=1.5 / 15, rate=2.0))
    assert [m.log_ns for _, m in late] == [
        m.log_ns for _, m in plan if m.log_ns >= plan[0][1].log_ns + 1e8
    ]
    assert [round(t * 30, 6) for t, m in late if m.topic == "robot/ee_pose"] == [0.5, 1.5]
    with pytest.raises(ValueError, match="rate"):
        next(playback_plan(src, topics, rate=0.0))


def test_abort_leaves_nothing_and_paths_are_checked(tmp_path):
    w = RawEpisodeWriter(tmp_path / "x.mcap")
    w.add_topic("robot/ee_pose", "geometry_msgs/msg/PoseStamped")
    w.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"must end in \.mcap"):
        RawEpisodeWriter(tmp_path / "x.bag")


def test_header_stamp_and_topic_patterns():
    cdr = bytes([0, 1, 0, 0]) + (5).to_bytes(4, "little") + (7).to_bytes(4, "little")
    assert header_stamp_ns(cdr) == 5_000_000_007
    assert header_stamp_ns(bytes([0, 0, 0, 0]) + bytes(8)) is None  # big endian: not parsed
    pats = ["cameras/*/color/image_raw", "sim/ground_truth/**", "tf_static"]
    assert topic_matches("/cameras/cam0/color/image_raw", pats)
    assert not topic_matches("cameras/cam0/object_mask", pats)
    assert topic_matches("sim/ground_truth/cam1/object_mask", pats)
    assert topic_matches("/tf_static", pats) and not topic_matches("/tf", pats)
