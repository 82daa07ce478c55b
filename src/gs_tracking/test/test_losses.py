import numpy as np
import pytest
import torch

from gs_common.geometry import quat_from_axis_angle, quat_multiply, quat_to_matrix
from gs_tracking.gaussians import gaussians_from_cloud
from gs_tracking.image_losses import photometric_loss, ssim_map
from gs_tracking.regularizers import (
    NeighbourGraph,
    isometry_loss,
    rigidity_loss,
    rotation_loss,
)


def rope(n=60):
    s = torch.linspace(0, 0.4, n)
    return torch.stack([s, 0.05 * torch.sin(10 * s), torch.full_like(s, 0.01)], 1)


def test_rigid_motion_costs_nothing_and_deformation_costs_something():
    mu0 = rope()
    q0 = torch.tensor([1.0, 0, 0, 0]).expand(len(mu0), 4).contiguous()
    graph = NeighbourGraph.build(mu0, k=8, lambda_w=500.0)
    dq = quat_from_axis_angle(torch.tensor([0.0, 0.0, 1.0]), torch.tensor(0.3))
    r = quat_to_matrix(dq)
    mu1 = mu0 @ r.T + torch.tensor([0.1, -0.05, 0.0])
    q1 = quat_multiply(dq.expand_as(q0), q0)
    assert rigidity_loss(graph, mu1, q1, mu0, q0) < 1e-6
    assert rotation_loss(graph, q1, q0) < 1e-6
    assert isometry_loss(graph, mu1) < 1e-6
    bent = mu0.clone()
    bent[:, 1] += 0.5 * bent[:, 0] ** 2  # a non-rigid bend
    assert rigidity_loss(graph, bent, q0, mu0, q0) > 1e-4
    stretched = mu0 * torch.tensor([1.2, 1.0, 1.0])
    assert isometry_loss(graph, stretched) > 1e-4


def test_regularizer_gradients_pull_towards_rigidity():
    mu0 = rope()
    q0 = torch.tensor([1.0, 0, 0, 0]).expand(len(mu0), 4).contiguous()
    graph = NeighbourGraph.build(mu0, k=8, lambda_w=500.0)
    mu = (mu0 + 0.01 * torch.randn_like(mu0)).requires_grad_(True)
    opt = torch.optim.Adam([mu], lr=1e-3)
    first = isometry_loss(graph, mu).item()
    for _ in range(50):
        opt.zero_grad()
        loss = isometry_loss(graph, mu) + rigidity_loss(graph, mu, q0, mu0, q0)
        loss.backward()
        opt.step()
    assert isometry_loss(graph, mu).item() < 0.5 * first


def test_neighbour_graph_needs_two_points():
    with pytest.raises(ValueError, match="at least 2"):
        NeighbourGraph.build(torch.zeros(1, 3))


def test_ssim_and_photometric_loss():
    img = torch.rand(2, 32, 40, 3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim_map(img, img), torch.ones(2, 32, 40), atol=1e-5)
    assert photometric_loss(img, img).item() == pytest.approx(0.0, abs=1e-6)
    noisy = (img + 0.2 * torch.randn_like(img)).clamp(0, 1)
    assert photometric_loss(noisy, img).item() > 0.05
    # zero weight on the differing pixels -> no loss
    other = img.clone()
    other[:, :10] = 0.0
    w = torch.ones(2, 32, 40)
    w[:, :16] = 0.0  # wider than the SSIM window's reach into the change
    assert photometric_loss(other, img, w).item() < 1e-3


def test_gaussians_from_cloud_cover_the_spacing():
    pts = np.stack(np.meshgrid(np.arange(5), np.arange(5), [0]), -1).reshape(-1, 3) * 0.01
    g = gaussians_from_cloud(pts, np.full((25, 3), 0.5))
    assert len(g) == 25 and torch.allclose(g.scales, torch.full((25, 3), 0.007), atol=2e-3)
    cols = g.to_columns()
    assert cols.shape == (25, 14) and np.allclose(cols[:, 3], 1.0)
