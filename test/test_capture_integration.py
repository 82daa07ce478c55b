"""gs_capture end to end over DDS (every node in its own process).

1. The RealSense node on its real SDK path without hardware: four software-device
   recordings (.db3) played through rs.pipeline; all four cameras publish, one camera's
   recording ends (= the camera is lost) and the other three keep publishing; /tf_static
   and cameras/rig from the rig file reach a plain rclpy subscriber.
2. sim -> gs-record -> episode read by gs_common.episode / load_trajectories / gs-track, then
   that episode -> replay node -> gs-record again: every message comes back bit-exactly
   (topic, log time, bytes) and the episode reader returns identical arrays and images, so
   the tracker's input is identical; gs-track tracks two frames of the recording. (The
   tracking *node* on the live replayed stream is not run: too slow for a test on a shared
   2-core CPU; identical messages make its input identical.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="ROS 2 (rclpy) is not installed")  # before pyrealsense2
pytest.importorskip("pyrealsense2", reason="pyrealsense2 is not installed")
pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from sensor_msgs.msg import Image

from gs_capture.bag import iter_raw
from gs_capture.rig_file import RigCameraEntry, RigFile, save_rig
from gs_common.episode import load_episode, load_trajectories
from gs_common.geometry import look_at
from gs_common.ros.qos import LATCHED_QOS, SENSOR_QOS
from gs_dynamics_interfaces.msg import CameraRig
from ros_harness import start_sim
from tf2_msgs.msg import TFMessage

pytestmark = pytest.mark.timeout(300)
CAMS = ["cam0", "cam1", "cam2", "cam3"]


def test_realsense_node_four_cameras_one_lost_and_tf_static(process_manager, rclpy_node, tmp_path):
    files = [tmp_path / f"{c}.db3" for c in CAMS]
    # cam0-2 stream 15 s; cam3's recording ends after 2 s: the camera is "lost", re-opened
    # 2 s later (the recording plays again), lost again, ... Written in child processes:
    # pyrealsense2 and rclpy in one process crash at interpreter exit.
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gs_capture.synthetic",
                "--out",
                str(f),
                "--serial",
                f"90{i}",
                "--frames",
                str(450 if i < 3 else 60),
            ]
        )
        for i, f in enumerate(files)
    ]
    assert all(w.wait(timeout=120) == 0 for w in writers)
    poses = {c: look_at([0.4 * (-1) ** i, 0.4, 0.5], [0, 0, 0]) for i, c in enumerate(CAMS)}
    rig = save_rig(
        tmp_path / "rig.yaml",
        RigFile({c: RigCameraEntry(c, poses[c]) for c in CAMS}, {}, np.eye(4)),
    )
    serials = "[" + ", ".join(f"'file:{f}'" for f in files) + "]"
    node = process_manager.start_python(
        "realsense", "gs_capture.realsense_node", "--ros-args",
        "-p", f"serials:={serials}", "-p", f"rig_file:={rig}",
        "-p", "loss_timeout:=0.5", "-p", "reopen_period:=2.0",
    )  # fmt: skip
    n = rclpy_node.node
    counts = {c: 0 for c in CAMS}
    stamps: dict[str, list[int]] = {c: [] for c in CAMS}
    got: dict[str, object] = {}

    def on_image(cam):
        def cb(msg):
            counts[cam] += 1
            stamps[cam].append(msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)
            got[f"{cam}/color"] = msg

        return cb

    for c in CAMS:
        n.create_subscription(Image, f"cameras/{c}/color/image_raw", on_image(c), SENSOR_QOS)
        n.create_subscription(
            Image, f"cameras/{c}/depth/image_raw", lambda m, c=c: got.__setitem__(f"{c}/depth", m),
            SENSOR_QOS,
        )  # fmt: skip
    n.create_subscription(
        CameraRig, "cameras/rig", lambda m: got.__setitem__("rig", m), LATCHED_QOS
    )
    # a plain subscriber, as tf2 listeners have it: reliable + transient local on /tf_static
    n.create_subscription(TFMessage, "/tf_static", lambda m: got.__setitem__("tf", m), LATCHED_QOS)
    node.wait_for_output("realsense ready", timeout=60)
    assert rclpy_node.spin_until(lambda: all(counts[c] >= 3 for c in CAMS), 60), counts

    def events(what):
        return len(re.findall(rf"camera 'cam3' \(file .*\) {what}", node.output()))

    lost0 = events("lost")
    assert rclpy_node.spin_until(lambda: events("lost") > lost0, 30), "cam3 was never lost"
    before = dict(counts)
    rclpy_node.spin_until(lambda: False, 1.2)  # cam3 stays lost for 2 s
    assert all(counts[c] >= before[c] + 5 for c in CAMS[:3]), (before, counts)
    assert counts["cam3"] <= before["cam3"] + 2, "cam3 is lost and must not publish"
    back0, seen = events("is back"), counts["cam3"]
    assert rclpy_node.spin_until(
        lambda: events("is back") > back0 and counts["cam3"] > seen + 3, 30
    )
    assert node.alive()
    # one group = one stamp for all cameras
    common = set(stamps["cam0"]) & set(stamps["cam1"]) & set(stamps["cam2"])
    assert len(common) >= 10
    assert got["cam0/depth"].encoding == "16UC1" and got["cam0/color"].encoding == "rgb8"
    assert np.frombuffer(bytes(got["cam1/depth"].data), np.uint16)[100] == 600  # mm
    assert got["cam0/color"].header.frame_id == "cam0_color_optical_frame"
    assert rclpy_node.spin_until(lambda: "tf" in got and "rig" in got, 10)
    assert list(got["rig"].names) == CAMS
    tf = {t.child_frame_id: t for t in got["tf"].transforms}
    assert set(tf) == {f"{c}_color_optical_frame" for c in CAMS} | {"link_base"}
    t = tf["cam1_color_optical_frame"]
    assert t.header.frame_id == "world"
    tr = t.transform.translation
    assert np.allclose([tr.x, tr.y, tr.z], poses["cam1"][:3, 3], atol=1e-6)


def _interrupt(managed, timeout=30.0) -> int:
    """Ctrl-C a managed process and wait for it (its log stays open for failure reports)."""
    os.killpg(managed.proc.pid, signal.SIGINT)
    return managed.proc.wait(timeout=timeout)


def test_sim_record_replay_round_trip_and_offline_pipeline(process_manager, tmp_path):
    remap = []
    for c in CAMS:  # the simulator's masks are ground truth: record them as such
        for what in ("object", "robot"):
            remap += ["-r", f"cameras/{c}/{what}_mask:=sim/ground_truth/{c}/{what}_mask"]
    sim = start_sim(process_manager, *remap, image_width=160, image_height=120, seed=2)
    sim.wait_for_output("sim ready", timeout=120)
    first = tmp_path / "sim_rec.mcap"
    rec = process_manager.start_python(
        "record1", "gs_capture.record_node", "--ros-args",
        "-p", f"output:={first}", "-p", "duration:=2.5",
    )  # fmt: skip
    rec.wait_for_output("episode complete", timeout=90)
    assert rec.proc.wait(timeout=30) == 0
    _interrupt(sim)
    ep = load_episode(first)
    counts = {}
    for m in iter_raw(first):
        counts[m.topic] = counts.get(m.topic, 0) + 1
    assert ep.camera_names == CAMS and ep.num_frames >= 8, counts
    assert counts.get("tf_static") == 1 and counts.get("cameras/rig") == 1 and "tf" in counts
    assert not any(t.endswith("_mask") and t.startswith("cameras/") for t in counts)
    assert load_trajectories(first).points.shape[0] == ep.num_frames  # what gs-dyn reads
    # the sim publishes best effort: under load some images may be missing; track two frames
    # that are complete
    streams = [f"cameras/{c}/{s}/image_raw" for c in CAMS for s in ("color", "depth")]
    streams += [f"sim/ground_truth/{c}/{w}_mask" for c in CAMS for w in ("object", "robot")]
    have = {(m.topic, m.log_ns) for m in iter_raw(first, streams)}
    complete = [all((s, int(t)) in have for s in streams) for t in ep._log_times]
    full = [k for k, ok in enumerate(complete) if ok]
    assert len(full) >= 2, f"fewer than 2 complete frames of {len(complete)}: {counts}"
    start, second_k = full[0], full[1]
    assert ep.color(start, "cam1").shape == (120, 160, 3)
    assert np.nanmedian(ep.depth(start, 0)) > 0.3 and ep.object_mask(start, "cam2").any()

    # replay it and record again: bit-exact
    second = tmp_path / "replayed.mcap"
    rec2 = process_manager.start_python(
        "record2", "gs_capture.record_node", "--ros-args", "-p", f"output:={second}",
        "-p", "topics:=['**']",
    )  # fmt: skip
    replay = process_manager.start_python(
        "replay", "gs_capture.replay_node", "--ros-args", "-p", f"file:={first}",
        "-p", "delay:=5.0", "-p", "rate:=1.0",
    )  # fmt: skip
    replay.wait_for_output("replay pass 1 done", timeout=120)
    time.sleep(1.0)  # the last messages reach the recorder
    assert _interrupt(rec2) == 0  # Ctrl-C finalizes the episode
    _interrupt(replay)
    a = [(m.topic, m.log_ns, m.data) for m in iter_raw(first)]
    b = [(m.topic, m.log_ns, m.data) for m in iter_raw(second) if m.topic in counts]
    stamped_a = sorted(x for x in a if x[0] not in ("tf", "tf_static", "cameras/rig"))
    stamped_b = sorted(x for x in b if x[0] not in ("tf", "tf_static", "cameras/rig"))
    missing = sorted({(t, n) for t, n, _ in stamped_a} - {(t, n) for t, n, _ in stamped_b})
    assert not missing, (
        f"{len(missing)} messages not replayed, first {missing[:3]}, last {missing[-3:]}"
    )
    assert stamped_b == stamped_a
    for topic in ("tf", "tf_static", "cameras/rig"):  # identical bytes (receive-time logged)
        assert [x[2] for x in a if x[0] == topic] == [x[2] for x in b if x[0] == topic], topic

    # the offline tracker reads the recording (gs-track's entry point, in this process; two
    # frames, small budget); the replayed recording feeds it identical inputs
    ea, eb = load_episode(first), load_episode(second)
    np.testing.assert_array_equal(eb.object_points, ea.object_points)
    for k in (start, second_k):
        for c in CAMS:
            np.testing.assert_array_equal(eb.color(k, c), ea.color(k, c))
            np.testing.assert_array_equal(eb.depth(k, c), ea.depth(k, c))
            np.testing.assert_array_equal(eb.object_mask(k, c), ea.object_mask(k, c))
    from gs_tracking.cli import main as gs_track

    d = tmp_path / "tracked"
    frames = f"{start}:{second_k + 1}:{second_k - start}"
    argv = [str(first), "--out", str(d), "--frames", frames, "--iterations", "1",
            "--first-frame-iterations", "5", "--scale", "0.25", "--voxel", "0.008",
            "--particles", "30"]  # fmt: skip
    assert gs_track(argv) == 0
    traj = load_trajectories(d / f"{first.stem}.npz")
    # 30 particles minus the tracker's motion outliers
    assert traj.points.shape[0] == 2 and 20 <= traj.points.shape[1] <= 30
    assert traj.source == "tracking"
    assert np.isfinite(traj.points).all()
    # the particles lie on the rope: within 2 cm of its ground-truth vertices
    gt = ea.object_points[start]
    dist = np.linalg.norm(traj.points[0][:, None] - gt[None], axis=2).min(axis=1)
    assert np.median(dist) < 0.02, np.median(dist)
