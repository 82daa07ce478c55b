"""Damped-least-squares inverse kinematics for the pusher tip (MuJoCo Jacobians).

Task: tip position (3) + tool axis (flange z) pointing straight down (2 constraints); the
remaining redundancy of the 7-DoF arm pulls toward a home posture in the null space.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

DOWN = np.array([0.0, 0.0, -1.0])


@dataclasses.dataclass(frozen=True)
class IKResult:
    """qpos: (7,) joint angles [rad]; position_error [m]; axis_error [rad]; ok: within
    tolerance."""

    qpos: np.ndarray
    position_error: float
    axis_error: float
    ok: bool


class PusherIK:
    """IK on a private MjData of ``model`` (never touches the simulation's data).

    qpos_adr / dof_adr: (7,) qpos and dof indices of the arm joints; tip_site: site id.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        qpos_adr: np.ndarray,
        dof_adr: np.ndarray,
        tip_site: int,
        home: np.ndarray,
        pos_tol: float = 2e-3,
        axis_tol: float = np.radians(2.0),
    ) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.qpos_adr = np.asarray(qpos_adr)
        self.dof_adr = np.asarray(dof_adr)
        self.tip_site = tip_site
        self.home = np.asarray(home, dtype=np.float64)
        jnt = [int(np.nonzero(model.jnt_qposadr == a)[0][0]) for a in self.qpos_adr]
        self.lower = model.jnt_range[jnt, 0].copy()
        self.upper = model.jnt_range[jnt, 1].copy()
        self.pos_tol = pos_tol
        self.axis_tol = axis_tol
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tip position (3,) [m] and tool rotation (3, 3) (world_from_flange) for ``q``."""
        self.data.qpos[self.qpos_adr] = q
        mujoco.mj_kinematics(self.model, self.data)
        return (
            self.data.site_xpos[self.tip_site].copy(),
            self.data.site_xmat[self.tip_site].reshape(3, 3).copy(),
        )

    def solve(
        self,
        target: np.ndarray,
        q0: np.ndarray | None = None,
        iterations: int = 100,
        damping: float = 1e-3,
        null_gain: float = 0.05,
    ) -> IKResult:
        """Joint angles placing the tip at ``target`` (3,) [m] with the tool pointing down."""
        target = np.asarray(target, dtype=np.float64)
        q = np.array(self.home if q0 is None else q0, dtype=np.float64)
        m, d = self.model, self.data
        for _ in range(iterations):
            d.qpos[self.qpos_adr] = q
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            pos = d.site_xpos[self.tip_site]
            axis = d.site_xmat[self.tip_site].reshape(3, 3)[:, 2]
            e_pos = target - pos
            e_rot = np.cross(axis, DOWN)
            if np.linalg.norm(e_pos) < 0.2 * self.pos_tol and np.linalg.norm(e_rot) < 1e-4:
                break
            mujoco.mj_jacSite(m, d, self._jacp, self._jacr, self.tip_site)
            proj = np.eye(3) - np.outer(axis, axis)  # rotation about the tool axis is free
            jac = np.vstack([self._jacp[:, self.dof_adr], proj @ self._jacr[:, self.dof_adr]])
            err = np.concatenate([e_pos, e_rot])
            jjt = jac @ jac.T + damping * np.eye(6)
            j_pinv = jac.T @ np.linalg.solve(jjt, np.eye(6))
            dq = j_pinv @ err + (np.eye(7) - j_pinv @ jac) @ (null_gain * (self.home - q))
            step = np.linalg.norm(dq)
            if step > 0.3:
                dq *= 0.3 / step
            q = np.clip(q + dq, self.lower, self.upper)
        pos, rot = self.forward(q)
        perr = float(np.linalg.norm(target - pos))
        aerr = float(np.arccos(np.clip(-rot[2, 2], -1.0, 1.0)))
        return IKResult(q, perr, aerr, perr <= self.pos_tol and aerr <= self.axis_tol)
