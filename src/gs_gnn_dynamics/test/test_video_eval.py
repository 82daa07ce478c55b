"""Video prediction evaluation (gs-dyn eval-video): metrics, frame <-> step mapping, tracked
file checks, and one push end to end on a tiny synthetic scene (one camera, 60 Gaussians)."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.video_eval import (
    TrackedFileError,
    TrackedInputs,
    VideoEvalOptions,
    boundary_f,
    interpolate_states,
    mask_iou,
    region_psnr,
    tracked_paths,
    travel_steps,
)


def _box(h=40, w=60, r0=10, r1=30, c0=10, c1=40):
    m = np.zeros((h, w), bool)
    m[r0:r1, c0:c1] = True
    return m


def test_mask_iou_and_robot_exclusion():
    a, b = _box(c0=10, c1=40), _box(c0=20, c1=50)
    valid = np.ones_like(a)
    assert mask_iou(a, b, valid) == pytest.approx(20 / 40)
    valid[:, 40:] = False  # the robot hides b's extra columns: they no longer count
    assert mask_iou(a, b, valid) == pytest.approx(20 / 30)
    assert mask_iou(np.zeros_like(a), np.zeros_like(a), valid) == 1.0


def test_boundary_f():
    a = _box()
    valid = np.ones_like(a)
    assert boundary_f(a, a, valid) == 1.0
    assert boundary_f(a, np.roll(a, 1, axis=1), valid) == 1.0  # within the tolerance (1 px)
    far = _box(r0=32, r1=38, c0=45, c1=58)
    assert boundary_f(a, far, valid) == 0.0
    assert boundary_f(a, np.zeros_like(a), valid) == 0.0


def test_region_psnr():
    a = np.zeros((4, 4, 3))
    b = a.copy()
    b[0, 0] = 0.1  # squared error 0.01 on one pixel's 3 channels
    region = np.zeros((4, 4), bool)
    region[0, :2] = True  # 2 pixels: mse = 0.01 / 2
    assert region_psnr(a, b, region) == pytest.approx(10 * np.log10(200.0))
    assert np.isnan(region_psnr(a, b, np.zeros((4, 4), bool)))


def test_travel_steps_and_interpolation():
    tool = np.zeros((4, 3))
    tool[:, 0] = [0.0, 0.01, 0.02, 0.025]  # last step shortened (push length 2.5 cm)
    ee = np.zeros((8, 3))
    ee[:, 0] = [0.0, 0.005, 0.01, 0.015, 0.02, 0.0225, 0.025, 0.03]
    s = travel_steps(tool, ee)
    np.testing.assert_allclose(s, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3])  # clamped at the end
    states = torch.arange(4, dtype=torch.float32)[:, None, None].expand(4, 2, 3)
    torch.testing.assert_close(interpolate_states(states, 1.25), torch.full((2, 3), 1.25))
    torch.testing.assert_close(interpolate_states(states, 3.0), torch.full((2, 3), 3.0))


def test_tracked_paths_names_what_is_missing(tmp_path):
    ep = tmp_path / "rope" / "episode_0003.mcap"
    with pytest.raises(TrackedFileError, match=r"rope_episode_0003\.gaussians\.safetensors"):
        tracked_paths(ep, tmp_path)
    (tmp_path / "rope_episode_0003.gaussians.safetensors").write_bytes(b"")
    assert tracked_paths(ep, tmp_path)[1] is None  # no particles: taken from the Gaussians
    (tmp_path / "rope_episode_0003.npz").write_bytes(b"")
    g, n = tracked_paths(ep, tmp_path)
    assert g.name == "rope_episode_0003.gaussians.safetensors" and n.suffix == ".npz"


def test_load_tracked_inputs_rejects_mismatches(tmp_path):
    pytest.importorskip("gs_tracking", reason="gs_tracking is not on the path")
    from gs_common.episode import Trajectories, save_trajectories
    from gs_gnn_dynamics.video_eval import load_tracked_inputs
    from gs_tracking.offline import TrackedSequence
    from gs_tracking.tracked_io import save_tracked
    from gs_tracking.tracker import FrameStats

    t, g = 3, 5
    seq = TrackedSequence(
        np.arange(2, 2 + t),
        np.arange(t) / 15.0,
        np.zeros((t, g, 3), np.float32),
        np.tile(np.array([1, 0, 0, 0], np.float32), (t, g, 1)),
        np.full((g, 3), 0.005, np.float32),
        np.ones(g, np.float32),
        np.ones((g, 3), np.float32),
        [FrameStats(1, 0.0, 0.1)] * t,
    )
    gp = save_tracked(tmp_path / "e.gaussians.safetensors", seq, "/x/episode_0000.mcap", {})

    def traj(frames):
        pts = np.zeros((frames, 4, 3), np.float32)
        tm = np.arange(frames) / 15.0
        return Trajectories(
            pts, np.zeros((frames, 3), np.float32), np.zeros((1, 4)), tm, 1 / 15, "t"
        )

    npz = save_trajectories(tmp_path / "e.npz", traj(t))
    ep = SimpleNamespace(path=Path("episode_0000.mcap"), num_frames=10)
    tr = load_tracked_inputs(ep, gp, npz)
    assert tr.means.shape == (t, g, 3) and tr.particles.shape == (t, 4, 3)
    assert tr.frames.tolist() == [2, 3, 4]
    assert load_tracked_inputs(ep, gp, None).particles.shape == (t, g, 3)  # Gaussian means
    with pytest.raises(TrackedFileError, match=r"not from episode 'episode_0001\.mcap'"):
        load_tracked_inputs(SimpleNamespace(path=Path("episode_0001.mcap"), num_frames=10), gp, npz)
    with pytest.raises(TrackedFileError, match="outside episode"):
        load_tracked_inputs(SimpleNamespace(path=Path("episode_0000.mcap"), num_frames=4), gp, npz)
    bad = save_trajectories(tmp_path / "bad.npz", traj(t + 1))
    with pytest.raises(TrackedFileError, match="has 4 frames but"):
        load_tracked_inputs(ep, gp, bad)


class _CarriedAlong(torch.nn.Module):
    """Stand-in dynamics: every particle moves exactly with the tool (a rigid object
    carried by the pusher), so the prediction equals the synthetic recording."""

    def __init__(self):
        super().__init__()
        self.cfg = DynamicsConfig(min_spacing=0.005)
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, point_history, tools, tool_history, action, mask):
        return action[:, :1].expand_as(x).clone()


def _synthetic(n_frames=12, width=160, height=120):
    """A 6 x 3 cm patch of Gaussians carried 5 cm along +x by the pusher in frames 1-10,
    seen by one camera 0.3 m above; 'recorded' frames rendered from the moved Gaussians."""
    from gs_common.camera import CameraIntrinsics
    from gs_render import render

    gen = torch.Generator().manual_seed(0)
    g = 60
    means = torch.rand(g, 3, generator=gen) * torch.tensor([0.06, 0.03, 0.0]) + torch.tensor(
        [0.0, -0.015, 0.01]
    )
    quats = torch.tensor([[1.0, 0, 0, 0]]).expand(g, 4).contiguous()
    scales = torch.full((g, 3), 0.006)
    opac = torch.full((g,), 0.95)
    colors = torch.rand(g, 3, generator=gen)
    push = np.array([-0.01, 0.0, 0.0, 0.05])
    travel = np.clip((np.arange(n_frames) - 1) * 0.005, 0.0, 0.05)
    ee = np.stack([-0.01 + travel, np.zeros(n_frames), np.full(n_frames, 0.005)], 1)
    ee[0, 2] = ee[-1, 2] = 0.1  # above contact height: the push is frames 1..n-2
    intr = CameraIntrinsics.from_fov(width, height, 60.0)
    wfc = np.eye(4)
    wfc[:3, :3] = np.diag([1.0, -1.0, -1.0])
    wfc[:3, 3] = [0.03, 0.0, 0.3]
    viewmat = torch.as_tensor(np.linalg.inv(wfc), dtype=torch.float32)[None]
    k = torch.as_tensor(intr.K, dtype=torch.float32)[None]
    rgb, masks, points = [], [], []
    for f in range(n_frames):
        m = means + torch.tensor([float(travel[f]), 0.0, 0.0])
        out = render(m, quats, scales, opac, colors, viewmat, k, width, height)
        rgb.append((out.rgb[0].clamp(0, 1).numpy() * 255).round().astype(np.uint8))
        masks.append(out.alpha[0, ..., 0].numpy() > 0.5)
        points.append(m.numpy())
    ep = SimpleNamespace(
        path=Path("episode_0000.mcap"),
        num_frames=n_frames,
        camera_names=["cam0"],
        intrinsics=[intr],
        world_from_camera=wfc[None],
        ee_positions=ee,
        object_points=np.stack(points).astype(np.float32),
        pushes=push[None],
        color=lambda f, c: rgb[f],
        object_mask=lambda f, c: masks[f],
        robot_mask=lambda f, c: np.zeros_like(masks[f]),
    )
    tr = TrackedInputs(
        np.arange(n_frames),
        np.stack(points).astype(np.float32),
        np.tile(quats.numpy(), (n_frames, 1, 1)),
        scales.numpy(),
        opac.numpy(),
        colors.numpy(),
        np.stack(points).astype(np.float32),  # particles on the same points as the GT
        Path("g"),
        Path("n"),
    )
    return ep, tr, push


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_evaluate_push_end_to_end(scale):
    pytest.importorskip("gs_render", reason="gs_render is not on the path")
    pytest.importorskip("gs_tracking", reason="gs_tracking is not on the path")
    from gs_common.push import push_runs
    from gs_gnn_dynamics.video_eval import evaluate_push
    from gs_tracking.observation import RigTensors

    ep, tr, push = _synthetic()
    model = _CarriedAlong()
    runs = push_runs(ep.ee_positions, model.cfg.contact_height)
    assert runs == [(1, 10)]
    opts = VideoEvalOptions(scale=scale, every=3, strip_steps=2)
    rig = RigTensors.from_rig(ep.intrinsics, ep.world_from_camera, opts.scale)
    res = evaluate_push(model, ep, tr, push, runs[0], rig, opts)
    assert res["frames"] == [1, 4, 7, 10]
    np.testing.assert_allclose(res["steps"], [0.0, 1.5, 3.0, 4.5], atol=1e-5)
    mdl, st = res["methods"]["model"], res["methods"]["static"]
    # the prediction follows the object: particles on the recorded points, same images
    assert max(mdl["chamfer"]) < 2e-3 and max(mdl["emd"]) < 2e-3
    if scale == 1.0:  # rendered at the recording's resolution: identical images
        assert min(mdl["j"]) == 1.0 and min(mdl["f"]) == 1.0 and min(mdl["psnr"]) > 40
    else:  # half resolution vs area-downsampled recordings: edge pixels of a ~100 px object
        assert min(mdl["j"]) > 0.8 and min(mdl["jf"]) > 0.85 and min(mdl["psnr"]) > 15
    # the static baseline matches at the push start only and falls behind as it moves
    assert st["chamfer"][0] < 2e-3 and st["chamfer"][-1] > 0.02
    assert st["j"][0] == mdl["j"][0] and st["j"][-1] < 0.3 and st["jf"][-1] < 0.35
    assert st["psnr"][-1] < mdl["psnr"][-1] - 5 and st["ssim"][-1] < mdl["ssim"][-1]
    assert len(res["_strip"]) == 2 and res["_strip"][0]["model"].shape == (
        round(120 * scale),
        round(160 * scale),
        3,
    )


def test_tracked_paths_prefers_the_file_tracked_from_this_episode(tmp_path):
    pytest.importorskip("gs_tracking", reason="gs_tracking is not on the path")
    from gs_tracking.offline import TrackedSequence
    from gs_tracking.tracked_io import save_tracked
    from gs_tracking.tracker import FrameStats

    seq = TrackedSequence(
        np.arange(2),
        np.arange(2) / 15.0,
        np.zeros((2, 1, 3), np.float32),
        np.tile(np.array([1, 0, 0, 0], np.float32), (2, 1, 1)),
        np.full((1, 3), 0.005, np.float32),
        np.ones(1, np.float32),
        np.ones((1, 3), np.float32),
        [FrameStats(1, 0.0, 0.1)] * 2,
    )
    episodes = []
    for name in ("a", "b"):
        ep = tmp_path / name / "episode_0000.mcap"
        ep.parent.mkdir()
        ep.write_bytes(b"")
        episodes.append(ep)
        save_tracked(tmp_path / f"t{name}" / "episode_0000.gaussians.safetensors", seq, str(ep), {})
        (tmp_path / f"t{name}" / "episode_0000.npz").write_bytes(b"")
    dirs = [tmp_path / "ta", tmp_path / "tb"]
    assert tracked_paths(episodes[0], dirs)[0].parent.name == "ta"
    assert tracked_paths(episodes[1], dirs)[0].parent.name == "tb"


def test_cli_errors_name_the_missing_input(tmp_path, capsys):
    from gs_gnn_dynamics.cli import main

    missing = tmp_path / "episode_0009.mcap"
    assert main(["eval-video", str(missing), "--tracked", str(tmp_path)]) == 2
    assert str(missing) in capsys.readouterr().err
    missing.write_bytes(b"")
    assert main(["eval-video", str(missing), "--tracked", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["eval-video", str(missing), "--tracked", str(tmp_path), "--every", "0"]) == 2
    assert "every 0 must be >= 1" in capsys.readouterr().err


def test_ground_truth_particles_are_the_nearest_vertices():
    from gs_gnn_dynamics.video_eval import ground_truth_particles

    vertices = np.array([[0.0, 0, 0], [0.1, 0, 0], [0.2, 0, 0]])
    ctrl = np.array([[0.19, 0.01, 0.0], [0.02, 0.0, 0.01]])
    assert ground_truth_particles(ctrl, vertices).tolist() == [2, 0]


def test_report_summary_and_files(tmp_path):
    pytest.importorskip("gs_render", reason="gs_render is not on the path")
    pytest.importorskip("gs_tracking", reason="gs_tracking is not on the path")
    import json

    from gs_gnn_dynamics.video_eval import (
        _mean_metrics,
        evaluate_push,
        summarize,
        write_video_report,
    )
    from gs_tracking.observation import RigTensors

    ep, tr, push = _synthetic()
    opts = VideoEvalOptions(scale=0.5, every=4, strip_steps=3, emd=False)
    rig = RigTensors.from_rig(ep.intrinsics, ep.world_from_camera, opts.scale)
    res = evaluate_push(_CarriedAlong(), ep, tr, push, (1, 10), rig, opts)
    strip = res.pop("_strip")
    assert "emd" not in res["methods"]["model"]
    episodes = [
        {"object": "rope", "mean": _mean_metrics([res])},
        {"object": "rope", "mean": _mean_metrics([res])},
    ]
    summary = summarize(episodes)
    jf = summary["rope"]["static"]["jf"]
    assert (
        jf["n"] == 2
        and jf["std"] == 0.0
        and jf["mean"] == pytest.approx(np.mean(res["methods"]["static"]["jf"]))
    )
    assert summary["rope"]["static"]["chamfer_end"]["mean"] > 0.03  # carried 5 cm
    js, png = write_video_report(
        {"summary": summary}, [("rope/episode_0000", strip)], tmp_path / "r"
    )
    assert json.loads(js.read_text())["summary"]["rope"]["model"]["jf"]["n"] == 2
    assert png.stat().st_size > 1000
