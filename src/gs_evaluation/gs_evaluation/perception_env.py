"""Planning on perception: the MPC loop's environment in the in-process simulator whose
observed state comes only from what the cameras see.

Every simulated frame of the episode (the initial frames, every frame of every push, the
settling frames) goes through the real stack's cores, in process and without ROS:

1. the simulator's cameras are rendered (``gs_sim.rig_renderer``: colour + metric depth,
   optionally the RealSense-like depth noise);
2. robot masks: ``robot_model`` (default) renders the robot self-model
   (``gs_robot_model.runtime.RobotMaskRenderer``) at the arm's joint angles, as the
   ``robot_model`` node does; ``sim`` uses the simulator's rendered robot mask (an oracle of
   the robot only, announced in the output);
3. object masks from the segmentation core (``gs_segmentation.pipeline.ObjectPerception``
   with the geometric backend, the ``segmentation`` node's default);
4. the tracking core (``gs_tracking.session.TrackingSession``, the one the ``tracking`` node
   runs) tracks the frame, with the pusher tip from the robot's forward kinematics.

The planner's observed state is the tracked control particles. No ground truth of the
object is read on this path except to SCORE it: :attr:`PerceptionEnvironment.scored` keeps
the task error of the simulator's true vertices next to each observation the planner got.
The robot's joint angles (proprioception) are read from the simulator as the real stack
reads ``robot/joint_states``.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from gs_evaluation.plan_episode import EpisodeConfig, SimEnvironment
from gs_mppi_planner.mpc import Outcome, Stop
from gs_tracking.tracker import ROPE_SETTINGS

ROBOT_MASK_SOURCES = ("robot_model", "sim")
STATES = ("cloud", "tracking")  # the planner's observed state (its state_source)
OBSERVATIONS = ("oracle", "perception")


@dataclasses.dataclass(frozen=True)
class PerceptionConfig:
    """Cameras and perception of a perception episode.

    image_width / image_height [px]: every camera (config/sim.yaml: 320 x 240);
    depth_noise: RealSense-like depth noise and dropout (gs_sim.depth_noise);
    robot_masks: ``robot_model`` (self-model, the stack's default) or ``sim`` (the
    simulator's rendered robot mask: an oracle of the robot, never of the object);
    iterations / first_frame_iterations: tracker budget (the tracking node's defaults);
    adaptive / max_iterations / velocity_gate: by default the tracker's rope settings
    (gs_tracking.tracker.ROPE_SETTINGS: fewer iterations on static frames, up to
    max_iterations on fast motion, no velocity extrapolation on static frames); each task
    sets its own (gs_evaluation.plan_tasks, :func:`task_perception`: the default tracker
    for cloth and the toy);
    scale: tracking resolution / camera resolution; voxel_size [m]: first-frame fusion;
    particles / particle_spacing [m]: control particles tracked and handed to the planner;
    init_frames: frames tracked before the first decision (the first one initializes);
    settle_threshold [m] / settle_motion: the tracked object is at rest when no particle
    moved more than settle_threshold in a frame, or when the object's silhouette changed by
    less than settle_motion (fraction of its pixels, the tracker's ``motion``; 0.01 = the
    tracker's own "static") in two consecutive frames; settle_min_frames: at least this
    many frames tracked after a push (the tracker catches up with the last contact before
    the state is read).
    """

    image_width: int = 320
    image_height: int = 240
    depth_noise: bool = False
    robot_masks: str = "robot_model"
    iterations: int = 10
    first_frame_iterations: int = 100
    adaptive: bool = ROPE_SETTINGS["adaptive"]
    max_iterations: int = 30
    velocity_gate: float = ROPE_SETTINGS["velocity_gate"]
    scale: float = 0.5
    voxel_size: float = 0.004
    particles: int = 150
    particle_spacing: float = 0.005
    init_frames: int = 3
    settle_threshold: float = 5e-4
    settle_motion: float = 0.01
    settle_min_frames: int = 3
    device: str = "cpu"
    state: str = "cloud"

    def validate(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state = {self.state!r} is not one of {list(STATES)}")
        if self.robot_masks not in ROBOT_MASK_SOURCES:
            raise ValueError(
                f"robot_masks = {self.robot_masks!r} is not one of {list(ROBOT_MASK_SOURCES)}"
            )
        for name in ("image_width", "image_height", "iterations", "first_frame_iterations"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} = {getattr(self, name)} must be >= 1")
        if self.particles < 2:
            raise ValueError(f"particles = {self.particles} must be >= 2 (the planner's state)")
        if self.init_frames < 1:
            raise ValueError(f"init_frames = {self.init_frames} must be >= 1")
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"scale = {self.scale} must be in (0, 1]")
        if not self.settle_threshold > 0:
            raise ValueError(f"settle_threshold = {self.settle_threshold} must be > 0")

    def sim_settings(self) -> dict:
        """The simulator settings this perception needs (camera resolution)."""
        return {"image_width": self.image_width, "image_height": self.image_height}

    def describe(self) -> str:
        robot = (
            "robot self-model (gs_robot_model)"
            if self.robot_masks == "robot_model"
            else "the SIMULATOR's robot mask (oracle of the robot, not of the object)"
        )
        tracker = "rope settings" if self.adaptive else "default tracker"
        state = (
            "segmentation's fused object cloud (voxel "
            f"{self.voxel_size} m) of the frames after a push as the observed state"
            if self.state == "cloud"
            else f"tracking (TrackingSession, {tracker}, {self.iterations} iterations, scale "
            f"{self.scale}, voxel {self.voxel_size} m) of every frame, {self.particles} tracked "
            "particles as the observed state"
        )
        return (
            f"perception: {self.image_width}x{self.image_height} cameras"
            f"{' with depth noise' if self.depth_noise else ''}, geometric segmentation, "
            f"robot masks from {robot}, {state}; ground truth only scores"
        )


def task_perception(task, base: PerceptionConfig | None = None) -> PerceptionConfig:
    """``base`` (default settings when None: the command line's cameras, robot masks and
    tracker budget) with the task's own perception settings (``task.perception``, e.g. the
    tracker settings and resolution of its object), validated."""
    cfg = dataclasses.replace(base or PerceptionConfig(), **task.perception)
    cfg.validate()
    return cfg


class CameraPerception:
    """Cameras -> segmentation -> tracking for one workcell, one frame at a time.

    ``frame()`` renders the workcell's current state and tracks it; ``particles()`` is the
    tracked state (M, 3) float32 [m, world]. Times per stage are summed in ``seconds``.
    """

    def __init__(self, wc, cfg: PerceptionConfig, seed: int = 0):
        from gs_segmentation.pipeline import ObjectPerception, make_backend
        from gs_sim.depth_noise import DepthNoise
        from gs_sim.rig_renderer import RigRenderer
        from gs_tracking.session import TrackingSession
        from gs_tracking.tracker import TrackerConfig

        cfg.validate()
        self.wc, self.cfg = wc, cfg
        cams = wc.cameras
        if any(
            (c.intrinsics.width, c.intrinsics.height) != (cfg.image_width, cfg.image_height)
            for c in cams
        ):
            raise ValueError(
                "the workcell's cameras are not at the perception's resolution "
                f"{cfg.image_width}x{cfg.image_height}: build it with cfg.sim_settings()"
            )
        self.intrinsics = [c.intrinsics for c in cams]
        self.poses = np.stack([np.asarray(c.world_from_camera, np.float64) for c in cams])
        self.renderer = RigRenderer(
            wc.model,
            wc.scene.camera_ids,
            cfg.image_width,
            cfg.image_height,
            wc.scene.flex_id,
            wc.scene.robot_geom_ids,
        )
        self.noise = DepthNoise() if cfg.depth_noise else None
        self.rng = np.random.default_rng(seed + 7919)
        self.segmenter = ObjectPerception(make_backend("geometric"), voxel_size=cfg.voxel_size)
        self.robot = None
        if cfg.robot_masks == "robot_model":
            from gs_robot_model.checkpoint import load_model
            from gs_robot_model.cli import default_model_dir
            from gs_robot_model.runtime import RobotMaskRenderer, base_transform

            model, _ = load_model(default_model_dir())
            bx, by = wc.config.arm_base
            self.robot = RobotMaskRenderer(model, base_transform([bx, by, 0.0], 0.0))
            names = list(model.robot.joint_names)
            self.joint_index = [wc.joint_names.index(j) for j in names]
        self.cloud = np.zeros((0, 3), np.float32)  # state "cloud": the last fused cloud
        self.session = (
            None
            if cfg.state == "cloud"
            else TrackingSession(
                self.intrinsics,
                self.poses,
                TrackerConfig(
                    iterations=cfg.iterations,
                    first_frame_iterations=cfg.first_frame_iterations,
                    adaptive=cfg.adaptive,
                    max_iterations=max(cfg.max_iterations, cfg.iterations),
                    velocity_gate=cfg.velocity_gate,
                ),
                cfg.scale,
                cfg.voxel_size,
                cfg.particles,
                cfg.particle_spacing,
                cfg.device,
            )
        )
        self.frames = 0
        self.motion = float("nan")  # silhouette change of the last frame (tracker's motion)
        self.seconds = {"render": 0.0, "robot_mask": 0.0, "segment": 0.0, "track": 0.0}
        self.messages: list[str] = []

    def close(self) -> None:
        self.renderer.close()

    def _robot_masks(self, frames) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Robot masks per camera and the pusher tip (3,) [m] from proprioception."""
        if self.robot is None:  # the simulator's robot mask (announced oracle of the robot)
            return [f.robot_mask for f in frames], self.wc.tip_pose()[0]
        q = self.wc.joint_positions()[self.joint_index]
        self.robot.set_joints(q)
        masks = [self.robot.mask(p, k) for p, k in zip(self.poses, self.intrinsics)]
        return masks, self.robot.tip_pose(q)[:3, 3]

    def frame(self) -> None:
        """Render, segment and track the workcell's current frame."""
        from gs_segmentation.views import RGBDView
        from gs_tracking.session import FrameImages

        t0 = time.perf_counter()
        frames = self.renderer.render_all(self.wc.data, masks=self.robot is None)
        depth = [f.depth for f in frames]
        if self.noise is not None:
            depth = [self.noise.apply(d, self.rng) for d in depth]
        t1 = time.perf_counter()
        robot, tip = self._robot_masks(frames)
        t2 = time.perf_counter()
        views = [
            RGBDView(f.rgb, d, k, p, r)
            for f, d, k, p, r in zip(frames, depth, self.intrinsics, self.poses, robot)
        ]
        seg = self.segmenter.process(views, fuse=self.session is None)
        t3 = t4 = time.perf_counter()
        if self.session is None:  # the cloud is the state; nothing is tracked
            self.cloud = np.asarray(seg.points, np.float32)
        else:
            stats = self.session.step(
                FrameImages([f.rgb for f in frames], depth, seg.masks, robot),
                None if not self.session.initialized else np.asarray(tip, np.float64),
            )
            self.motion = float(stats.motion)
            t4 = time.perf_counter()
        for key, dt in zip(self.seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            self.seconds[key] += dt
        self.frames += 1

    def particles(self) -> np.ndarray:
        """The observed state (P, 3) [m]: the tracked particles, or the last fused cloud."""
        return self.cloud if self.session is None else self.session.particle_positions()


class PerceptionEnvironment(SimEnvironment):
    """:class:`SimEnvironment` whose observations are the tracked particles.

    Every frame the simulator steps is also perceived (tracking needs frame-to-frame
    continuity). ``target``: the task's target (M, 3) [m], used only to score the true
    state: ``scored`` holds the ground-truth task error next to each state the planner
    observed (before the first push and after each push, rejected ones included).
    """

    def __init__(
        self,
        wc,
        cfg: EpisodeConfig,
        perception: CameraPerception,
        target: np.ndarray,
        log=None,
        label: str = "",
        metric: str = "curve",
    ):
        super().__init__(wc, cfg, log, label, target, metric)
        self.perception = perception
        self.settle_frames: list[int] = []

    def _step(self) -> None:
        self.wc.step_frame()
        self.perception.frame()

    @property
    def _cloud(self) -> bool:
        return self.perception.cfg.state == "cloud"

    def _state(self) -> np.ndarray:
        pts = self.perception.particles()
        finite = np.isfinite(pts).all(1)
        if finite.sum() < 2:
            n = int(finite.sum())
            what = "segmentation" if self._cloud else "tracking"
            raise Stop(Outcome.FAILED, f"{what} lost the object ({n} finite points)")
        return pts[finite]

    def observe(self) -> np.ndarray:
        p = self.perception
        try:
            if p.frames == 0:
                p.frame()  # the first frame initializes the tracker
            while p.frames < p.cfg.init_frames:
                self._step()
        except ValueError as exc:  # e.g. EmptyCloudError: nothing segmented
            raise Stop(Outcome.FAILED, f"perception found no object: {exc}") from exc
        self._score()
        return self._state()

    def _frame(self) -> None:
        if self._cloud:  # the cloud is read once the object is at rest
            self.wc.step_frame()
        else:
            self._step()  # tracking: every frame of the push is perceived

    def settled(self) -> np.ndarray:
        """Frames until the PERCEIVED object is at rest (see PerceptionConfig; bounded by
        settle_max_frames, at least settle_min_frames): the planner re-plans on the
        settled, tracked state."""
        pc = self.perception.cfg
        if self._cloud:
            return self._settled_cloud()
        prev = self.perception.particles()
        n, still = 0, 0
        for n in range(1, self.cfg.settle_max_frames + 1):
            self._step()
            cur = self.perception.particles()
            moved = float(np.abs(cur - prev).max())
            prev = cur
            still = still + 1 if self.perception.motion < pc.settle_motion else 0
            if n >= pc.settle_min_frames and (moved < pc.settle_threshold or still >= 2):
                break
        self.settle_frames.append(n)
        self._score()
        return self._state()

    def _settled_cloud(self) -> np.ndarray:
        """Frames until two consecutive segmented clouds are at rest, the planner node's rule
        (gs_mppi_planner.mpc.at_rest with its settle_threshold; at least settle_min_frames,
        at most settle_max_frames)."""
        from gs_common.settings import defaults
        from gs_mppi_planner.mpc import at_rest
        from gs_mppi_planner.settings import SETTINGS

        threshold = defaults(SETTINGS)["settle_threshold"]
        prev = None
        for n in range(1, self.cfg.settle_max_frames + 1):
            self._step()
            cur = self.perception.particles()
            rest = prev is not None and at_rest(prev, cur, threshold)
            prev = cur
            if n >= self.perception.cfg.settle_min_frames and rest:
                break
        self.settle_frames.append(n)
        self._score()
        return self._state()
