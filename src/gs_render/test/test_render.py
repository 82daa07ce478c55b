"""Tests of gs_render: analytic values, gradients, tiled vs dense, batching, culling."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from gs_render import render, select_backend, table_corner_rig
from gs_render.gaussians import Gaussians
from gs_render.gsplat_backend import gsplat_available
from gs_render.scenes import cloth_scene
from gs_render.sh import SH_C0, rgb_to_sh0

CPU_BACKENDS = ["torch", "dense"]


def _eye_camera(size: int = 33, focal: float = 100.0, dtype=torch.float32):
    """One camera at the world origin looking along +z; principal point on pixel centre."""
    c = (size - 1) / 2
    Ks = torch.tensor([[[focal, 0.0, c], [0.0, focal, c], [0.0, 0.0, 1.0]]], dtype=dtype)
    return torch.eye(4, dtype=dtype)[None], Ks


def _gaussians(means, scales, opacities, colors, dtype=torch.float32) -> Gaussians:
    means = torch.as_tensor(means, dtype=dtype).reshape(-1, 3)
    n = means.shape[0]
    quats = torch.zeros(n, 4, dtype=dtype)
    quats[:, 0] = 1.0
    scales = torch.as_tensor(scales, dtype=dtype)
    if scales.dim() < 2:
        scales = scales.reshape(-1, 1).expand(n, 3).clone()
    return Gaussians(
        means,
        quats,
        scales,
        torch.as_tensor(opacities, dtype=dtype).expand(n).clone(),
        torch.as_tensor(colors, dtype=dtype).reshape(n, 3),
    )


def _random_scene(n: int, seed: int, dtype=torch.float32) -> Gaussians:
    """Overlapping Gaussians with random anisotropic shapes around the table centre."""
    g = torch.Generator().manual_seed(seed)
    means = (torch.rand(n, 3, generator=g, dtype=dtype) - 0.5) * torch.tensor(
        [0.3, 0.3, 0.1], dtype=dtype
    )
    means[:, 2] += 0.05
    quats = torch.randn(n, 4, generator=g, dtype=dtype)
    scales = 0.004 + 0.02 * torch.rand(n, 3, generator=g, dtype=dtype)
    opac = 0.1 + 0.85 * torch.rand(n, generator=g, dtype=dtype)
    colors = torch.rand(n, 3, generator=g, dtype=dtype)
    return Gaussians(means, quats, scales, opac, colors)


# --- analytic single Gaussian ------------------------------------------------------------


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_single_isotropic_gaussian_matches_closed_form(backend):
    z0, s, o, focal = 1.0, 0.05, 0.8, 100.0
    color = torch.tensor([0.2, 0.6, 1.0])
    sc = _gaussians([0.0, 0.0, z0], s, o, color)
    viewmats, Ks = _eye_camera(41, focal)
    out = render(*sc.tensors(), viewmats, Ks, 41, 41, backend=backend)
    var = (focal * s / z0) ** 2 + 0.3  # projected variance + 3DGS low-pass dilation
    centre = 20
    assert out.alpha[0, centre, centre, 0].item() == pytest.approx(o, rel=1e-5)
    assert torch.allclose(out.rgb[0, centre, centre], o * color, rtol=1e-5)
    for d in (1, 3, 6, 10):
        expect = o * math.exp(-0.5 * d * d / var)
        for v, u in ((centre, centre + d), (centre - d, centre), (centre + d, centre)):
            assert out.alpha[0, v, u, 0].item() == pytest.approx(expect, rel=1e-4)
        diag = o * math.exp(-0.5 * 2 * d * d / var)
        if diag >= 1 / 255:
            assert out.alpha[0, centre + d, centre + d, 0].item() == pytest.approx(diag, rel=1e-4)
    covered = out.alpha[0, ..., 0] > 0
    assert covered.sum() > 100
    assert torch.allclose(
        out.depth[0, ..., 0][covered], torch.full_like(out.depth[0, ..., 0][covered], z0)
    )
    assert (out.depth[0, ..., 0][~covered] == 0).all()
    # Samples below 1/255 are skipped: the support ends where o exp(-d^2 / 2 var) < 1/255.
    d_cut = math.sqrt(2 * var * math.log(255 * o))
    assert out.alpha[0, centre, centre + math.ceil(d_cut), 0] == 0
    assert out.alpha[0, centre, centre + math.floor(d_cut), 0] > 0
    assert out.means2d[0, 0].tolist() == pytest.approx([20.0, 20.0])
    assert out.depths[0, 0].item() == pytest.approx(z0)
    assert out.n_touched[0, 0] == covered.sum()
    assert out.radii[0, 0].tolist() == [math.ceil(d_cut)] * 2


def test_projection_matches_pinhole_model():
    sc = _random_scene(50, seed=3)
    viewmats, Ks = table_corner_rig(64, 48)
    out = render(*sc.tensors(), viewmats, Ks, 64, 48, backend="torch")
    p = torch.einsum("cij,nj->cni", viewmats[:, :3, :3], sc.means) + viewmats[:, None, :3, 3]
    uv = torch.einsum("cij,cnj->cni", Ks, p)
    assert torch.allclose(out.means2d, uv[..., :2] / uv[..., 2:], atol=1e-4)
    assert torch.allclose(out.depths, p[..., 2])


# --- compositing rules -------------------------------------------------------------------


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_front_gaussian_occludes_back_one(backend):
    red, blue = [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]
    viewmats, Ks = _eye_camera(33)
    for front, back in ((red, blue), (blue, red)):
        sc = _gaussians([[0, 0, 2.0], [0, 0, 1.0]], 0.05, [0.7, 0.6], [back, front])
        rgb = render(*sc.tensors(), viewmats, Ks, 33, 33, backend=backend).rgb[0, 16, 16]
        expect = 0.6 * torch.tensor(front) + 0.4 * 0.7 * torch.tensor(back)
        assert torch.allclose(rgb, expect, atol=1e-6)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_early_termination_when_transmittance_runs_out(backend):
    # Five stacked Gaussians with alpha 0.95 at the centre: T = 0.05^3 = 1.25e-4 after
    # three, and the fourth would take it below 1e-4, so it and the fifth are not drawn.
    colors = torch.eye(3).tolist() + [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]
    depths = [[0, 0, 1.0 + 0.1 * i] for i in range(5)]
    sc = _gaussians(depths, 0.05, [0.95] * 5, colors)
    viewmats, Ks = _eye_camera(33)
    out = render(*sc.tensors(), viewmats, Ks, 33, 33, backend=backend)
    weights = torch.tensor([0.95, 0.05 * 0.95, 0.05**2 * 0.95, 0.0, 0.0])
    expect = weights @ torch.tensor(colors)
    assert torch.allclose(out.rgb[0, 16, 16], expect, atol=1e-6)
    assert out.alpha[0, 16, 16, 0].item() == pytest.approx(1 - 0.05**3, abs=1e-6)
    # Away from the centre alpha is lower and the back Gaussians do show.
    assert out.n_touched[0, 3] > 0
    assert out.n_touched[0, 3] < out.n_touched[0, 0]


def test_alpha_is_clamped_at_099():
    sc = _gaussians([0, 0, 1.0], 0.05, 1.0, [1.0, 1.0, 1.0])
    viewmats, Ks = _eye_camera(33)
    for backend in CPU_BACKENDS:
        out = render(*sc.tensors(), viewmats, Ks, 33, 33, backend=backend)
        assert out.alpha.max().item() == pytest.approx(0.99, abs=1e-6)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_background_colour(backend):
    sc = _gaussians([0, 0, 1.0], 0.02, 0.5, [1.0, 0.0, 0.0])
    viewmats, Ks = _eye_camera(33)
    viewmats, Ks = viewmats.expand(2, 4, 4), Ks.expand(2, 3, 3)
    bg = torch.tensor([[0.0, 1.0, 0.0], [0.2, 0.3, 0.4]])
    out = render(*sc.tensors(), viewmats, Ks, 33, 33, background=bg, backend=backend)
    assert torch.allclose(out.rgb[:, 0, 0], bg)  # corner: nothing drawn
    assert torch.allclose(out.rgb[0, 16, 16], torch.tensor([0.5, 0.5, 0.0]), atol=1e-6)
    assert torch.allclose(out.rgb[1, 16, 16], torch.tensor([0.6, 0.15, 0.2]), atol=1e-6)
    assert (out.alpha[:, 0, 0] == 0).all() and (out.depth[:, 0, 0] == 0).all()
    single = render(*sc.tensors(), viewmats, Ks, 33, 33, background=bg[1], backend=backend)
    assert torch.allclose(single.rgb[1], out.rgb[1])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_near_far_and_behind_camera_culling(backend):
    sc = _gaussians([[0, 0, 0.5], [0.4, 0, 3.0], [0, 0, -1.0]], 0.01, 0.9, [[1, 1, 1]] * 3)
    viewmats, Ks = _eye_camera(33)

    def run(near, far):
        return render(*sc.tensors(), viewmats, Ks, 33, 33, near=near, far=far, backend=backend)

    out = run(0.1, 10.0)
    assert out.visible[0].tolist() == [True, True, False]  # behind the camera: culled
    drawn = out.depth[0][out.alpha[0] > 0]
    assert ((drawn - 0.5).abs() < 1e-5).any() and ((drawn - 3.0).abs() < 1e-5).any()
    assert (((drawn - 0.5).abs() < 1e-5) | ((drawn - 3.0).abs() < 1e-5)).all()
    out = run(0.6, 10.0)
    assert out.visible[0].tolist() == [False, True, False]
    assert (out.radii[0, 0] == 0).all() and out.n_touched[0, 0] == 0
    assert torch.allclose(out.depth[0][out.alpha[0] > 0], torch.tensor(3.0))
    out = run(0.1, 2.0)
    assert out.visible[0].tolist() == [True, False, False]
    assert torch.allclose(out.depth[0][out.alpha[0] > 0], torch.tensor(0.5))


def test_offscreen_gaussian_is_culled_but_edge_overlap_is_drawn():
    viewmats, Ks = _eye_camera(33)
    # 16 px off the centre is the image edge; the Gaussian's 3.3-sigma box is ~ 8 px.
    sc = _gaussians([[0.4, 0, 1.0], [0.18, 0, 1.0]], 0.02, 0.9, [[1, 1, 1]] * 2)
    out = render(*sc.tensors(), viewmats, Ks, 33, 33, backend="torch")
    assert out.visible[0].tolist() == [False, True]
    assert out.alpha[0, 16, 32, 0] > 0.01


# --- tiled vs dense ----------------------------------------------------------------------


@pytest.mark.parametrize("tile_size", [4, 8, 16])
def test_tiled_matches_dense_on_random_scenes(tile_size):
    sc = _random_scene(300, seed=tile_size)
    viewmats, Ks = table_corner_rig(80, 60, n_cams=2)
    params = [t.clone().requires_grad_(True) for t in sc.tensors()]
    weights = torch.rand(2, 60, 80, 5, generator=torch.Generator().manual_seed(1))
    outs, grads = {}, {}
    for backend in CPU_BACKENDS:
        out = render(*params, viewmats, Ks, 80, 60, backend=backend, tile_size=tile_size)
        loss = (torch.cat([out.rgb, out.depth, out.alpha], -1) * weights).sum()
        grads[backend] = torch.autograd.grad(loss, params)
        outs[backend] = out
    t, d = outs["torch"], outs["dense"]
    assert t.alpha.max() > 0.9 and (t.alpha > 0.01).float().mean() > 0.1  # non-trivial
    assert torch.allclose(t.rgb, d.rgb, atol=2e-5)
    assert torch.allclose(t.alpha, d.alpha, atol=2e-5)
    assert torch.allclose(t.depth, d.depth, atol=1e-4)
    assert torch.equal(t.n_touched, d.n_touched)
    assert t.n_dropped == 0
    for g_t, g_d in zip(grads["torch"], grads["dense"]):
        assert torch.allclose(g_t, g_d, rtol=1e-3, atol=1e-3 * g_d.abs().max())


def test_overflow_policy_keeps_the_nearest():
    viewmats, Ks = _eye_camera(16, focal=40.0)
    sc = _gaussians(
        [[0, 0, 1.0], [0, 0, 1.5], [0, 0, 2.0]], 0.02, 0.5, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    )
    capped = render(*sc.tensors(), viewmats, Ks, 16, 16, backend="torch", max_per_tile=2)
    assert capped.n_dropped > 0
    near_two = Gaussians(*(t[:2] for t in sc.tensors()))
    ref = render(*near_two.tensors(), viewmats, Ks, 16, 16, backend="dense")
    assert torch.allclose(capped.rgb, ref.rgb, atol=1e-6)
    full = render(*sc.tensors(), viewmats, Ks, 16, 16, backend="torch")
    assert full.n_dropped == 0 and full.rgb[0, 8, 8, 2] > 0.01


def test_chunking_and_checkpointing_do_not_change_results():
    from gs_render.compositor import composite_tiles
    from gs_render.projection import project_gaussians

    sc = _random_scene(200, seed=7)
    viewmats, Ks = table_corner_rig(48, 40, n_cams=2)
    params = [t.clone().requires_grad_(True) for t in sc.tensors()]
    results = []
    for kwargs in ({}, {"max_pairs_per_chunk": 2000, "checkpoint_pairs": 0}):
        proj = project_gaussians(*params[:4], viewmats, Ks, 48, 40)
        out, touched, _ = composite_tiles(proj, params[4], 48, 40, tile_size=8, **kwargs)
        results.append((out, touched, torch.autograd.grad(out.square().sum(), params)))
    (o1, t1, g1), (o2, t2, g2) = results
    assert torch.allclose(o1, o2, atol=1e-6) and torch.equal(t1, t2)
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, atol=1e-6 * b.abs().max())


# --- gradients by finite differences -----------------------------------------------------


def _tiny_scene_f64() -> tuple[Gaussians, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    means = torch.tensor([[0.0, 0.0, 0.02], [0.03, -0.02, 0.05], [-0.03, 0.02, 0.09]])
    quats = torch.randn(3, 4, generator=g)
    scales = torch.tensor([[0.02, 0.012, 0.015], [0.015, 0.02, 0.01], [0.025, 0.015, 0.02]])
    opac = torch.tensor([0.6, 0.75, 0.5])
    colors = torch.rand(3, 3, generator=g)
    sc = Gaussians(*(t.double() for t in (means, quats, scales, opac, colors)))
    viewmats, Ks = table_corner_rig(20, 16, n_cams=2, radius=0.25, height_m=0.2, hfov_deg=50)
    return sc, viewmats.double(), Ks.double()


@pytest.mark.parametrize("name", ["means", "quats", "scales", "opacities", "colors", "viewmats"])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gradients_match_finite_differences(name, backend):
    sc, viewmats, Ks = _tiny_scene_f64()
    inputs = dict(zip(["means", "quats", "scales", "opacities", "colors"], sc.tensors()))
    inputs["viewmats"] = viewmats
    weights = torch.rand(2, 16, 20, 5, generator=torch.Generator().manual_seed(2)).double()
    probe = render(*sc.tensors(), viewmats, Ks, 20, 16, backend=backend, tile_size=4)
    assert probe.visible.all() and probe.alpha.max() > 0.3  # every Gaussian is in the test

    def f(x):
        args = {**inputs, name: x}
        out = render(
            args["means"], args["quats"], args["scales"], args["opacities"], args["colors"],
            args["viewmats"], Ks, 20, 16, backend=backend, tile_size=4,
        )  # fmt: skip
        return (torch.cat([out.rgb, out.depth, out.alpha], -1) * weights).sum()

    x = inputs[name].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)
    (grad,) = torch.autograd.grad(f(x), x)
    assert grad.abs().max() > 1e-3  # the check above was not vacuous


# --- batching, SH, API -------------------------------------------------------------------


def test_multi_camera_batch_equals_per_camera_calls():
    sc = cloth_scene(400, seed=2)
    viewmats, Ks = table_corner_rig(64, 48, n_cams=3)
    bg = torch.rand(3, 3, generator=torch.Generator().manual_seed(0))
    batch = render(*sc.tensors(), viewmats, Ks, 64, 48, background=bg)
    assert batch.rgb.shape == (3, 48, 64, 3) and batch.depth.shape == (3, 48, 64, 1)
    assert batch.alpha.shape == (3, 48, 64, 1) and batch.radii.shape == (3, 400, 2)
    for c in range(3):
        one = render(*sc.tensors(), viewmats[c : c + 1], Ks[c : c + 1], 64, 48, background=bg[c])
        for field in ("rgb", "depth", "alpha", "means2d", "depths"):
            assert torch.allclose(getattr(batch, field)[c], getattr(one, field)[0], atol=1e-6)
        assert torch.equal(batch.radii[c], one.radii[0])
        assert torch.equal(batch.n_touched[c], one.n_touched[0])
    assert not torch.equal(batch.rgb[0], batch.rgb[1])


def test_sh_degree_zero_colours():
    sc = _random_scene(60, seed=5)
    viewmats, Ks = table_corner_rig(40, 30, n_cams=1)
    ref = render(*sc.tensors(), viewmats, Ks, 40, 30)
    sh = rgb_to_sh0(sc.colors)
    for colors in (sh, sh[:, None, :]):
        args = (sc.means, sc.quats, sc.scales, sc.opacities, colors)
        out = render(*args, viewmats, Ks, 40, 30, sh_degree=0)
        assert torch.allclose(out.rgb, ref.rgb, atol=1e-6)
    assert pytest.approx(1 / (2 * math.sqrt(math.pi))) == SH_C0


def test_backend_selection_and_errors():
    cpu = torch.device("cpu")
    assert select_backend("auto", cpu) == "torch"
    assert select_backend("dense", cpu) == "dense"
    with pytest.raises(ValueError):
        select_backend("gsplat", cpu)
    with pytest.raises(ValueError):
        select_backend("opengl", cpu)
    sc = _random_scene(5, seed=0)
    viewmats, Ks = table_corner_rig(16, 16, n_cams=1)
    with pytest.raises(ValueError):
        render(sc.means, sc.quats, sc.scales[:, :2], sc.opacities, sc.colors, viewmats, Ks, 16, 16)
    out = render(*sc.tensors(), viewmats, Ks, 16, 16)
    assert out.backend == "torch" and out.rgb.dtype == torch.float32


def test_nothing_visible_gives_background():
    sc = _gaussians([0, 0, -1.0], 0.05, 0.9, [1, 1, 1])
    viewmats, Ks = _eye_camera(17)
    for backend in CPU_BACKENDS:
        out = render(*sc.tensors(), viewmats, Ks, 17, 17, background=torch.ones(3), backend=backend)
        assert (out.rgb == 1).all() and (out.alpha == 0).all() and (out.depth == 0).all()


def test_package_is_ros_free():
    root = Path(__file__).resolve().parents[1] / "gs_render"
    sources = list(root.glob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert "import rclpy" not in text and "from rclpy" not in text, path


# --- CUDA / gsplat agreement -------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (gsplat backend)")
def test_gsplat_agrees_with_torch_backend():
    if not gsplat_available():
        pytest.skip("gsplat is not installed")
    sc = cloth_scene(2000, seed=1)
    sc.opacities.clamp_(max=0.9)  # below both backends' alpha clamps (0.99 / 0.999)
    viewmats, Ks = table_corner_rig(160, 120)
    bg = torch.tensor([0.1, 0.2, 0.3])
    cpu = render(*sc.tensors(), viewmats, Ks, 160, 120, background=bg, backend="torch")
    dev = [t.cuda().requires_grad_(True) for t in sc.tensors()]
    gpu = render(*dev, viewmats.cuda(), Ks.cuda(), 160, 120, background=bg.cuda())
    assert gpu.backend == "gsplat"
    # Same model and conventions; differences come from float32 exp approximations on the
    # GPU and from gsplat's own tile / radius bookkeeping at the edges of footprints.
    for name in ("rgb", "alpha"):
        diff = (getattr(gpu, name).cpu() - getattr(cpu, name)).abs()
        assert diff.mean() < 1e-3 and diff.max() < 3e-2, name
    covered = (cpu.alpha > 0.5) & (gpu.alpha.cpu() > 0.5)
    assert covered.sum() > 1000
    assert (gpu.depth.cpu()[covered] - cpu.depth[covered]).abs().max() < 2e-3
    vis = cpu.visible & gpu.visible.cpu()
    assert torch.allclose(gpu.means2d.cpu()[vis], cpu.means2d[vis], atol=1e-3)
    assert (gpu.visible.cpu() == cpu.visible).float().mean() > 0.99
    gpu.rgb.sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in dev)
