"""Episode generator: random pushes as in the GS-Dynamics data collection, recorded to MCAP
with ground truth (object vertices, per-camera object / robot masks, EE trajectory, pushes).

Deterministic for a seed: episode i of seed s uses the seed sequence (s, i) for both the
object randomization and the pushes, and time is simulation time.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

import gs_sim  # noqa: F401  (MUJOCO_GL)
from gs_common.push import push_direction
from gs_sim.episode_writer import EpisodeWriter
from gs_sim.push import PushGoal, PushRejected, validate_push
from gs_sim.rig_renderer import RigRenderer
from gs_sim.workcell import Workcell, WorkcellConfig


@dataclasses.dataclass(frozen=True)
class PushSampling:
    """Random push parameters: length in [min_length, max_length] [m]; the start lies
    ``clearance`` [m] outside the object (xy distance from the nearest vertex, on top of the
    pusher and object radii); speed [m/s]; height [m] (<= 0: workcell default)."""

    min_length: float = 0.10
    max_length: float = 0.20
    clearance: float = 0.01
    speed: float = 0.08
    height: float = 0.0
    max_tries: int = 200


def sample_push(
    wc: Workcell, rng: np.random.Generator, sampling: PushSampling = PushSampling()
) -> PushGoal:
    """A random valid push: pick an object vertex and a direction, start just outside the
    object on the line through that vertex, push 10-20 cm along the direction."""
    pts = wc.object_points()[:, :2].astype(np.float64)
    clear = wc.config.tool.radius + wc.config.obj.radius + sampling.clearance
    last_error = "no attempt"
    for _ in range(sampling.max_tries):
        target = pts[rng.integers(len(pts))]
        theta = rng.uniform(-math.pi, math.pi)
        direction = push_direction(theta)
        start = target.copy()
        for _ in range(100):  # walk back until the pusher clears the object
            if np.min(np.linalg.norm(pts - start, axis=1)) >= clear:
                break
            start = start - 0.005 * direction
        length = rng.uniform(sampling.min_length, sampling.max_length)
        end = start + length * direction
        try:
            goal = validate_push(
                start, end, sampling.height, sampling.speed, wc.config.workspace, wc.config.limits
            )
            wc.check_reachable(goal)
            return goal
        except PushRejected as exc:
            last_error = str(exc)
    raise RuntimeError(f"no valid push found in {sampling.max_tries} tries ({last_error})")


def episode_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def generate_episode(
    path: Path,
    config: WorkcellConfig,
    seed: int,
    index: int,
    num_pushes: int = 3,
    masks: bool = True,
    sampling: PushSampling = PushSampling(),
    progress=None,
) -> Path:
    """Simulate and record one episode to ``path`` (atomic). ``progress(frames)`` is called
    after every recorded frame."""
    eseed = episode_seed(seed, index)
    wc = Workcell(config, seed=eseed)
    rng = np.random.default_rng([seed, index, 1])
    renderer = RigRenderer(
        wc.model,
        wc.scene.camera_ids,
        config.rig.width_px,
        config.rig.height_px,
        wc.scene.flex_id,
        wc.scene.robot_geom_ids,
    )
    meta = {
        "object": config.obj.kind,
        "object_params": dataclasses.asdict(config.obj),
        "seed": seed,
        "episode_index": index,
        "episode_seed": eseed,
        "fps": config.fps,
        "num_pushes": num_pushes,
        "generator": "gs_sim.generate",
        "ee": "pusher tip (robot/ee_pose)",
        "workspace": dataclasses.asdict(config.workspace),
    }
    writer = EpisodeWriter(path, meta)
    try:
        writer.write_rig(0.0, wc.cameras)

        def record() -> None:
            frames = renderer.render_all(wc.data, masks=masks)
            pos, quat = wc.tip_pose()
            writer.write_frame(
                wc.time,
                wc.cameras,
                frames,
                wc.joint_names,
                wc.joint_positions(),
                wc.joint_velocities(),
                pos,
                quat,
                wc.object_points(),
            )
            if progress is not None:
                progress(1)

        record()
        for _ in range(num_pushes):
            goal = sample_push(wc, rng, sampling)
            traj = wc.start_push(goal)
            writer.write_push(
                wc.time + traj.push_start, goal.start[0], goal.start[1], goal.theta, goal.length
            )
            while wc.busy:
                wc.step_frame()
                record()
        return writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        renderer.close()
