"""Robot descriptions the self-model knows: URDF, kinematic chain, MuJoCo model for data.

Only the xArm7 with the workcell's cylindrical pusher is wired up (it is the simulator's
robot, loaded through :mod:`gs_sim.robot_xarm`, so model and simulator share one URDF and
one tool geometry). Frames: the robot ``base`` frame is the URDF root (``link_base``), metres.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import mujoco
import numpy as np
import pytorch_kinematics as pk
import torch

import gs_sim  # noqa: F401  (sets MUJOCO_GL before mujoco renders)
from gs_sim.robot_xarm import FLANGE_BODY, JOINT_NAMES, PusherTool, find_xarm7_urdf, xarm7_spec


@dataclasses.dataclass(frozen=True)
class RobotSpec:
    """name; joint_names (J,); bones: links that carry geometry and get a skinning weight;
    tip_link + tip_offset (3,) [m]: the end-effector point (pusher tip) in that link."""

    name: str
    joint_names: tuple[str, ...]
    bones: tuple[str, ...]
    tip_link: str
    tip_offset: tuple[float, float, float]

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)


def xarm7_robot(tool: PusherTool | None = None) -> RobotSpec:
    tool = tool or PusherTool()
    bones = ("link_base", *[f"link{i}" for i in range(1, 8)], FLANGE_BODY)
    return RobotSpec("xarm7", JOINT_NAMES, bones, FLANGE_BODY, (0.0, 0.0, tool.length))


ROBOTS = {"xarm7": xarm7_robot}


def get_robot(name: str) -> RobotSpec:
    if name not in ROBOTS:
        raise ValueError(f"robot={name!r} is not known; choose one of {sorted(ROBOTS)}")
    return ROBOTS[name]()


@lru_cache(maxsize=4)
def _urdf_text(name: str) -> str:
    if name != "xarm7":
        raise ValueError(f"robot={name!r} has no URDF here")
    return find_xarm7_urdf().read_text()


def mujoco_spec(robot: RobotSpec) -> mujoco.MjSpec:
    """MjSpec of the robot alone (visual meshes + tool), base at the world origin."""
    if robot.name != "xarm7":
        raise ValueError(f"robot={robot.name!r} has no MuJoCo model here")
    return xarm7_spec()


class Kinematics:
    """Batched, differentiable forward kinematics of ``robot`` (pytorch-kinematics).

    ``bone_transforms(q)``: q (B, J) rad -> (B, K, 4, 4) base_from_bone for the K bones;
    ``tip_position(q)``: (B, 3) metres, base frame. Joint limits (J,) in ``lower`` / ``upper``.
    """

    def __init__(self, robot: RobotSpec, dtype=torch.float32, device="cpu") -> None:
        self.robot = robot
        self.chain = pk.build_serial_chain_from_urdf(_urdf_text(robot.name), robot.bones[-1])
        self.chain = self.chain.to(dtype=dtype, device=device)
        names = self.chain.get_joint_parameter_names()
        if tuple(names) != tuple(robot.joint_names):
            raise ValueError(f"URDF joints {names} differ from {robot.joint_names}")
        lo, hi = self.chain.get_joint_limits()
        self.lower = torch.tensor(lo, dtype=dtype)
        self.upper = torch.tensor(hi, dtype=dtype)
        self.dtype, self.device = dtype, device

    def to(self, dtype=None, device=None) -> Kinematics:
        return Kinematics(self.robot, dtype or self.dtype, device or self.device)

    def bone_transforms(self, q: torch.Tensor) -> torch.Tensor:
        q = q.to(self.dtype)
        squeeze = q.dim() == 1
        if squeeze:
            q = q[None]
        tfs = self.chain.forward_kinematics(q, end_only=False)
        out = torch.stack([tfs[b].get_matrix() for b in self.robot.bones], dim=1)
        return out[0] if squeeze else out

    def tip_pose(self, q: torch.Tensor) -> torch.Tensor:
        """(B, 4, 4) base_from_tip (tip frame = tool link frame moved to the tip)."""
        q = q.to(self.dtype)
        squeeze = q.dim() == 1
        if squeeze:
            q = q[None]
        t = self.chain.forward_kinematics(q, end_only=False)[self.robot.tip_link].get_matrix()
        off = torch.eye(4, dtype=t.dtype)
        off[:3, 3] = torch.tensor(self.robot.tip_offset, dtype=t.dtype)
        out = t @ off
        return out[0] if squeeze else out

    def sample_configurations(self, n: int, rng: np.random.Generator, margin: float = 0.05):
        """(n, J) float32 configurations uniform within the limits shrunk by ``margin`` rad;
        continuous joints (|limit| >= 2 pi) are sampled in [-pi, pi]."""
        lo = np.maximum(self.lower.numpy().astype(np.float64), -np.pi) + margin
        hi = np.minimum(self.upper.numpy().astype(np.float64), np.pi) - margin
        return rng.uniform(lo, hi, size=(n, len(lo))).astype(np.float32)
