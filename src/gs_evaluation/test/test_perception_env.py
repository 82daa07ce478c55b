"""Planning on perception: one tiny closed-loop episode observed through cameras ->
segmentation -> tracking, the bench's side-by-side summary, and the planning cost under
missing points. Tiny configuration (160 x 120 cameras, 2 tracker iterations, 40
particles, 1 fast push) to stay cheap; the real comparison is ``gs-plan bench --observe
perception oracle`` (README)."""

import sys

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from gs_evaluation.perception_env import PerceptionConfig
from gs_evaluation.plan_bench import observation_gap, summarize, summary_markdown
from gs_evaluation.plan_episode import EpisodeConfig, EpisodeResult, run_episode
from gs_mppi_planner.costs import CostConfig, shape_cost
from gs_mppi_planner.mppi import MPPIConfig, MPPIPlanner
from gs_mppi_planner.problem import make_problem
from gs_mppi_planner.targets import straight_line

TINY = PerceptionConfig(
    image_width=160,
    image_height=120,
    robot_masks="sim",  # the self-model costs ~0.05 s per frame more; the CLI's default
    iterations=2,
    first_frame_iterations=10,
    adaptive=False,
    particles=40,
    init_frames=1,
    state="tracking",
)


def _spy_on_ground_truth(monkeypatch) -> list[str]:
    """The names of the functions that read the simulator's object vertices (filled as the
    episode runs)."""
    from gs_sim.workcell import Workcell

    callers = []
    real = Workcell.object_points

    def spy(self):
        callers.append(sys._getframe(1).f_code.co_name)
        return real(self)

    monkeypatch.setattr(Workcell, "object_points", spy)
    return callers


def test_perception_episode_reads_no_ground_truth(model, monkeypatch):
    """The planner's state comes from the cameras: the simulator's object vertices are read
    only to build the task's target and to score; the true error still falls."""
    callers = _spy_on_ground_truth(monkeypatch)
    planner = MPPIPlanner(model, CostConfig(), MPPIConfig(num_samples=16, iterations=2))
    cfg = EpisodeConfig(max_pushes=1, tolerance=1e-4, push_speed=0.15, settle_max_frames=3)
    r = run_episode(planner, 1003, cfg, observe="perception", perception=TINY)
    assert set(callers) <= {"run_episode", "_score"}, callers
    assert callers.count("_score") == 2  # before the push and after it
    assert r.observe == "perception" and len(r.errors) == len(r.perceived) == 2
    st = r.perception
    # every simulated frame was perceived: the initial one, the push's, the settling ones
    assert st["frames"] > 10 and st["settle_frames"][0] == 3 and st["particles"] == 40
    assert st["seconds"]["track"] > 0 and st["robot_masks"] == "sim"
    # the perceived error agrees with the truth (measured: 44.2 vs 43.4 mm at the start)
    assert abs(r.perceived[0] - r.errors[0]) < 0.008
    assert r.errors[-1] < r.errors[0] - 0.005  # measured: 44 -> ~28 mm on the true vertices


def test_cloud_episode_perceives_only_at_rest_and_reads_no_ground_truth(model, monkeypatch):
    """state cloud (the stack's default): the segmented cloud of the first frame and of the
    frames after the push is the state; the push's frames are not perceived, nothing is
    tracked, the simulator's vertices only build the target and score."""
    import dataclasses

    callers = _spy_on_ground_truth(monkeypatch)
    planner = MPPIPlanner(model, CostConfig(), MPPIConfig(num_samples=16, iterations=2))
    cfg = EpisodeConfig(max_pushes=1, tolerance=1e-4, push_speed=0.15, settle_max_frames=3)
    cloud = dataclasses.replace(TINY, state="cloud")
    r = run_episode(planner, 1003, cfg, observe="perception", perception=cloud)
    assert set(callers) <= {"run_episode", "_score"}, callers
    st = r.perception
    assert st["frames"] == 1 + st["settle_frames"][0] and st["seconds"]["track"] == 0
    assert st["particles"] > 100  # a fused cloud, not 40 tracked particles
    assert abs(r.perceived[0] - r.errors[0]) < 0.008
    assert r.errors[-1] < r.errors[0] - 0.005


def test_perception_config_is_validated():
    with pytest.raises(ValueError, match="robot_masks"):
        PerceptionConfig(robot_masks="gt").validate()
    with pytest.raises(ValueError, match="particles"):
        PerceptionConfig(particles=1).validate()
    assert "SIMULATOR" in TINY.describe() and "robot self-model" in PerceptionConfig().describe()
    with pytest.raises(ValueError, match="observe"):
        run_episode(None, 0, observe="groundtruth")


def _result(observe: str, seed: int, final: float, perceived: float) -> EpisodeResult:
    return EpisodeResult(
        "mppi", seed, [0.04, final], [0.04, final], [[0, 0, 0, 0.1]], [0.5], [0.01], [32], 0,
        final <= 0.015, np.zeros((1, 3)), np.zeros((1, 3)), observe, [0.04, perceived],
    )  # fmt: skip


def test_side_by_side_summary_reports_the_gap():
    oracle = [_result("oracle", s, e, e) for s, e in ((1, 0.008), (2, 0.012), (3, 0.020))]
    perc = [_result("perception", s, e, 0.011) for s, e in ((1, 0.012), (2, 0.016), (3, 0.030))]
    by = {
        "oracle": summarize(oracle, ["mppi"], 0.015, 1),
        "perception": summarize(perc, ["mppi"], 0.015, 1),
    }
    o, p = by["oracle"]["mppi"], by["perception"]["mppi"]
    assert o["success_rate_10mm"] == pytest.approx(1 / 3)
    assert o["success_rate_15mm"] == pytest.approx(2 / 3) and p["success_rate_15mm"] == 1 / 3
    assert p["final_error_median_mm"] == pytest.approx(16.0)
    assert p["final_error_iqr_mm"] == pytest.approx([14.0, 23.0])
    assert p["perceived_final_error_median_mm"] == pytest.approx(11.0)
    gap = observation_gap(by)["mppi"]
    assert gap["success_15mm_pp"] == pytest.approx(-100 / 3)
    assert gap["final_error_median_mm"] == pytest.approx(4.0)
    meta = {
        "task": "rope_straighten", "seeds": "1-3", "max_pushes": 1, "budget": 32,
        "num_samples": 16, "iterations": 2, "threshold": 0.015,
        "perception_description": TINY.describe(),
    }  # fmt: skip
    text = summary_markdown({**by, "gap": observation_gap(by)}, meta)
    assert "**Observation: oracle**" in text and "**Observation: perception**" in text
    assert "Gap perception - oracle, MPPI (ours): success @ 10 mm -33 pp" in text


def test_chamfer_cost_is_robust_to_missing_points():
    """Perception loses points (occlusion, dropout): with scattered missing points the
    chamfer cost of a state on the target stays within 1.5 mm of the complete state's;
    a missing end costs about what is missing (chamfer), while the ``matched`` cost (one
    to one assignment) is not robust to it: use chamfer (the default) on perception."""
    target = straight_line(0.0, 0.0, 0.3, 0.35, 0.008, 300)
    rng = np.random.default_rng(0)

    def cost(obs, kind):
        pr = make_problem(obs[::3], obs, target)
        return float(shape_cost(pr.particles[None], pr, kind)[0])

    noisy = target + rng.normal(0, 0.001, target.shape)
    full = cost(noisy, "chamfer")
    for frac in (0.3, 0.6):
        keep = rng.random(len(target)) >= frac
        assert abs(cost(noisy[keep], "chamfer") - full) < 0.0015
    end = target[:240]  # the last 20 % (7 cm) unseen
    assert cost(end, "chamfer") < 0.015
    assert cost(end, "matched") > 3 * cost(end, "chamfer")


class _FakeWorkcell:
    def __init__(self):
        self.steps = 0

    def step_frame(self):
        self.steps += 1

    def object_points(self):
        return np.zeros((4, 3), np.float32)


class _FakePerception:
    """Particles that jitter by ``jitter`` [m] per frame and a silhouette motion schedule."""

    def __init__(self, motions, jitter):
        self.cfg, self.motions = PerceptionConfig(state="tracking"), list(motions)
        self.jitter = jitter
        self.frames, self.motion = 0, float("nan")

    def frame(self):
        self.motion = self.motions[min(self.frames, len(self.motions) - 1)]
        self.frames += 1

    def particles(self):
        return np.full((5, 3), self.jitter * (self.frames % 2), np.float32)


@pytest.mark.parametrize(
    ("motions", "jitter", "frames"),
    [
        ([0.2, 0.1, 0.05, 0.005, 0.004], 0.002, 5),  # silhouette static twice after moving
        ([0.2, 0.1, 0.05, 0.005, 0.02, 0.005, 0.004], 0.002, 7),  # not two in a row: wait
        ([0.2] * 20, 0.002, 10),  # never at rest: bounded by settle_max_frames
        ([0.2] * 20, 0.0001, 3),  # particles still (below 0.5 mm/frame): settle_min_frames
    ],
)
def test_settled_waits_for_the_perceived_object(motions, jitter, frames):
    from gs_evaluation.perception_env import PerceptionEnvironment

    wc, fake = _FakeWorkcell(), _FakePerception(motions, jitter)
    env = PerceptionEnvironment(wc, EpisodeConfig(settle_max_frames=10), fake, np.zeros((4, 3)))
    state = env.settled()
    assert wc.steps == fake.frames == frames and env.settle_frames == [frames]
    assert state.shape == (5, 3) and env.scored == [0.0]


def test_cli_says_which_observation_is_used(capsys):
    from gs_evaluation.plan_cli import _announce, main

    assert main(["bench", "--observe", "perception", "--camera-size", "12"]) == 2
    assert "--camera-size '12' is not WxH" in capsys.readouterr().err
    _announce(["oracle", "perception"], TINY, "matched")
    out = capsys.readouterr().out
    assert "observation: ORACLE" in out and "observation: perception: 160x120" in out
    assert "SIMULATOR's robot mask" in out and "matched cost" in out
