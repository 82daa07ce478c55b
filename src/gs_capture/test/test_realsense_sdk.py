"""The SDK path of the capture core without hardware: software-device recordings (.db3)
played back through rs.pipeline, four cameras grouped, one lost and re-opened."""

import itertools
import threading
import time

import numpy as np
import pytest

from gs_capture.realsense import CameraNotFoundError, CameraSpec, MultiCamera, RealSenseCamera
from gs_capture.synthetic import write_recording
from gs_common.camera import CameraIntrinsics

INTR = CameraIntrinsics(64, 48, 58.0, 57.5, 31.25, 23.75)  # float32-exact


def test_recording_plays_back_with_intrinsics_values_and_depth_scale(tmp_path):
    def frame(k, intr):
        rgb = np.full((intr.height, intr.width, 3), k, np.uint8)
        return rgb, np.full((intr.height, intr.width), 5000 + 10 * k, np.uint16)

    # 0.1 mm depth units (as a D405): the camera converts to the stack's millimetres
    path = write_recording(tmp_path / "c.db3", "4242", INTR, 8, 30, frame, depth_scale=0.0001)
    cam = RealSenseCamera(CameraSpec("cam0", playback=str(path)))
    cam.open()
    try:
        assert cam.serial == "4242" and cam.intrinsics == INTR
        assert cam.depth_scale == pytest.approx(0.0001)
        got = []
        while (f := cam.read(0.5)) is not None:  # None at the end: reads as a lost camera
            got.append(f)
    finally:
        cam.close()
    # SDK playback may skip the first frame of a recording; the rest arrive in order
    assert len(got) >= 6, len(got)
    ks = [int(f.rgb[0, 0, 0]) for f in got]
    assert ks == list(range(ks[0], ks[0] + len(got))) and ks[-1] == 7
    assert [int(f.depth_mm[10, 10]) for f in got] == [500 + k for k in ks]  # paired, in mm
    assert np.allclose([f.device_ms for f in got], [k * 1000 / 30 for k in ks], atol=1e-3)
    # device time is mapped to host time at the device's rate
    assert np.allclose(np.diff([f.stamp_s for f in got]), 1 / 30, atol=0.01)
    assert abs(got[-1].stamp_s - time.time()) < 5.0


def test_missing_file_and_serial_are_named(tmp_path):
    with pytest.raises(CameraNotFoundError, match=r"nope\.db3"):
        RealSenseCamera(CameraSpec("cam0", playback=str(tmp_path / "nope.db3"))).open()
    with pytest.raises(CameraNotFoundError, match="serial '000' is not connected; connected"):
        RealSenseCamera(CameraSpec("cam0", serial="000")).open()


def test_four_cameras_grouped_and_one_lost_then_back(tmp_path):
    specs = []
    for i in range(4):
        n = 45 if i < 3 else 9  # cam3's recording ends after 0.3 s: the camera is "lost"
        p = write_recording(tmp_path / f"c{i}.db3", f"10{i}", INTR, n, 30)
        specs.append(CameraSpec(f"cam{i}", playback=str(p)))
    groups, logs = [], []
    lock = threading.Lock()

    def on_group(stamp, frames):
        with lock:
            groups.append((stamp, [f.camera for f in frames]))

    multi = MultiCamera(
        specs, 0.02, on_group, lambda lvl, m: logs.append((lvl, m)),
        loss_timeout_s=0.3, reopen_period_s=0.2,
    )  # fmt: skip
    multi.open_all()
    multi.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            "'cam3'" in m and "back" in m for _, m in logs
        ):
            time.sleep(0.05)
    finally:
        multi.stop()
    full = [g for g in groups if g[1] == ["cam0", "cam1", "cam2", "cam3"]]
    partial = [g for g in groups if g[1] == ["cam0", "cam1", "cam2"]]
    assert len(full) >= 3, groups
    assert len(partial) >= 3, f"the other cameras must keep publishing: {groups}"
    assert full[0][0] < partial[0][0]
    assert any(lvl == "error" and "'cam3'" in m and "lost" in m for lvl, m in logs), logs
    assert any(lvl == "info" and "'cam3'" in m and "back" in m for lvl, m in logs), logs
    stamps = [s for s, _ in groups]
    assert all(b > a for a, b in itertools.pairwise(stamps)), "group stamps must increase"
    assert multi.losses["cam3"] >= 1
