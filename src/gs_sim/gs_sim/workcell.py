"""The simulated workcell: MuJoCo physics of table + deformable object + kinematically driven
xArm7 pusher, advanced one camera frame at a time. ROS-free; the node, the episode generator
and the benchmarks drive it.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from gs_common.workcell import ARM_BASE
from gs_sim.camera_rig import RigCamera, RigLayout, corner_rig
from gs_sim.ik import PusherIK
from gs_sim.objects import ROPE_SHAPES, ObjectParams, default_params, sample_object
from gs_sim.push import PushGoal, PushLimits, PushRejected, TipTrajectory, push_trajectory
from gs_sim.robot_xarm import HOME_QPOS, JOINT_NAMES, PusherTool
from gs_sim.scene import SceneConfig, SceneModel, Workspace, build_scene


@dataclasses.dataclass(frozen=True)
class WorkcellConfig:
    """Everything needed to build and run a workcell.

    fps: camera / control frame rate [Hz]; timestep: physics step [s];
    settle_time: physics time [s] to let the object come to rest after reset;
    randomize: seeded randomization of object shape and pose; rope_shape: the rope's
    initial curve (gs_sim.objects.ROPE_SHAPES: random, u, s).
    """

    obj: ObjectParams = dataclasses.field(default_factory=lambda: default_params("rope"))
    rig: RigLayout = dataclasses.field(default_factory=RigLayout)
    workspace: Workspace = dataclasses.field(default_factory=Workspace)
    limits: PushLimits = dataclasses.field(default_factory=PushLimits)
    tool: PusherTool = dataclasses.field(default_factory=PusherTool)
    arm_base: tuple[float, float] = ARM_BASE
    fps: float = 15.0
    timestep: float = 0.002
    settle_time: float = 0.5
    randomize: bool = True
    rope_shape: str = "random"

    def validate(self) -> None:
        self.obj.validate()
        self.rig.validate()
        self.workspace.validate()
        if self.rope_shape not in ROPE_SHAPES:
            raise ValueError(f"rope_shape={self.rope_shape!r} is not one of {ROPE_SHAPES}")
        if not 1.0 <= self.fps <= 120.0:
            raise ValueError(f"fps={self.fps} must be in [1, 120]")
        if not 1e-4 <= self.timestep <= 0.01:
            raise ValueError(f"timestep={self.timestep} s must be in [1e-4, 0.01]")
        if self.timestep > 0.5 / self.fps:
            raise ValueError(f"timestep={self.timestep} s must be < half a frame (fps={self.fps})")


class Workcell:
    """MuJoCo model + data of the workcell and the push executor.

    Call :meth:`step_frame` at the camera rate; :meth:`start_push` queues one push (after
    validating it), whose progress :meth:`push_progress` reports until :attr:`busy` is False.
    """

    def __init__(self, config: WorkcellConfig = WorkcellConfig(), seed: int = 0) -> None:
        config.validate()
        self.config = config
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.cameras: list[RigCamera] = corner_rig(config.rig)
        obj = sample_object(config.obj, rng, config.randomize, config.rope_shape)
        self.scene: SceneModel = build_scene(
            SceneConfig(
                cameras=tuple(self.cameras),
                obj=obj,
                workspace=config.workspace,
                arm_base=config.arm_base,
                tool=config.tool,
                timestep=config.timestep,
            )
        )
        self.model = self.scene.model
        self.data = mujoco.MjData(self.model)
        self.ik = PusherIK(
            self.model,
            self.scene.arm_qpos_adr,
            self.scene.arm_dof_adr,
            self.scene.tip_site,
            np.array(HOME_QPOS),
        )
        bx, by = config.arm_base
        self.rest_tip = np.array([bx + 0.18, by, 0.25])
        rest = self.ik.solve(self.rest_tip)
        if not rest.ok:
            raise RuntimeError(f"rest pose {self.rest_tip.tolist()} is unreachable")
        self.rest_qpos = rest.qpos
        # whole physics steps per frame; the step is shortened so a frame is exactly 1/fps
        self.substeps = max(1, int(np.ceil(1.0 / (config.fps * config.timestep) - 1e-9)))
        self.frame_dt = 1.0 / config.fps
        self.model.opt.timestep = self.frame_dt / self.substeps
        self._q = self.rest_qpos.copy()
        self._traj: TipTrajectory | None = None
        self._traj_t = 0.0
        self._goal: PushGoal | None = None
        self.frame_index = 0
        self.reset_state()

    # --- state ------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Initial configuration, then let the object settle (arm at rest)."""
        mujoco.mj_resetData(self.model, self.data)
        self._q = self.rest_qpos.copy()
        self._set_arm(self._q, np.zeros(7))
        mujoco.mj_forward(self.model, self.data)
        for _ in range(round(self.config.settle_time / self.config.timestep)):
            self._set_arm(self._q, np.zeros(7))
            mujoco.mj_step(self.model, self.data)
        self.data.time = 0.0
        self._set_arm(self._q, np.zeros(7))
        mujoco.mj_forward(self.model, self.data)
        self._traj = None
        self.frame_index = 0

    @property
    def time(self) -> float:
        """Simulation time [s] since reset (after settling)."""
        return float(self.data.time)

    @property
    def joint_names(self) -> list[str]:
        return list(JOINT_NAMES)

    def joint_positions(self) -> np.ndarray:
        """(7,) arm joint angles [rad]."""
        return self.data.qpos[self.scene.arm_qpos_adr].copy()

    def joint_velocities(self) -> np.ndarray:
        """(7,) arm joint velocities [rad/s]."""
        return self.data.qvel[self.scene.arm_dof_adr].copy()

    def tip_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Pusher tip position (3,) [m] and orientation quaternion (4,) wxyz, world frame."""
        pos = self.data.site_xpos[self.scene.tip_site].copy()
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, self.data.site_xmat[self.scene.tip_site])
        return pos, quat

    def object_points(self) -> np.ndarray:
        """(V, 3) float32 object (flex) vertex positions [m], world frame."""
        f = self.scene.flex_id
        adr, num = self.model.flex_vertadr[f], self.model.flex_vertnum[f]
        return self.data.flexvert_xpos[adr : adr + num].astype(np.float32)

    # --- pushes -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._traj is not None

    def check_reachable(self, goal: PushGoal) -> None:
        """Raise PushRejected if the push line or the approach are not reachable by IK."""
        zt = max(self.config.limits.transit_height, goal.height)
        points = [np.array([*goal.start, zt]), np.array([*goal.end, zt])]
        for a in np.linspace(0.0, 1.0, 5):
            xy = goal.start + a * (goal.end - goal.start)
            points.append(np.array([xy[0], xy[1], goal.height]))
        q = self._q
        for p in points:
            res = self.ik.solve(p, q0=q)
            if not res.ok:
                res = self.ik.solve(p)  # retry from the home posture
            if not res.ok:
                raise PushRejected(
                    f"tip pose ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) m is unreachable by the arm "
                    f"(IK error {res.position_error * 1000:.1f} mm, "
                    f"{np.degrees(res.axis_error):.1f} deg)"
                )
            q = res.qpos

    def start_push(self, goal: PushGoal) -> TipTrajectory:
        """Queue a validated push (see push.validate_push); rejects while busy/unreachable."""
        if self.busy:
            raise PushRejected("a push is already being executed")
        self.check_reachable(goal)
        tip, _ = self.tip_pose()
        self._traj = push_trajectory(goal, tip, self.rest_tip, self.config.limits)
        self._traj_t = 0.0
        self._goal = goal
        return self._traj

    def cancel_push(self) -> None:
        """Stop the current push where the tip is (the arm holds its posture)."""
        self._traj = None

    def push_progress(self) -> float:
        return 1.0 if self._traj is None else self._traj.push_progress(self._traj_t)

    def push_elapsed(self) -> float:
        return self._traj_t

    # --- stepping ---------------------------------------------------------------------------
    def _set_arm(self, q: np.ndarray, qd: np.ndarray) -> None:
        self.data.qpos[self.scene.arm_qpos_adr] = q
        self.data.qvel[self.scene.arm_dof_adr] = qd

    def step_frame(self) -> None:
        """Advance one frame (``frame_dt`` s): arm follows the queued tip trajectory (IK at
        frame rate, joints interpolated over the physics substeps)."""
        q0 = self._q
        if self._traj is not None:
            self._traj_t = min(self._traj_t + self.frame_dt, self._traj.duration)
            res = self.ik.solve(self._traj.at(self._traj_t), q0=q0, iterations=30)
            q1 = res.qpos
            if self._traj_t >= self._traj.duration - 1e-9:
                self._traj = None
        else:
            q1 = q0
        qd = (q1 - q0) / self.frame_dt
        for k in range(1, self.substeps + 1):
            self._set_arm(q0 + (q1 - q0) * (k / self.substeps), qd)
            mujoco.mj_step(self.model, self.data)
        self._q = q1
        self._set_arm(q1, np.zeros(7) if self._traj is None else qd)
        mujoco.mj_forward(self.model, self.data)
        self.frame_index += 1
