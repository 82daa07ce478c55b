"""Kinematics, posing, gradients to the joint angles, pose estimation, checkpoints and
resumable training of the robot self-model (small, fast configurations)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

mujoco = pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from gs_common.camera import CameraIntrinsics  # noqa: E402
from gs_common.geometry import look_at  # noqa: E402
from gs_robot_model.data import build_model, surface_samples  # noqa: E402
from gs_robot_model.estimate import estimate_pose  # noqa: E402
from gs_robot_model.model import ModelConfig, RobotGaussianModel  # noqa: E402
from gs_robot_model.robots import Kinematics, get_robot  # noqa: E402
from gs_robot_model.train import warmup_skinning  # noqa: E402

Q_TEST = np.array([0.4, -0.3, 0.2, 0.8, -0.3, 0.6, 0.2])


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def small_model(n: int = 400, dtype=torch.float32, warmup: int = 150) -> RobotGaussianModel:
    """Gaussians on the URDF surface, skinning MLP fitted to the surface's link labels."""
    torch.manual_seed(0)
    model = RobotGaussianModel(ModelConfig(num_gaussians=n, appearance=False), dtype=dtype)
    pts, bone, rgb = surface_samples(model.robot, np.zeros(7), n, seed=0)
    model.init_from_surface(pts, rgb=rgb * 0.8)
    with torch.no_grad():
        model.log_scales.add_(np.log(1.5))
    if warmup:
        warmup_skinning(model, torch.from_numpy(bone), warmup, 3e-3)
    return model


def cameras(n: int, size: int, dtype=torch.float32):
    """n cameras around the arm, (n, 4, 4) camera_from_world and (n, 3, 3) intrinsics."""
    intr = CameraIntrinsics.from_fov(size, size, 50.0)
    vms = []
    for i in range(n):
        a = 0.7 + 2 * np.pi * i / n
        eye = np.array([1.1 * np.cos(a), 1.1 * np.sin(a), 0.6])
        vms.append(np.linalg.inv(look_at(eye, np.array([0.0, 0.0, 0.3]))))
    return (
        torch.tensor(np.stack(vms), dtype=dtype),
        torch.tensor(intr.K, dtype=dtype).expand(n, 3, 3).clone(),
    )


def test_forward_kinematics_matches_mujoco():
    robot = get_robot("xarm7")
    kin = Kinematics(robot, dtype=torch.float64)
    model = build_model(robot, 32, 32, 45.0)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(3)
    qs = kin.sample_configurations(5, rng)
    tfs = kin.bone_transforms(torch.tensor(qs, dtype=torch.float64))  # batched
    tips = kin.tip_pose(torch.tensor(qs, dtype=torch.float64))
    assert tfs.shape == (5, len(robot.bones), 4, 4)
    for b, q in enumerate(qs):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        for k, name in enumerate(robot.bones):
            np.testing.assert_allclose(tfs[b, k, :3, 3].numpy(), data.body(name).xpos, atol=1e-6)
            np.testing.assert_allclose(
                tfs[b, k, :3, :3].numpy(), data.body(name).xmat.reshape(3, 3), atol=1e-6
            )
        np.testing.assert_allclose(tips[b, :3, 3].numpy(), data.site("pusher_tip").xpos, atol=1e-6)


def test_posed_gaussians_follow_the_posed_mesh():
    """After the skinning warm-up the posed Gaussians lie on the posed URDF surface."""
    model = small_model(600)
    with torch.no_grad():
        means = model.pose(torch.tensor(Q_TEST, dtype=torch.float32)).means.numpy()
    surf, _, _ = surface_samples(model.robot, Q_TEST, 6000, seed=1)
    d = np.sqrt(((means[:, None] - surf[None]) ** 2).sum(-1)).min(1)
    assert np.median(d) < 0.01, f"median distance {np.median(d):.4f} m"
    w = model.skinning_weights()
    torch.testing.assert_close(w.sum(-1), torch.ones(600))


def test_image_loss_gradient_to_joint_angles_matches_finite_differences():
    model = small_model(250, dtype=torch.float64, warmup=100)
    vm, ks = cameras(2, 24, torch.float64)
    with torch.no_grad():
        target = model.render(torch.tensor(Q_TEST, dtype=torch.float64), vm, ks, 24, 24)
    q0 = torch.tensor(Q_TEST + np.array([0.05, -0.04, 0.03, 0.05, -0.05, 0.04, 0.03]))

    def loss_fn(q):
        out = model.render(q, vm, ks, 24, 24)
        return ((out.rgb - target.rgb) ** 2).mean() + ((out.alpha - target.alpha) ** 2).mean()

    q = q0.clone().requires_grad_(True)
    loss_fn(q).backward()
    grad = q.grad.numpy()
    eps = 1e-6
    fd = np.zeros(7)
    with torch.no_grad():
        for j in range(7):
            d = torch.zeros(7, dtype=torch.float64)
            d[j] = eps
            fd[j] = (float(loss_fn(q0 + d)) - float(loss_fn(q0 - d))) / (2 * eps)
    scale = np.abs(fd).max()
    assert scale > 1e-4  # the loss does depend on the joint angles
    np.testing.assert_allclose(grad, fd, rtol=1e-3, atol=1e-3 * scale)


def test_pose_estimation_recovers_known_joint_angles():
    model = small_model(500)
    vm, ks = cameras(3, 48)
    q_true = torch.tensor(Q_TEST, dtype=torch.float32)
    with torch.no_grad():
        target = model.render(q_true, vm, ks, 48, 48)
    noise = torch.tensor([0.08, -0.06, 0.07, -0.08, 0.06, -0.07, 0.05])
    res = estimate_pose(
        model,
        vm,
        ks,
        48,
        48,
        q_true + noise,
        rgb=target.rgb,
        mask=target.alpha[..., 0],
        iters=80,
        lr=0.02,
    )
    err0 = np.degrees(np.abs(noise.numpy())).mean()
    err = np.degrees(np.abs(res.q - Q_TEST))
    assert res.losses[-1] < 0.2 * res.losses[0]
    assert err[:6].mean() < 1.0, f"per-joint error {err} deg (initial {err0:.2f})"
    assert err.mean() < 0.25 * err0


def test_estimate_pose_rejects_mismatched_images():
    model = small_model(50, warmup=0)
    vm, ks = cameras(2, 16)
    with pytest.raises(ValueError, match="rgb has shape"):
        estimate_pose(model, vm, ks, 16, 16, torch.zeros(7), rgb=torch.zeros(1, 16, 16, 3))
    with pytest.raises(ValueError, match="needs rgb and/or mask"):
        estimate_pose(model, vm, ks, 16, 16, torch.zeros(7))


def test_runtime_masks_ee_pose_and_input_checks():
    from gs_robot_model.runtime import RobotMaskRenderer, base_transform

    model = small_model(300, warmup=100)
    world_from_base = base_transform([-0.4, 0.1, 0.0], 90.0)
    core = RobotMaskRenderer(model, world_from_base, render_scale=0.5)
    with pytest.raises(ValueError, match="has 3 values"):
        core.set_joints([0.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="not finite"):
        core.set_joints([0.0] * 6 + [float("nan")])
    with pytest.raises(ValueError, match="render_scale"):
        RobotMaskRenderer(model, world_from_base, render_scale=0.0)
    core.set_joints(Q_TEST)
    # EE pose: FK of the pusher tip moved by the base pose (yaw 90 deg: x_b -> y_w)
    tip_b = Kinematics(model.robot).tip_pose(torch.tensor(Q_TEST, dtype=torch.float32))
    tip_w = core.tip_pose(Q_TEST)
    np.testing.assert_allclose(tip_w[:3, 3], world_from_base[:3, :3] @ tip_b[:3, 3].numpy()
                               + world_from_base[:3, 3], atol=1e-5)  # fmt: skip
    # a camera looking at the arm from 1.2 m sees it; the same camera turned away does not
    intr = CameraIntrinsics.from_fov(64, 48, 50.0)
    target = world_from_base[:3, 3] + np.array([0.0, 0.0, 0.3])
    mask = core.mask(look_at(target + np.array([1.2, 0.3, 0.5]), target), intr)
    assert mask.shape == (48, 64) and mask.dtype == bool and 0.01 < mask.mean() < 0.5
    away = core.mask(
        look_at(target + np.array([1.2, 0.3, 0.5]), target + np.array([3.0, 1.0, 1.0])), intr
    )
    assert not away.any()


def test_estimate_from_views_recovers_joints_from_masks_in_world_coordinates():
    """The service's path: world-frame cameras, a base away from the world origin, masks
    (uint8, nonzero = robot) at full size rendered at 3/4 resolution."""
    from gs_robot_model.estimate import estimate_from_views
    from gs_robot_model.runtime import base_transform

    model = small_model(500)
    world_from_base = base_transform([-0.4, 0.1, 0.0], 20.0)
    vm, _ = cameras(3, 64)
    # cameras(): camera_from_base; in world: world_from_camera = world_from_base @ base_from_cam
    world_from_cams = np.stack([world_from_base @ np.linalg.inv(v) for v in vm.double().numpy()])
    intr = CameraIntrinsics.from_fov(64, 64, 50.0)
    with torch.no_grad():
        out = model.render(
            torch.tensor(Q_TEST, dtype=torch.float32),
            torch.tensor(np.linalg.inv(world_from_cams), dtype=torch.float32),
            torch.tensor(intr.K, dtype=torch.float32).expand(3, 3, 3),
            64,
            64,
            world_from_base=torch.tensor(world_from_base, dtype=torch.float32),
        )
    masks = [(a[..., 0].numpy() > 0.5).astype(np.uint8) * 255 for a in out.alpha]
    noise = np.array([0.08, -0.06, 0.07, -0.08, 0.06, -0.07, 0.05])
    res, refined = estimate_from_views(
        model, world_from_base, world_from_cams, [intr] * 3, masks, Q_TEST + noise, iters=80,
        render_scale=0.75,
    )  # fmt: skip
    err = np.degrees(np.abs(res.q - Q_TEST))
    assert err[:6].mean() < 0.5 * np.degrees(np.abs(noise[:6])).mean(), err
    np.testing.assert_allclose(refined, world_from_cams, atol=1e-5)  # not refined

    with pytest.raises(ValueError, match="image 1 is 32x32, its camera 64x64"):
        estimate_from_views(
            model, world_from_base, world_from_cams[:2], [intr] * 2,
            [masks[0], np.zeros((32, 32), np.uint8)], Q_TEST,
        )  # fmt: skip
    with pytest.raises(ValueError, match="all masks or all RGB"):
        estimate_from_views(
            model, world_from_base, world_from_cams[:2], [intr] * 2,
            [masks[0], np.zeros((64, 64, 3), np.uint8)], Q_TEST,
        )  # fmt: skip
