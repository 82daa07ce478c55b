"""The MPC core (gs_mppi_planner.mpc) without ROS and without a model: a fake environment
(a point set that each push translates) and a fake planner (pushes along +x)."""

import dataclasses
import threading
import time

import numpy as np
import pytest

from gs_mppi_planner.costs import CostConfig
from gs_mppi_planner.mpc import (
    Environment,
    Goal,
    GoalLimits,
    MPCConfig,
    Observations,
    Outcome,
    PushRejected,
    Stop,
    check_goal,
    run_mpc,
    wait_until,
)
from gs_mppi_planner.mppi import PlanCanceled, PlanResult

ROPE = np.stack([np.linspace(-0.1, 0.1, 20), np.zeros(20), np.full(20, 0.008)], 1).astype(
    np.float32
)


class FakeModel:
    device = "cpu"

    def control_particles(self, points):
        if not np.isfinite(points).all():
            raise ValueError("state has non-finite points")
        return np.asarray(points, np.float32)[::2]


class FakePlanner:
    """Proposes a push along +x; calls ``progress`` twice per decision."""

    name = "fake"

    def __init__(self, fail: bool = False):
        self.model, self.cost_cfg, self.fail, self.seeds = FakeModel(), CostConfig(), fail, []

    def reset(self, seed=None):
        self.seeds.append(seed)

    def plan(self, problem, progress=None):
        if self.fail:
            raise RuntimeError("boom")
        push = np.array([[-0.15, 0.0, 0.0, 0.1]])
        states = np.repeat(problem.particles.numpy()[None], 3, 0)
        for it in range(2):
            if progress is not None and progress(it, 0.01, push, states):
                raise PlanCanceled(f"stopped at {it}")
        return PlanResult(
            pushes=push, cost=0.01, shape_cost=0.01, states=states, tool=np.zeros((3, 3)),
            push_start_step=[0], cost_per_push=[0.01], iterations=2, rollouts=8, seconds=0.0,
            history=[0.01, 0.01],
        )  # fmt: skip


class FakeEnv(Environment):
    """Each executed push moves the object by ``step`` [m] along x."""

    def __init__(self, step=0.025, stop_after_feedback=None, stop_in_push=None, reject=False):
        self.points = ROPE.copy()
        self.step, self.reject = step, reject
        self.stop_after_feedback, self.stop_in_push = stop_after_feedback, stop_in_push
        self.stop: Stop | None = None
        self.feedback, self.plans, self.pushes, self.targets = [], [], [], []

    def check_stop(self):
        if self.stop is not None:
            raise self.stop

    def observe(self):
        return self.points.copy()

    def execute_push(self, push):
        if self.reject:
            raise PushRejected("outside the workspace")
        self.pushes.append(push)
        if self.stop_in_push is not None:
            self.stop = self.stop_in_push
            self.check_stop()
        self.points[:, 0] += self.step

    def settled(self):
        return self.points.copy()

    def on_target(self, target):
        self.targets.append(target)

    def on_feedback(self, push_index, iteration, best_cost, pushes, states):
        self.feedback.append((push_index, iteration))
        if self.stop_after_feedback is not None:
            self.stop = self.stop_after_feedback

    def on_plan(self, push_index, plan):
        self.plans.append(push_index)


def translate(dx, **kw):
    return Goal(target_preset="translate", preset_x=dx, **kw)


def test_succeeds_when_the_cost_reaches_the_tolerance():
    env, planner = FakeEnv(), FakePlanner()
    r = run_mpc(env, planner, translate(0.05, tolerance=0.002), MPCConfig(seed=7))
    assert r.outcome == Outcome.SUCCEEDED, r.message
    assert r.pushes_executed == 2 and len(env.pushes) == 2 and planner.seeds == [7]
    assert len(r.costs) == 3 and r.costs[0] > r.costs[1] > r.costs[2] and r.costs[2] < 1e-6
    assert r.cost_per_push == r.costs[1:] and r.final_cost == r.costs[-1]
    assert env.feedback == [(0, 0), (0, 1), (1, 0), (1, 1)] and env.plans == [0, 1]
    np.testing.assert_allclose(env.targets[0][:, 0], ROPE[:, 0] + 0.05, atol=1e-6)
    assert len(r.latencies) == 2 and r.rollouts == [8, 8]


def test_push_budget_and_plan_only():
    r = run_mpc(FakeEnv(step=0.0), FakePlanner(), translate(0.05, max_pushes=3, tolerance=1e-3))
    assert r.outcome == Outcome.MAX_PUSHES and r.pushes_executed == 3 and len(r.costs) == 4
    env = FakeEnv()
    r = run_mpc(env, FakePlanner(), translate(0.05, execute=False))
    assert r.outcome == Outcome.SUCCEEDED and "planned 1 push" in r.message
    assert r.pushes_executed == 0 and not env.pushes and len(r.pushes) == 1
    assert r.final_cost == pytest.approx(0.01)


def test_metric_replaces_the_planner_cost_in_the_goal_check():
    r = run_mpc(FakeEnv(), FakePlanner(), translate(0.05, tolerance=0.5), metric=lambda p, t: 1.0)
    assert r.outcome == Outcome.MAX_PUSHES and r.errors == [1.0] * 9  # default 8 pushes


def test_cancel_during_planning_and_during_a_push():
    stop = Stop(Outcome.CANCELED, "canceled")
    env = FakeEnv(stop_after_feedback=stop)
    r = run_mpc(env, FakePlanner(), translate(0.05))
    assert r.outcome == Outcome.CANCELED and r.pushes_executed == 0 and env.feedback == [(0, 0)]
    env = FakeEnv(stop_in_push=Stop(Outcome.PREEMPTED, "preempted by a new goal"))
    r = run_mpc(env, FakePlanner(), translate(0.05))
    assert r.outcome == Outcome.PREEMPTED and "preempted" in r.message
    assert len(env.pushes) == 1 and r.pushes_executed == 0 and len(r.pushes) == 1


def test_failure_paths():
    class NoState(FakeEnv):
        def observe(self):
            raise Stop(Outcome.FAILED, "no observed state within 1.0 s")

    r = run_mpc(NoState(), FakePlanner(), translate(0.05))
    assert r.outcome == Outcome.FAILED and "no observed state" in r.message
    r = run_mpc(FakeEnv(reject=True), FakePlanner(), translate(0.05))
    assert r.outcome == Outcome.FAILED and "rejected" in r.message and r.rejected == 1
    cfg = MPCConfig(skip_rejected_pushes=True)  # the benchmark's rule: count it, re-plan
    r = run_mpc(FakeEnv(reject=True), FakePlanner(), translate(0.05, max_pushes=2), cfg)
    assert r.outcome == Outcome.MAX_PUSHES and r.rejected == 2 and r.pushes_executed == 0
    logged = []
    r = run_mpc(FakeEnv(), FakePlanner(fail=True), translate(0.05), log=logged.append)
    assert r.outcome == Outcome.FAILED and "planner error: boom" in r.message
    assert "RuntimeError" in logged[0]
    env = FakeEnv()
    env.points[3] = np.nan
    r = run_mpc(env, FakePlanner(), Goal(target_points=ROPE.copy()))
    assert r.outcome == Outcome.FAILED and "unusable" in r.message


@pytest.mark.parametrize(
    "goal, text",
    [
        (Goal(target_preset="circle"), "target_preset = 'circle'"),
        (Goal(target_preset="straight_line", preset_length=1e308), "preset_length = 1e+308"),
        (Goal(target_preset="translate", preset_x=float("nan")), "preset_x = nan"),
        (Goal(target_preset="straight_line", preset_x=1.0), "unreachable"),
        (Goal(target_preset="rotate", tolerance=float("inf")), "tolerance = inf"),
        (Goal(target_preset="rotate", max_pushes=101), "max_pushes = 101"),
        (Goal(target_preset="relocate", preset_yaw=float("inf")), "preset_yaw = inf"),
        (Goal(target_preset="relocate", preset_x=0.5, preset_y=0.6), "workspace diagonal"),
        (Goal(target_preset="translate", preset_y=-0.9), "workspace diagonal"),
        (Goal(), "empty"),
        (Goal(target_points=ROPE, target_frame="camera"), "frame_id"),
        (Goal(target_points=ROPE + [1.0, 0, 0]), "unreachable"),
        (Goal(target_error="bad fields"), "target_cloud: bad fields"),
    ],
)
def test_invalid_goals_name_the_value(goal, text):
    with pytest.raises(Stop) as exc:
        check_goal(goal, GoalLimits())
    assert exc.value.outcome == Outcome.INVALID_GOAL and text in exc.value.message
    r = run_mpc(FakeEnv(), FakePlanner(), goal)  # the loop checks too, before observing
    assert r.outcome == Outcome.INVALID_GOAL and text in r.message


def test_relocate_goal_moves_the_observed_object():
    goal = Goal(target_preset="relocate", preset_x=0.03, preset_y=0.01, preset_yaw=0.5)
    assert check_goal(goal, GoalLimits())[0] == GoalLimits().default_max_pushes
    env = FakeEnv()
    r = run_mpc(env, FakePlanner(), dataclasses.replace(goal, execute=False))
    assert r.outcome == Outcome.SUCCEEDED, r.message
    t = env.targets[0].astype(np.float64)
    np.testing.assert_allclose(t.mean(0) - ROPE.mean(0), [0.03, 0.01, 0.0], atol=1e-6)
    # beyond the workspace (though within the diagonal): the built target is checked
    far = Goal(target_preset="relocate", preset_x=0.3, preset_yaw=0.5)
    r = run_mpc(FakeEnv(), FakePlanner(), far)
    assert r.outcome == Outcome.INVALID_GOAL and "unreachable" in r.message


def test_goal_defaults():
    limits = GoalLimits(default_max_pushes=5, default_tolerance=0.02)
    assert check_goal(Goal(target_preset="rotate"), limits) == (5, 0.02)
    assert check_goal(Goal(target_preset="rotate", max_pushes=3, tolerance=0.1), limits) == (
        3,
        0.1,
    )


def test_wait_until_returns_after_what_it_stopped_has_ended():
    """A canceled goal ends only once the push it canceled has ended (#11 item 7)."""
    ended = threading.Event()
    canceled_at = []

    def cancel():  # the robot takes 0.3 s to stop after the cancel request
        canceled_at.append(time.monotonic())
        threading.Timer(0.3, ended.set).start()

    def check_stop():
        raise Stop(Outcome.CANCELED, "canceled")

    with pytest.raises(Stop):
        wait_until(ended.is_set, 10.0, check_stop, "push", on_stop=cancel, poll=0.01)
    assert ended.is_set() and time.monotonic() - canceled_at[0] >= 0.29
    with pytest.raises(Stop, match="push: no answer within 0 s"):
        wait_until(lambda: False, 0.05, lambda: None, "push", poll=0.01)


def test_observations_wait_for_a_newer_state_with_a_bound():
    obs = Observations("tracking/particles")
    threading.Timer(0.1, lambda: obs.put(ROPE, "t1")).start()
    seq, pts, stamp = obs.wait_newer(0, 5.0, lambda: None)
    assert seq == 1 and stamp == "t1" and pts is ROPE and obs.latest_seq() == 1
    obs.error = "frame_id 'camera' != 'world'"
    with pytest.raises(Stop) as exc:
        obs.wait_newer(1, 0.1, lambda: None)
    assert exc.value.outcome == Outcome.FAILED and exc.value.message == (
        "no observed state on tracking/particles within 0.1 s (frame_id 'camera' != 'world')"
    )
    with pytest.raises(Stop, match="canceled"):
        obs.wait_newer(1, 5.0, lambda: (_ for _ in ()).throw(Stop(Outcome.CANCELED, "canceled")))


def test_observations_are_moved_to_the_models_height():
    from gs_mppi_planner.mpc import at_height

    top = np.array([[0.0, 0.0, 0.012], [0.1, 0.0, 0.014], [0.2, 0.0, 0.010]], np.float32)
    moved = at_height(top, 0.008)
    assert np.median(moved[:, 2]) == pytest.approx(0.008, abs=1e-7)
    assert np.allclose(moved[:, :2], top[:, :2]) and np.allclose(
        np.diff(moved[:, 2]), np.diff(top[:, 2])
    )
    assert at_height(top, -1.0) is top  # off


def test_goal_check_reads_a_band_cloud_like_the_vertices_it_covers(curved_rope):
    """A segmented rope is a band of surface points as wide as the rope: the goal check
    reads it as its centreline, within 1.5 mm (or 10 %) of the task error of the vertices
    (the Chamfer distance between the curves), from nearly straight to bent by 4 cm."""
    from gs_common.pointsets import chamfer_distance, curve_chamfer
    from gs_mppi_planner.mpc import dense_chamfer
    from gs_mppi_planner.targets import straight_line

    rng = np.random.default_rng(0)
    line = straight_line(0.0, 0.0, 0.0, 0.4, 0.008, 64).astype(np.float64)
    for sag in (0.005, 0.01, 0.03, 0.04):  # the fixture: 4 cm
        rope = curved_rope.astype(np.float64)
        rope[:, 1] = (rope[:, 1] + 0.04) * sag / 0.04
        seg = np.diff(rope, axis=0)
        t = rng.uniform(0, 1, (len(seg), 60))
        centre = (rope[:-1, None] + seg[:, None] * t[..., None]).reshape(-1, 3)
        band = centre + rng.uniform(-8e-3, 8e-3, centre.shape)
        truth = curve_chamfer(rope, line)
        tol = max(1.5e-3, 0.1 * truth)
        assert dense_chamfer(rope, line) == pytest.approx(truth, abs=tol), sag  # 1.4 cm vertices
        assert dense_chamfer(band, line) == pytest.approx(truth, abs=tol), sag
    assert float(chamfer_distance(band, line)) < truth - 1.5e-3  # all points: reads low
