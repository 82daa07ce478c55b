import numpy as np
import pytest
import torch

from gs_gnn_dynamics.predicted_render import deform_trajectory, render_predicted


def _scene(g=60, n=12):
    gen = torch.Generator().manual_seed(0)
    ctrl0 = torch.rand(n, 3, generator=gen, dtype=torch.float64) * torch.tensor([0.2, 0.2, 0.02])
    means = torch.rand(g, 3, generator=gen, dtype=torch.float64) * torch.tensor([0.2, 0.2, 0.02])
    quats = torch.nn.functional.normalize(torch.randn(g, 4, generator=gen, dtype=torch.float64))
    return ctrl0, means, quats


def test_deform_trajectory_translation():
    ctrl0, means, quats = _scene()
    shift = torch.tensor([0.01, 0.0, 0.0], dtype=torch.float64)
    ctrl = torch.stack([ctrl0 + i * shift for i in range(4)])
    m, q = deform_trajectory(ctrl, means, quats)
    assert m.shape == (4, 60, 3) and q.shape == (4, 60, 4)
    torch.testing.assert_close(m[3], means + 3 * shift)
    np.testing.assert_allclose((q[3] * quats).sum(-1).abs().numpy(), 1.0, atol=1e-9)


def test_render_predicted_moves_the_image():
    pytest.importorskip("gs_render", reason="gs_render is not on the path")
    from gs_common.geometry import invert_transform, look_at
    from gs_render import intrinsics

    ctrl0, means, quats = _scene()
    f = torch.float32
    shift = torch.tensor([0.05, 0.0, 0.0], dtype=torch.float64)
    ctrl = torch.stack([ctrl0, ctrl0 + shift]).to(f)
    g = {
        "means": means.to(f),
        "quats": quats.to(f),
        "scales": torch.full((60, 3), 0.01),
        "opacities": torch.full((60,), 0.9),
        "colors": torch.rand(60, 3),
    }
    world_from_cam = look_at([0.1, 0.1, 0.6], [0.1, 0.1, 0.0], up=(0.0, 1.0, 0.0))
    view = torch.as_tensor(invert_transform(world_from_cam))[None]
    ks = intrinsics(64, 48)[None]
    out = render_predicted(ctrl, g, view.to(f), ks.to(f), 64, 48, steps=[0, 1])
    a0, a1 = out[0].alpha[0, ..., 0], out[1].alpha[0, ..., 0]
    cols = torch.arange(64, dtype=f)
    shift_px = (a1 * cols).sum() / a1.sum() - (a0 * cols).sum() / a0.sum()
    assert abs(float(shift_px)) > 1.0
