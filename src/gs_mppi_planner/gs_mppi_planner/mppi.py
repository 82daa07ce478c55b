"""Push planners over the learned dynamics: iterative MPPI (ours) and the two baselines of
the task benchmark. ROS-free.

All planners answer one decision (:class:`~gs_mppi_planner.problem.PlanProblem`) with a
:class:`PlanResult` and spend a fixed number of model rollouts per decision (``budget``):

- :class:`MPPIPlanner`: iterative MPPI (Williams et al. 2017, information-theoretic MPC):
  K samples around the current mean push sequence, all rolled out through the model in one
  batch, weighted by exp(-(cost - min) / lambda), mean <- mean + weighted perturbation,
  repeated for ``iterations`` with annealed noise; warm-started across MPC steps (the
  previous mean, shifted by one push), seeded.
- :class:`RandomShootingPlanner`: best of N random object-aware pushes, one-push look-ahead
  (what the official GS-Dynamics code does).
- :class:`PytorchMPPIPlanner`: ``pytorch_mppi.MPPI`` (PyPI) with the same model, cost,
  bounds, initial mean and budget.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import torch

from gs_mppi_planner.costs import CostConfig, push_penalties, shape_cost, wrap_angle
from gs_mppi_planner.problem import PlanProblem
from gs_mppi_planner.proposals import (
    aim_pushes,
    depth_range,
    heuristic_action,
    propose_actions,
)
from gs_mppi_planner.push_model import PushModel, Rollout

PLANNERS = ("mppi", "shooting", "pytorch_mppi")


class PlanCanceled(Exception):  # noqa: N818 - reads as the action outcome it maps to
    """The progress callback asked to stop planning (cancel / preemption)."""


@dataclasses.dataclass(frozen=True)
class MPPIConfig:
    """Sampling-based planner settings.

    num_samples: K action sequences per iteration; iterations: MPPI iterations per decision
    (budget = K x iterations x horizon model rollouts); horizon: pushes per plan (H);
    temperature: lambda relative to the spread (median - min) of each iteration's costs;
    noise: initial std of the perturbation of the action (aim x [m], aim y [m], theta [rad],
    depth [m]) (see proposals.aim_pushes);
    noise_decay: factor per iteration; explore_fraction / explore_later: share of the first /
    later iterations' samples drawn from the object-aware proposal (a mixture proposal; the
    rest perturb the mean): the cost over contact points is multi-modal and rugged (the
    learned model is not smooth in the action), so the broad samples find the basin and the
    perturbations refine it; seed.
    """

    num_samples: int = 64
    iterations: int = 4
    horizon: int = 1
    temperature: float = 0.02
    noise: tuple[float, float, float, float] = (0.02, 0.02, 0.35, 0.03)
    noise_decay: float = 0.7
    explore_fraction: float = 0.9
    explore_later: float = 0.5
    seed: int = 0

    @property
    def budget(self) -> int:
        return self.num_samples * self.iterations * self.horizon

    def validate(self) -> None:
        if self.num_samples < 2 or self.iterations < 1 or self.horizon < 1:
            raise ValueError(
                f"need num_samples >= 2, iterations >= 1, horizon >= 1: {self.num_samples}, "
                f"{self.iterations}, {self.horizon}"
            )
        if not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ValueError(f"temperature = {self.temperature} must be > 0")
        if len(self.noise) != 4 or not all(v >= 0 and math.isfinite(v) for v in self.noise):
            raise ValueError(f"noise = {self.noise} must be 4 finite values >= 0")
        if not 0 < self.noise_decay <= 1:
            raise ValueError(f"noise_decay = {self.noise_decay} must be in (0, 1]")
        for name in ("explore_fraction", "explore_later"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} = {getattr(self, name)} must be in [0, 1)")


@dataclasses.dataclass
class PlanResult:
    """One decision: pushes (H, 4); cost: total predicted cost; shape_cost: its distance
    part [m]; states (T + 1, N, 3) / tool (T + 1, 3) [m] predicted under the pushes;
    push_start_step (H,); cost_per_push (H,) predicted shape cost after each push [m];
    iterations; rollouts: model rollouts spent; seconds: wall time; history: best cost per
    iteration."""

    pushes: np.ndarray
    cost: float
    shape_cost: float
    states: np.ndarray
    tool: np.ndarray
    push_start_step: list[int]
    cost_per_push: list[float]
    iterations: int
    rollouts: int
    seconds: float
    history: list[float]


# progress(iteration, best cost so far, best pushes (H, 4), best rollout states (T+1, N, 3))
# returns True to stop planning (PlanCanceled is raised).
Progress = Callable[[int, float, np.ndarray, np.ndarray], bool]


class SamplingPlanner:
    """Shared evaluation of sampled action sequences with the model and the cost."""

    name = "base"

    def __init__(self, model: PushModel, cost: CostConfig, cfg: MPPIConfig):
        cost.validate()
        cfg.validate()
        self.model, self.cost_cfg, self.cfg = model, cost, cfg
        self.generator = torch.Generator().manual_seed(cfg.seed)

    @property
    def budget(self) -> int:
        """Model rollouts per decision."""
        return self.cfg.budget

    def reset(self, seed: int | None = None) -> None:
        """Forget the warm start (new task); optionally re-seed."""
        if seed is not None:
            self.generator = torch.Generator().manual_seed(seed)

    def clip_actions(self, u: torch.Tensor) -> torch.Tensor:
        """Actions (..., 4) within bounds: theta wrapped, depth clamped."""
        lo, hi = depth_range(self.cost_cfg)
        return torch.stack(
            [u[..., 0], u[..., 1], wrap_angle(u[..., 2]), u[..., 3].clamp(lo, hi)], -1
        )

    def evaluate(
        self, problem: PlanProblem, u: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, Rollout]:
        """(total cost (B,), shape cost (B,), rollout) of action sequences (B, H, 4); push h
        is placed on the object as observed (h = 0) or predicted (h > 0) at its start."""
        obj0 = problem.dense[:, :2]

        def to_push(k, uk, x):
            obj = obj0 if k == 0 else problem.dense_states(x)[..., :2]
            return aim_pushes(uk, obj, self.cost_cfg)

        ro = self.model.predict(problem.particles, u, to_push)
        shape = shape_cost(ro.final, problem, self.cost_cfg.kind)
        starts = [ro.at_end(k) for k in range(ro.pushes.shape[1] - 1)]
        pen = push_penalties(ro.pushes, problem, self.cost_cfg, starts)
        return shape + pen, shape, ro

    def finish(
        self,
        problem: PlanProblem,
        best: torch.Tensor,
        best_cost: float,
        t0: float,
        rollouts0: int,
        iterations: int,
        history: list[float],
    ) -> PlanResult:
        """Exact (unpadded) prediction of the chosen pushes (H, 4), for publishing."""
        pushes = best[None]
        ro = self.model.predict(problem.particles, pushes)
        self.model.rollouts -= pushes.shape[1]  # bookkeeping only, not part of the search
        shape = shape_cost(ro.final, problem, self.cost_cfg.kind)
        per_push = []
        bounds = [*ro.push_start_step[1:], ro.states.shape[1] - 1]
        for s in bounds:
            per_push.append(float(shape_cost(ro.states[:, s], problem, self.cost_cfg.kind)[0]))
        return PlanResult(
            pushes=best.cpu().numpy().astype(np.float64),
            cost=float(best_cost),
            shape_cost=float(shape[0]),
            states=ro.states[0].cpu().numpy(),
            tool=ro.tool[0].cpu().numpy(),
            push_start_step=list(ro.push_start_step),
            cost_per_push=per_push,
            iterations=iterations,
            rollouts=self.model.rollouts - rollouts0,
            seconds=time.perf_counter() - t0,
            history=history,
        )

    def plan(self, problem: PlanProblem, progress: Progress | None = None) -> PlanResult:
        raise NotImplementedError


class MPPIPlanner(SamplingPlanner):
    """Iterative MPPI over action sequences (H object-relative pushes, see costs.aim_pushes)."""

    name = "mppi"

    def __init__(self, model: PushModel, cost: CostConfig, cfg: MPPIConfig = MPPIConfig()):
        super().__init__(model, cost, cfg)
        self.mean: torch.Tensor | None = None  # (H, 4) warm start

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.mean = None

    def weights(self, cost: torch.Tensor) -> torch.Tensor:
        """(K,) MPPI weights exp(-(c - c_min) / lambda), lambda = temperature x (median - min)
        of the costs (scale-free: the same temperature works for any task's cost units)."""
        c_min = cost.min()
        spread = (cost.median() - c_min).clamp(min=1e-9)
        w = torch.exp(-(cost - c_min) / (self.cfg.temperature * spread))
        return w / w.sum()

    def plan(self, problem: PlanProblem, progress: Progress | None = None) -> PlanResult:
        t0, r0 = time.perf_counter(), self.model.rollouts
        cfg, cc = self.cfg, self.cost_cfg
        dev = problem.particles.device
        k, h = cfg.num_samples, cfg.horizon
        init = heuristic_action(problem, cc)
        if self.mean is None or self.mean.shape[0] != h:
            mean = init[None].repeat(h, 1)
        else:
            mean = self.mean.to(dev)
        mean = self.clip_actions(mean)
        sigma = torch.tensor(cfg.noise, dtype=mean.dtype, device=dev)
        best, best_cost, history = None, math.inf, []
        for it in range(cfg.iterations):
            eps = torch.randn(k, h, 4, generator=self.generator).to(dev, mean.dtype) * sigma
            eps[0] = 0.0  # the current mean itself
            samples = mean[None] + eps
            if it == 0:
                samples[1, 0] = init  # the cold-start heuristic competes with the warm start
            n_exp = round((cfg.explore_fraction if it == 0 else cfg.explore_later) * k)
            if n_exp:
                samples[k - n_exp :, 0] = propose_actions(problem, cc, n_exp, self.generator)
            samples = self.clip_actions(samples)
            eps = samples - mean[None]
            eps[..., 2] = wrap_angle(eps[..., 2])
            cost, _, ro = self.evaluate(problem, samples)
            i = int(cost.argmin())
            if float(cost[i]) < best_cost:
                best, best_cost = ro.pushes[i].clone(), float(cost[i])
            history.append(best_cost)
            w = self.weights(cost)
            mean = self.clip_actions(mean + (w[:, None, None] * eps).sum(0))
            sigma = sigma * cfg.noise_decay
            if progress is not None and progress(
                it,
                best_cost,
                best.cpu().numpy(),
                ro.states[i, : int(ro.end_step[i, -1]) + 1].cpu().numpy(),
            ):
                raise PlanCanceled(f"planning stopped at MPPI iteration {it}")
        # warm start of the next decision: the mean shifted by the push about to be executed
        self.mean = torch.cat([mean[1:], mean[-1:]], 0) if h > 1 else mean.clone()
        return self.finish(problem, best, best_cost, t0, r0, cfg.iterations, history)


class RandomShootingPlanner(SamplingPlanner):
    """Best of N random object-aware pushes with one-push look-ahead (N = budget)."""

    name = "shooting"

    def plan(self, problem: PlanProblem, progress: Progress | None = None) -> PlanResult:
        t0, r0 = time.perf_counter(), self.model.rollouts
        n = self.cfg.budget // self.cfg.horizon
        chunk = self.cfg.num_samples  # same batch size as MPPI: same memory, same latency
        best, best_cost, history = None, math.inf, []
        for it, s in enumerate(range(0, n, chunk)):
            u = propose_actions(problem, self.cost_cfg, min(chunk, n - s), self.generator)
            cost, _, ro = self.evaluate(problem, u[:, None])
            i = int(cost.argmin())
            if float(cost[i]) < best_cost:
                best, best_cost = ro.pushes[i].clone(), float(cost[i])
            history.append(best_cost)
            if progress is not None and progress(
                it,
                best_cost,
                best.cpu().numpy(),
                ro.states[i, : int(ro.end_step[i, -1]) + 1].cpu().numpy(),
            ):
                raise PlanCanceled(f"planning stopped at batch {it}")
        return self.finish(problem, best, best_cost, t0, r0, len(history), history)


class PytorchMPPIPlanner(SamplingPlanner):
    """``pytorch_mppi.MPPI`` (PyPI) with our model, cost and action space: state = flattened
    particles (N * 3), action = one object-relative push (4), horizon 1; the same bounds,
    initial mean, noise and samples per command; ``iterations`` commands without shifting
    (refinement) spend the same budget; warm-started by the library's nominal action.
    Its lambda is in cost units [m] (``lambda_``); its action cost
    (lambda * u^T Sigma^-1 noise) is the library's default."""

    name = "pytorch_mppi"

    def __init__(
        self, model: PushModel, cost: CostConfig, cfg: MPPIConfig = MPPIConfig(), lambda_=0.002
    ):
        super().__init__(model, cost, cfg)
        self.lambda_ = lambda_
        self.ctrl = None
        self._problem: PlanProblem | None = None
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.ctrl = None

    def _make(self, dev, n_state: int, u_init: torch.Tensor):
        from pytorch_mppi import MPPI

        lo, hi = depth_range(self.cost_cfg)
        inf = 1e3  # aim points are snapped to the object; theta is wrapped
        u_min = torch.tensor([-inf, -inf, -inf, lo], device=dev)
        u_max = torch.tensor([inf, inf, inf, hi], device=dev)
        sigma = torch.diag(torch.tensor(self.cfg.noise, device=dev) ** 2)

        def dynamics(state, u):
            cost, _, ro = self.evaluate(self._problem, u[:, None])
            self._last = (cost, ro.pushes[:, 0])
            return ro.final.reshape(state.shape[0], -1)

        def running_cost(state, u):
            return self._last[0]  # the plain cost of the rollout just made (same samples)

        return MPPI(
            dynamics,
            running_cost,
            n_state,
            sigma,
            num_samples=self.cfg.num_samples,
            horizon=1,
            device=dev,
            lambda_=self.lambda_,
            u_min=u_min,
            u_max=u_max,
            U_init=u_init[None].clone(),
        )

    def plan(self, problem: PlanProblem, progress: Progress | None = None) -> PlanResult:
        import pytorch_seed

        t0, r0 = time.perf_counter(), self.model.rollouts
        dev = problem.particles.device
        self._problem = problem
        state = problem.particles.reshape(-1)
        if self.ctrl is None:
            self.ctrl = self._make(dev, state.numel(), heuristic_action(problem, self.cost_cfg))
        elif self.ctrl.nx != state.numel():  # another particle count: keep the warm start
            self.ctrl = self._make(dev, state.numel(), self.ctrl.U[0])
        best, best_cost, history = None, math.inf, []
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=self.generator))
        with pytorch_seed.SavedRNG(seed):  # the library samples from torch's global RNG
            for it in range(self.cfg.iterations):
                self.ctrl.command(state, shift_nominal_trajectory=False)
                cost, pushes = self._last
                i = int(cost.argmin())
                if float(cost[i]) < best_cost:
                    best, best_cost = pushes[i : i + 1].clone(), float(cost[i])
                history.append(best_cost)
                if progress is not None and progress(
                    it, best_cost, best.cpu().numpy(), np.zeros((1, 1, 3))
                ):
                    raise PlanCanceled(f"planning stopped at iteration {it}")
        return self.finish(problem, best, best_cost, t0, r0, self.cfg.iterations, history)


def make_planner(name: str, model: PushModel, cost: CostConfig, cfg: MPPIConfig):
    if name == "mppi":
        return MPPIPlanner(model, cost, cfg)
    if name == "shooting":
        return RandomShootingPlanner(model, cost, cfg)
    if name == "pytorch_mppi":
        return PytorchMPPIPlanner(model, cost, cfg)
    raise ValueError(f"planner {name!r} is not one of {list(PLANNERS)}")
