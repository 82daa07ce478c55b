"""Forward and inverse kinematics of the pusher tip from the URDF (pytorch-kinematics).

Batched damped-least-squares IK in float64: tip position (3 constraints) and the tool axis
(end link z) pointing straight down (2 constraints); rotation about the tool axis is free.
The remaining redundancy is pulled toward a per-sample posture (the seed) in the null space,
and joints are clamped to the URDF limits at every iteration. ROS-free.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re

import numpy as np
import pytorch_kinematics as pk
import torch

from gs_push_executor.robot import RobotDescription

DOWN = (0.0, 0.0, -1.0)


def _clean_urdf(text: str) -> str:
    """Drop the blocks pytorch-kinematics' parser does not know (ros2_control, transmissions)."""
    text = re.sub(r"<ros2_control.*?</ros2_control>", "", text, flags=re.S)
    return re.sub(r"<transmission.*?</transmission>", "", text, flags=re.S)


@contextlib.contextmanager
def _torch_threads(n: int = 1):
    """Small batched kinematics runs fastest on one thread (and does not fight other jobs
    for cores); restore the caller's setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclasses.dataclass(frozen=True)
class IKSolution:
    """q: (B, n) joint angles [rad]; position_error: (B,) [m]; axis_error: (B,) [rad]."""

    q: np.ndarray
    position_error: np.ndarray
    axis_error: np.ndarray


class PusherKinematics:
    """FK / IK of the pusher tip in ``world`` for one arm (see :class:`RobotDescription`)."""

    def __init__(self, robot: RobotDescription) -> None:
        self.robot = robot
        self.dtype = torch.float64
        self.chain = pk.build_serial_chain_from_urdf(
            _clean_urdf(robot.urdf_text), robot.end_link
        ).to(dtype=self.dtype)
        self.joint_names: list[str] = list(self.chain.get_joint_parameter_names())
        self.n = len(self.joint_names)
        lower, upper = self.chain.get_joint_limits()
        self.lower = np.asarray(lower, float)
        self.upper = np.asarray(upper, float)
        self.velocity_limits = np.asarray(self.chain.get_joint_velocity_limits(), float)
        self.home = np.asarray(robot.home if robot.home else np.zeros(self.n), float)
        if self.home.shape != (self.n,):
            raise ValueError(f"home has {self.home.size} values, the chain has {self.n} joints")
        c, s = math.cos(robot.base_yaw), math.sin(robot.base_yaw)
        self._r_wb = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=self.dtype)
        self._p_wb = torch.tensor(robot.base_xyz, dtype=self.dtype)
        self._offset = torch.tensor(robot.tool_offset, dtype=self.dtype)
        self._lo = torch.tensor(self.lower, dtype=self.dtype)
        self._hi = torch.tensor(self.upper, dtype=self.dtype)
        self._down = torch.tensor(DOWN, dtype=self.dtype)

    # --- forward ------------------------------------------------------------------------------
    def _tensor(self, q) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(q, float), dtype=self.dtype)
        return t.reshape(-1, self.n)

    def _tip(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.chain.forward_kinematics(q).get_matrix()  # (B, 4, 4) base_from_end
        tip_b = m[:, :3, :3] @ self._offset + m[:, :3, 3]
        return tip_b @ self._r_wb.T + self._p_wb, m[:, :3, 2] @ self._r_wb.T

    def tip(self, q) -> tuple[np.ndarray, np.ndarray]:
        """Tip position (B, 3) [m] and tool axis (B, 3) in ``world`` for q (B, n) [rad]."""
        with torch.no_grad(), _torch_threads():
            p, a = self._tip(self._tensor(q))
        return p.numpy(), a.numpy()

    def link_positions(self, q) -> dict[str, np.ndarray]:
        """{link: (B, 3) origin in ``world`` [m]} of every link of the chain, plus "tip"."""
        with torch.no_grad(), _torch_threads():
            qt = self._tensor(q)
            frames = self.chain.forward_kinematics(qt, end_only=False)
            out = {}
            for name, tf in frames.items():
                out[name] = (tf.get_matrix()[:, :3, 3] @ self._r_wb.T + self._p_wb).numpy()
            out["tip"] = self._tip(qt)[0].numpy()
        return out

    # --- inverse ------------------------------------------------------------------------------
    def solve(
        self,
        targets,
        seeds,
        posture=None,
        iterations: int = 60,
        damping: float = 1e-4,
        null_gain: float = 0.1,
        max_step: float = 0.2,
        tol: float = 2e-5,
    ) -> IKSolution:
        """Joint angles (B, n) putting the tip at ``targets`` (B, 3) [m, world] with the tool
        pointing down, starting from ``seeds`` (B, n) [rad]; the null space pulls toward
        ``posture`` (B, n) (default: the seeds), which keeps neighbouring path samples on the
        same IK branch."""
        with torch.no_grad(), _torch_threads():
            target = torch.as_tensor(np.asarray(targets, float), dtype=self.dtype).reshape(-1, 3)
            q = self._tensor(seeds).clone().expand(target.shape[0], self.n).clone()
            rest = q.clone() if posture is None else self._tensor(posture).expand_as(q).clone()
            q = torch.minimum(torch.maximum(q, self._lo), self._hi)
            eye6 = torch.eye(6, dtype=self.dtype)
            eye_n = torch.eye(self.n, dtype=self.dtype)
            for _ in range(iterations):
                pos, axis = self._tip(q)
                e_pos = target - pos
                e_rot = torch.cross(axis, self._down.expand_as(axis), dim=-1)
                done = (e_pos.norm(dim=-1) < tol) & (e_rot.norm(dim=-1) < 1e-5)
                if bool(done.all()):
                    break
                jac = self.chain.jacobian(q, locations=self._offset.expand(q.shape[0], 3))
                jp = self._r_wb @ jac[:, :3]
                jr = self._r_wb @ jac[:, 3:]
                proj = eye6[:3, :3] - axis[:, :, None] * axis[:, None, :]
                j = torch.cat([jp, proj @ jr], dim=1)  # (B, 6, n)
                err = torch.cat([e_pos, e_rot], dim=-1)[..., None]
                jjt = j @ j.transpose(1, 2) + damping * eye6
                j_pinv = j.transpose(1, 2) @ torch.linalg.inv(jjt)
                null = eye_n - j_pinv @ j
                dq = (j_pinv @ err + null @ (null_gain * (rest - q))[..., None])[..., 0]
                step = dq.norm(dim=-1, keepdim=True)
                dq = dq * torch.clamp(max_step / (step + 1e-12), max=1.0)
                dq[done] = 0.0
                q = torch.minimum(torch.maximum(q + dq, self._lo), self._hi)
            pos, axis = self._tip(q)
            perr = (target - pos).norm(dim=-1)
            aerr = torch.arccos(torch.clamp((axis * self._down).sum(-1), -1.0, 1.0))
        return IKSolution(q.numpy().copy(), perr.numpy(), aerr.numpy())
