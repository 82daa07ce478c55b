import numpy as np
import torch

from gs_common.push import tool_paths
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.data import make_windows, trajectory_segments
from gs_gnn_dynamics.graph import build_graph
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.rollout import predict_pushes, rollout
from gs_gnn_dynamics.synthetic import synthetic_push
from gs_gnn_dynamics.train import window_loss


def test_graph_neighbours_within_radius_nearest_first():
    pts = torch.rand(2, 30, 3) * 0.2
    tools = torch.rand(2, 1, 3) * 0.2
    mask = torch.ones(2, 30, dtype=torch.bool)
    mask[1, 25:] = False
    g = build_graph(pts, tools, mask, 0.08, 5, 0.05)
    assert g.senders.shape == (2, 30, 6)
    d = torch.cdist(pts, pts)
    for b in range(2):
        for i in range(30):
            valid = d[b, i] <= 0.08
            valid[i] = False
            valid &= mask[b] & mask[b, i]
            want = torch.nonzero(valid).flatten()
            want = want[torch.argsort(d[b, i, want])][:5]
            got = g.senders[b, i, :5][g.valid[b, i, :5]]
            assert got.tolist() == want.tolist()
            tool_ok = bool(torch.norm(pts[b, i] - tools[b, 0]) <= 0.05) and bool(mask[b, i])
            assert bool(g.valid[b, i, 5]) == tool_ok and g.senders[b, i, 5] == 30


def test_batched_rollout_equals_single_rollouts():
    cfg = DynamicsConfig(hidden=16)
    model = ParticleDynamics(cfg).eval()
    b, n = 4, 12
    pts = torch.rand(b, n, 3) * torch.tensor([0.3, 0.3, 0.01])
    mask = torch.ones(b, n, dtype=torch.bool)
    mask[2, 9:] = False
    pushes = torch.tensor([[0.05 * i, 0.0, 0.7 * i, 0.06] for i in range(b)])
    paths = tool_paths(pushes, 0.005, 0.01)
    with torch.no_grad():
        batched = rollout(model, pts, paths, mask)
        for i in range(b):
            single = rollout(model, pts[i : i + 1], paths[i : i + 1], mask[i : i + 1])
            torch.testing.assert_close(batched[i : i + 1], single, rtol=1e-5, atol=1e-7)
            # padded particles change nothing for the valid ones
            m = mask[i]
            alone = rollout(model, pts[i : i + 1, m], paths[i : i + 1])
            torch.testing.assert_close(batched[i : i + 1, :, m], alone, rtol=1e-5, atol=1e-7)
    assert batched.shape == (b, 7, n, 3)
    assert torch.equal(batched[2, :, 9:], pts[2, None, 9:].expand(7, -1, -1))


def test_predict_pushes_steps_and_ends():
    model = ParticleDynamics(DynamicsConfig(hidden=8)).eval()
    pts = np.random.default_rng(0).uniform(-0.1, 0.1, (10, 3)).astype(np.float32)
    pushes = np.array([[0.0, 0.0, 0.0, 0.045], [0.1, 0.1, np.pi / 2, 0.02]])
    pos, ee, starts = predict_pushes(model, pts, pushes)
    assert pos.shape == (5 + 2 + 1, 10, 3) and ee.shape == (8, 3)
    assert starts.tolist() == [0, 5]
    np.testing.assert_allclose(ee[5], [0.045, 0.0, 0.005], atol=1e-6)  # end of push 0
    np.testing.assert_allclose(ee[-1], [0.1, 0.12, 0.005], atol=1e-6)
    np.testing.assert_array_equal(pos[0], pts)


def test_training_steps_reduce_loss():
    cfg = DynamicsConfig(hidden=32)
    segs = []
    for seed in range(3):
        segs += trajectory_segments(synthetic_push(seed), cfg, f"s{seed}")
    w = make_windows(segs, cfg.history, cfg.horizon)
    model = ParticleDynamics(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(40):
        loss, _ = window_loss(model, w.frames, w.tool, w.mask, 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses


def test_rigidity_term_zero_for_rigid_motion_positive_otherwise():
    from gs_gnn_dynamics.train import window_loss

    cfg = DynamicsConfig(hidden=8, history=1, horizon=2)
    model = ParticleDynamics(cfg)
    for p in model.decoder.parameters():  # zero motion: the prediction stays rigid
        torch.nn.init.zeros_(p)
    frames = torch.rand(2, 4, 6, 3) * 0.1
    frames[:, 1:] = frames[:, 1:2]
    tool = torch.zeros(2, 4, 3)
    mask = torch.ones(2, 6, dtype=torch.bool)
    _, parts = window_loss(model, frames, tool, mask, 0.0, rigid_weight=1.0)
    assert parts["rigid"] < 1e-8
    for p in model.decoder.parameters():  # per-particle motions: not rigid
        torch.nn.init.normal_(p, std=1.0)
    _, parts = window_loss(model, frames, tool, mask, 0.0, rigid_weight=1.0)
    assert parts["rigid"] > 1e-4


def test_split_edge_layer_equals_concatenated_mlp():
    """The model's factorized first edge layer computes edge_propagator(cat[e, h_r, h_s])."""
    from gs_gnn_dynamics.graph import gather_senders

    cfg = DynamicsConfig(hidden=16, mp_steps=1)
    model = ParticleDynamics(cfg).double().eval()
    b, n = 2, 9
    pts = torch.rand(b, n, 3, dtype=torch.float64) * 0.1
    tools = torch.rand(b, 1, 3, dtype=torch.float64) * 0.1
    hist = torch.zeros(b, cfg.history, n, 3, dtype=torch.float64)
    th = torch.zeros(b, cfg.history, 1, 3, dtype=torch.float64)
    act = torch.full((b, 1, 3), 0.01, dtype=torch.float64)
    captured = {}
    model.edge_propagator[2].register_forward_hook(lambda m, i, o: captured.update(out=o))
    model(pts, hist, tools, th, act)
    # reference: recompute the vertex / edge encodings and apply the MLP to the concatenation
    g = model.graph(pts, tools, None)
    pos = torch.cat([pts, tools], 1)
    kind = torch.zeros(b, n + 1, 2, dtype=torch.float64)
    kind[:, :n, 0], kind[:, n:, 1] = 1.0, 1.0
    hv = torch.cat(
        [
            torch.zeros(b, n + 1, 3 * cfg.history, dtype=torch.float64),
            torch.cat([torch.zeros_like(pts), act], 1) * 100,
            kind,
            (pos[..., 2:3] * 100).clamp(-10, 10),
        ],
        -1,
    )
    h = model.vertex_encoder(hv)
    rel = (pts[:, :, None] - gather_senders(pos, g.senders)) / cfg.radius
    ts = g.is_tool[..., None].double()
    e = model.edge_encoder(torch.cat([rel, rel.norm(dim=-1, keepdim=True), 1 - ts, ts], -1))
    hs = gather_senders(h, g.senders)
    ref = model.edge_propagator(torch.cat([e, h[:, :n, None].expand_as(hs), hs], -1))
    torch.testing.assert_close(captured["out"], ref)
