"""ChArUco calibration: simulated renders of a board on the table vs the known camera poses,
joint refinement with several board placements, the rig file."""

import numpy as np
import pytest

from gs_capture.calibrate_cli import main as calibrate_main
from gs_capture.charuco import BoardSpec, Observation, calibrate, pose_error
from gs_capture.rig_file import RigCameraEntry, RigFile, RigFileError, load_rig, save_rig
from gs_common.camera import CameraIntrinsics
from gs_common.geometry import invert_transform, look_at, make_transform


def test_sim_calibration_meets_target_and_writes_rig(tmp_path, capsys):
    """The four simulated cameras (640x480) calibrated from their renders of a board lying on
    the table under the rope: <= 2 mm and <= 0.2 deg from the simulator's poses."""
    out = tmp_path / "rig.yaml"
    assert calibrate_main(["sim", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "met" in text and "NOT met" not in text
    rig = load_rig(out)
    assert sorted(rig.cameras) == ["cam0", "cam1", "cam2", "cam3"]
    from gs_sim.camera_rig import RigLayout, corner_rig

    for cam in corner_rig(RigLayout(width_px=640, height_px=480)):
        entry = rig.cameras[cam.name]
        dt, dr = pose_error(entry.world_from_camera, cam.world_from_camera)
        assert dt <= 0.002 and dr <= 0.2, (cam.name, dt, dr)
        assert entry.reprojection_error_px < 0.5 and entry.intrinsics == cam.intrinsics


def _synthetic_views(spec, cams, placements, rng, noise_px):
    corners = spec.corners_world()
    obs = []
    for p, w_from_pl in enumerate(placements):
        pts_w = corners @ w_from_pl[:3, :3].T + w_from_pl[:3, 3]
        for name, (w_from_c, intr) in cams.items():
            c_from_w = invert_transform(w_from_c)
            pc = pts_w @ c_from_w[:3, :3].T + c_from_w[:3, 3]
            uv, ok = intr.project(pc)
            ids = np.flatnonzero(ok)
            uv = uv[ids] + rng.normal(0, noise_px, (len(ids), 2))
            obs.append(Observation(name, intr, ids, uv, p))
    return obs


def test_joint_refinement_with_moved_board_recovers_poses():
    """Noisy corners (0.1 px) seen in placement 0 (the world) by cam0/cam1 and in a second
    placement by all three cameras: cam2, which never saw placement 0, is located through
    the second placement -- only possible when the problem is solved jointly."""
    spec = BoardSpec()
    rng = np.random.default_rng(3)
    intr = CameraIntrinsics.from_fov(640, 480, 42.5)
    cams = {
        "cam0": (look_at([0.5, 0.5, 0.6], [0, 0, 0]), intr),
        "cam1": (look_at([-0.5, 0.5, 0.6], [0, 0, 0]), intr),
        "cam2": (look_at([0.6, -0.4, 0.5], [0.1, 0.0, 0.0]), intr),
    }
    c, s = np.cos(0.4), np.sin(0.4)
    moved = make_transform(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), [0.05, -0.03, 0.0])
    obs = _synthetic_views(spec, cams, [np.eye(4), moved], rng, 0.1)
    obs = [o for o in obs if not (o.camera == "cam2" and o.placement == 0)]
    with pytest.raises(ValueError, match=r"cam2.*placement 0"):
        calibrate(spec, obs)
    # joint: cam2 initialised from placement 1 via cam0's view of it
    from gs_capture.charuco import initial_pose, refine_jointly

    init = {n: initial_pose(spec, next(o for o in obs if o.camera == n)) for n in ("cam0", "cam1")}
    pl = next(o for o in obs if o.camera == "cam0" and o.placement == 1)
    o2 = next(o for o in obs if o.camera == "cam2" and o.placement == 1)
    import cv2

    def pnp(o):
        _, r, t = cv2.solvePnP(spec.corners_world()[o.ids], o.image_points, o.intrinsics.K, None)
        return make_transform(cv2.Rodrigues(r)[0], t.ravel())

    init["cam2"] = init["cam0"] @ pnp(pl) @ invert_transform(pnp(o2))
    init["cam2"][:3, 3] += [0.02, -0.02, 0.01]  # a poor start the refinement must fix
    result = refine_jointly(spec, obs, init)
    for name, (truth, _) in cams.items():
        dt, dr = pose_error(result.world_from_camera[name], truth)
        assert dt < 0.002 and dr < 0.2, (name, dt, dr)
        assert 0.05 < result.rms_px[name] < 0.2  # the injected 0.1 px noise, not more
    dt, dr = pose_error(result.world_from_placement[1], moved)
    assert dt < 0.002 and dr < 0.2


def test_too_few_corners_is_a_clear_error():
    spec = BoardSpec()
    intr = CameraIntrinsics.from_fov(64, 48, 42.5)
    obs = [Observation("camX", intr, np.arange(3), np.zeros((3, 2)))]
    with pytest.raises(ValueError, match=r"camX.*3 board corners"):
        calibrate(spec, obs)


def test_rig_file_round_trip_and_errors(tmp_path):
    t = look_at([0.4, 0.4, 0.5], [0, 0, 0])
    intr = CameraIntrinsics.from_fov(640, 480, 42.5)
    path = save_rig(
        tmp_path / "rig.yaml",
        RigFile(
            {"cam0": RigCameraEntry("cam0", t, intr, 0.12, "123")}, BoardSpec().to_dict(), np.eye(4)
        ),
    )
    rig = load_rig(path)
    assert np.allclose(rig.pose("cam0"), t, atol=1e-8) and rig.cameras["cam0"].serial == "123"
    assert rig.cameras["cam0"].intrinsics == intr and np.allclose(
        rig.world_from_robot_base, np.eye(4)
    )
    with pytest.raises(RigFileError, match="'cam9' is not in the rig file"):
        rig.pose("cam9")
    with pytest.raises(RigFileError, match="does not exist"):
        load_rig(tmp_path / "none.yaml")
    text = path.read_text()
    assert "- [-0.707106781," in text
    (tmp_path / "bad.yaml").write_text(text.replace("- [-0.707106781,", "- [-0.9,", 1))
    with pytest.raises(RigFileError, match=r"cam0\.world_from_camera is not a rigid transform"):
        load_rig(tmp_path / "bad.yaml")


def test_calibrate_from_a_recorded_episode(tmp_path, capsys):
    """The real-camera path: board images in an episode (here: simulator renders written as
    an episode) -> gs-calibrate episode -> rig file with the true poses."""
    from gs_capture.sim_calibration import render_board_views
    from gs_sim.camera_rig import RigLayout
    from gs_sim.episode_writer import EpisodeWriter
    from gs_sim.rig_renderer import CameraFrame

    spec = BoardSpec(thickness=0.0002)  # the simulated sheet's surface height
    cams, images = render_board_views(RigLayout(width_px=640, height_px=480), spec, False)
    w = EpisodeWriter(tmp_path / "calib.mcap", {})
    w.write_rig(0.0, cams)
    for k in range(2):
        frames = [CameraFrame(img, np.full(img.shape[:2], 0.8, np.float32)) for img in images]
        w.write_frame(k / 15, cams, frames, ["j"], [0.0], [0.0], [0, 0, 0], [1, 0, 0, 0],
                      np.zeros((1, 3), np.float32))  # fmt: skip
    path = w.close()
    out = tmp_path / "rig.yaml"
    argv = ["episode", str(path), "--out", str(out), "--frames", "2", "--thickness", "0.0002",
            "--robot-base", "-0.4", "0", "0", "0"]  # fmt: skip
    assert calibrate_main(argv) == 0
    rig = load_rig(out)
    for cam in cams:
        dt, dr = pose_error(rig.pose(cam.name), cam.world_from_camera)
        assert dt <= 0.002 and dr <= 0.2, (cam.name, dt, dr)
    assert np.allclose(rig.world_from_robot_base[:3, 3], [-0.4, 0, 0])
    assert calibrate_main(["episode", str(tmp_path / "none.mcap"), "--out", str(out)]) == 2
