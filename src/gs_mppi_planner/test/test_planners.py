"""The push model wrapper and the three planners with the shipped rope model."""

import math

import numpy as np
import pytest
import torch

from gs_gnn_dynamics.rollout import predict_pushes
from gs_mppi_planner.costs import CostConfig, shape_cost
from gs_mppi_planner.mppi import (
    MPPIConfig,
    MPPIPlanner,
    PlanCanceled,
    RandomShootingPlanner,
    make_planner,
)
from gs_mppi_planner.problem import make_problem
from gs_mppi_planner.targets import object_length, straight_line

SMALL = MPPIConfig(num_samples=16, iterations=3, seed=3)


def _problem(model, rope):
    target = straight_line(0.0, 0.0, 0.0, object_length(rope), 0.008, len(rope))
    return make_problem(model.control_particles(rope), rope, target)


def test_batched_prediction_matches_batch_one_predictions(model, curved_rope):
    """The planners' batch (padded to the longest push) = the predict service's batch of 1."""
    parts = model.control_particles(curved_rope)
    pushes = np.array([[0.0, -0.08, math.pi / 2, 0.10], [0.05, -0.09, 1.4, 0.157]])
    ro = model.predict(torch.as_tensor(parts), torch.as_tensor(pushes, dtype=torch.float32))
    assert ro.states.shape == (2, 17, len(parts), 3) and ro.tool.shape == (2, 17, 3)
    for b in range(2):
        ref, tool, _ = predict_pushes(model.model, parts, pushes[b : b + 1])
        t = len(ref)
        assert np.allclose(ro.states[b, :t].numpy(), ref, atol=1e-5)
        assert np.allclose(ro.tool[b, :t].numpy(), tool, atol=1e-6)
        assert np.allclose(ro.tool[b, t:].numpy(), tool[-1], atol=1e-6)  # padded: zero action
    assert model.rollouts >= 2


def test_mppi_is_seeded_spends_its_budget_and_improves(model, curved_rope):
    pr = _problem(model, curved_rope)
    observed = float(shape_cost(pr.particles[None], pr, "chamfer")[0])
    seen = []
    planner = MPPIPlanner(model, CostConfig(), SMALL)
    r1 = planner.plan(pr, lambda it, c, p, s: seen.append((it, c)) and False)
    assert r1.rollouts == SMALL.budget == 48
    assert [it for it, _ in seen] == [0, 1, 2]
    assert all(a >= b for a, b in zip(r1.history, r1.history[1:]))  # best cost never rises
    assert r1.shape_cost < observed  # the plan is predicted to straighten the rope
    assert r1.pushes.shape == (1, 4) and r1.states.shape[1:] == (len(pr.particles), 3)
    assert r1.cost_per_push[-1] == pytest.approx(r1.shape_cost, abs=1e-6)
    assert planner.mean is not None  # warm start for the next decision
    r2 = MPPIPlanner(model, CostConfig(), SMALL).plan(pr)
    assert np.allclose(r1.pushes, r2.pushes) and r1.cost == pytest.approx(r2.cost)


def test_mppi_weights_and_horizon(model, curved_rope):
    planner = MPPIPlanner(model, CostConfig(), MPPIConfig(num_samples=8, iterations=2, horizon=2))
    w = planner.weights(torch.tensor([1.0, 2.0, 3.0, 10.0]))
    assert float(w.sum()) == pytest.approx(1.0) and float(w[0]) > 0.99
    r = planner.plan(_problem(model, curved_rope))
    assert r.pushes.shape == (2, 4) and len(r.push_start_step) == 2 and len(r.cost_per_push) == 2
    assert r.rollouts == 8 * 2 * 2


def test_progress_can_stop_planning(model, curved_rope):
    planner = MPPIPlanner(model, CostConfig(), SMALL)
    with pytest.raises(PlanCanceled):
        planner.plan(_problem(model, curved_rope), lambda it, c, p, s: it == 1)


@pytest.mark.parametrize("name", ["shooting", "pytorch_mppi"])
def test_baselines_have_the_same_budget(model, curved_rope, name):
    pr = _problem(model, curved_rope)
    planner = make_planner(name, model, CostConfig(), SMALL)
    r = planner.plan(pr)
    assert r.rollouts == SMALL.budget
    assert r.pushes.shape == (1, 4) and np.isfinite(r.cost)
    assert isinstance(make_planner("shooting", model, CostConfig(), SMALL), RandomShootingPlanner)
    with pytest.raises(ValueError, match="nope"):
        make_planner("nope", model, CostConfig(), SMALL)
