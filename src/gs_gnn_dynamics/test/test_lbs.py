import numpy as np
import torch

from gs_common.geometry import matrix_to_quat, quat_multiply, quat_to_matrix
from gs_gnn_dynamics.lbs import lbs_deform


def _rot_z(a):
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def _direct(prev, nxt, means, quats, k_blend, k_rot):
    """Per-Gaussian reference (loops), straight from eq. 5-7."""
    n = len(prev)
    rots = []
    for i in range(n):
        d = np.linalg.norm(prev - prev[i], axis=1)
        nb = np.argsort(d, kind="stable")[1 : k_rot + 1]
        a, b = prev[nb] - prev[i], nxt[nb] - nxt[i]
        u, _, vt = np.linalg.svd(b.T @ a)
        s = np.diag([1, 1, np.sign(np.linalg.det(u @ vt))])
        rots.append(u @ s @ vt)
    out_m, out_q = [], []
    for g in range(len(means)):
        d = np.linalg.norm(prev - means[g], axis=1)
        nb = np.argsort(d, kind="stable")[:k_blend]
        w = 1 / (d[nb] + 1e-6)
        w /= w.sum()
        m = sum(w[j] * (rots[i] @ (means[g] - prev[i]) + nxt[i]) for j, i in enumerate(nb))
        qs = [matrix_to_quat(rots[i]) for i in nb]
        qs = [q if q @ qs[0] >= 0 else -q for q in qs]
        qb = sum(w[j] * qs[j] for j in range(len(nb)))
        qb /= np.linalg.norm(qb)
        q = quat_multiply(qb, quats[g])
        out_m.append(m)
        out_q.append(q / np.linalg.norm(q))
    return np.array(out_m), np.array(out_q)


def test_lbs_matches_direct_computation():
    rng = np.random.default_rng(0)
    prev = rng.uniform(-0.1, 0.1, (15, 3))
    nxt = prev + rng.normal(0, 0.005, prev.shape) + [0.01, 0, 0]
    means = rng.uniform(-0.1, 0.1, (40, 3))
    quats = rng.normal(size=(40, 4))
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    m, q = lbs_deform(*(torch.as_tensor(x) for x in (prev, nxt, means, quats)), 4, 6)
    rm, rq = _direct(prev, nxt, means, quats, 4, 6)
    np.testing.assert_allclose(m.numpy(), rm, atol=1e-9)
    np.testing.assert_allclose(np.abs((q.numpy() * rq).sum(-1)), 1.0, atol=1e-9)


def test_lbs_rigid_motion_is_exact_and_batched():
    rng = np.random.default_rng(1)
    prev = torch.as_tensor(rng.uniform(-0.1, 0.1, (2, 12, 3)))
    r = torch.as_tensor(_rot_z(0.4))
    t = torch.tensor([0.02, -0.01, 0.0])
    nxt = prev @ r.T + t
    means = torch.as_tensor(rng.uniform(-0.1, 0.1, (2, 30, 3)))
    quats = torch.nn.functional.normalize(torch.as_tensor(rng.normal(size=(2, 30, 4))), dim=-1)
    m, q = lbs_deform(prev, nxt, means, quats)
    torch.testing.assert_close(m, means @ r.T + t)
    torch.testing.assert_close(quat_to_matrix(q), r @ quat_to_matrix(quats))
    m1, _ = lbs_deform(prev[1], nxt[1], means[1], quats[1])
    torch.testing.assert_close(m1, m[1])
