"""Online use of a trained self-model (ROS-free; the node is a thin adapter around it):
robot masks for calibrated cameras and the end-effector pose from joint angles."""

from __future__ import annotations

import math
import threading

import numpy as np
import torch
import torch.nn.functional as F

from gs_common.camera import CameraIntrinsics
from gs_common.geometry import make_transform
from gs_render import render
from gs_robot_model.model import PosedGaussians, RobotGaussianModel


def base_transform(xyz, yaw_deg: float) -> np.ndarray:
    """(4, 4) world_from_base from the base position [m] and yaw about z [deg]."""
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    return make_transform(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]), np.asarray(xyz, float))


class RobotMaskRenderer:
    """Masks of the robot at the latest joint angles.

    world_from_base: (4, 4) robot base pose in ``world`` [m]; alpha_threshold: rendered
    alpha above which a pixel is robot; render_scale: render at this fraction of the camera
    resolution and upsample (nearest) to the full size (CPU budget).
    """

    def __init__(
        self,
        model: RobotGaussianModel,
        world_from_base: np.ndarray,
        alpha_threshold: float = 0.5,
        render_scale: float = 0.5,
        device: torch.device | str = "cpu",
    ) -> None:
        if not 0.0 < alpha_threshold < 1.0:
            raise ValueError(f"alpha_threshold={alpha_threshold} must be in (0, 1)")
        if not 0.0 < render_scale <= 1.0:
            raise ValueError(f"render_scale={render_scale} must be in (0, 1]")
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.world_from_base = np.asarray(world_from_base, dtype=np.float64)
        self.alpha_threshold = alpha_threshold
        self.render_scale = render_scale
        self.num_joints = model.robot.num_joints
        self._lock = threading.Lock()
        self._posed: PosedGaussians | None = None  # the Gaussians posed at _posed_q
        self._posed_q: np.ndarray | None = None
        self._q: np.ndarray | None = None  # the latest joint angles

    def check_joints(self, q) -> np.ndarray:
        q = np.asarray(q, dtype=np.float64).reshape(-1)
        if q.shape != (self.num_joints,):
            raise ValueError(f"joint vector has {q.size} values, the robot has {self.num_joints}")
        if not np.all(np.isfinite(q)):
            raise ValueError(f"joint vector {q.tolist()} is not finite")
        return q

    def set_joints(self, q) -> None:
        """Use q (J,) rad from now on. The Gaussians are posed lazily, by the next
        :meth:`mask` (joint states arrive at the camera rate, masks are rendered for fewer
        frames), and only when q changed."""
        q = self.check_joints(q)
        with self._lock:
            self._q = q

    @torch.no_grad()
    def _posed_at_latest(self) -> PosedGaussians:
        with self._lock:
            q, posed, posed_q = self._q, self._posed, self._posed_q
        if q is None:
            raise RuntimeError("no joint state yet")
        if posed is None or not np.array_equal(q, posed_q):
            posed = self.model.pose(torch.tensor(q, dtype=torch.float32, device=self.device))
            with self._lock:
                self._posed, self._posed_q = posed, q
        return posed

    @property
    def has_joints(self) -> bool:
        return self._q is not None

    @property
    def joints(self) -> np.ndarray | None:
        """The latest joint angles (J,) rad given to :meth:`set_joints`, or None."""
        with self._lock:
            return None if self._q is None else self._q.copy()

    @torch.no_grad()
    def mask(self, world_from_camera: np.ndarray, intr: CameraIntrinsics) -> np.ndarray:
        """(H, W) bool robot mask of one camera (OpenCV optical frame pose (4, 4))."""
        g = self._posed_at_latest()
        small = intr.scaled(self.render_scale) if self.render_scale < 1.0 else intr
        base_from_cam = np.linalg.inv(self.world_from_base) @ world_from_camera
        viewmat = torch.tensor(
            np.linalg.inv(base_from_cam), dtype=torch.float32, device=self.device
        )
        k = torch.tensor(small.K, dtype=torch.float32, device=self.device)
        out = render(
            g.means,
            g.quats,
            g.scales,
            g.opacities,
            g.colors,
            viewmat[None],
            k[None],
            small.width,
            small.height,
            near=0.01,
            far=20.0,
        )
        alpha = out.alpha[0, ..., 0]
        if (small.width, small.height) != (intr.width, intr.height):
            alpha = F.interpolate(
                alpha[None, None],
                size=(intr.height, intr.width),
                mode="bilinear",
                align_corners=False,
            )[0, 0]
        return (alpha > self.alpha_threshold).cpu().numpy()

    @torch.no_grad()
    def tip_pose(self, q) -> np.ndarray:
        """(4, 4) world_from_tip of the end effector (pusher tip) at q (J,) rad."""
        q = self.check_joints(q)
        t = self.model.kin.tip_pose(torch.tensor(q, dtype=torch.float32))
        return self.world_from_base @ t.double().numpy()
