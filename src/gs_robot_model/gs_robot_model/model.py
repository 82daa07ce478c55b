"""The robot as 3D Gaussians (Dr. Robot): canonical Gaussians, implicit linear blend
skinning over the robot's links, optional pose-conditioned deformation, rendered with
``gs_render``. Everything is differentiable from the pixels to the joint angles and to the
camera poses (torch compositor).

Frames: Gaussians live in the robot ``base`` frame (metres); the canonical configuration is
q = 0. Posing: x(q) = sum_k w_k(x_c) T_k(q) T_k(0)^-1 (x_c + dx(x_c, q)), with w(x_c) the
softmax output of a small MLP on the canonical position, T_k the base_from_bone transform of
bone k from forward kinematics, dx the (optional) pose-conditioned offset.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from gs_common.geometry import matrix_to_quat, quat_multiply
from gs_render import render
from gs_robot_model.robots import Kinematics, RobotSpec, get_robot

#: centre and scale that map the robot's workspace (base frame) to about [-1, 1]^3
NORM_CENTER = (0.0, 0.0, 0.3)
NORM_SCALE = 0.7


@dataclasses.dataclass
class ModelConfig:
    """robot: name in :data:`gs_robot_model.robots.ROBOTS`; num_gaussians: N; lbs_hidden /
    lbs_freqs: width and positional-encoding octaves of the skinning MLP; appearance: use the
    pose-conditioned deformation (colour + position offset) MLP; max_offset: its largest
    position offset [m]; shading: Lambertian shading of per-Gaussian albedo under
    ``num_lights`` learned world-fixed directional lights + ambient, with per-Gaussian normals
    rotated by the skinning (pose-dependent appearance from a physical prior); flat_ratio:
    initial thickness of a Gaussian along the surface normal relative to its in-plane size
    when initialised with normals (1 = isotropic); background: (3,) RGB."""

    robot: str = "xarm7"
    num_gaussians: int = 2500
    lbs_hidden: int = 64
    lbs_freqs: int = 4
    appearance: bool = True
    app_hidden: int = 64
    max_offset: float = 0.01
    shading: bool = True
    num_lights: int = 2
    flat_ratio: float = 1.0
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}")
        d = dict(d)
        if "background" in d:
            d["background"] = tuple(d["background"])
        return cls(**d)


def posenc(x: torch.Tensor, freqs: int) -> torch.Tensor:
    """(..., 3) -> (..., 3 + 6 * freqs) sin/cos positional encoding."""
    bands = 2.0 ** torch.arange(freqs, dtype=x.dtype, device=x.device) * math.pi
    xb = x[..., None] * bands  # (..., 3, F)
    return torch.cat([x, xb.sin().flatten(-2), xb.cos().flatten(-2)], -1)


def _mlp(n_in: int, hidden: int, n_out: int, zero_last: bool = False) -> nn.Sequential:
    net = nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.SiLU(),
        nn.Linear(hidden, hidden),
        nn.SiLU(),
        nn.Linear(hidden, n_out),
    )
    if zero_last:
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
    return net


@dataclasses.dataclass
class PosedGaussians:
    """Gaussians of one configuration, ready for :func:`gs_render.render` (base frame)."""

    means: torch.Tensor  # (N, 3) metres
    quats: torch.Tensor  # (N, 4) wxyz
    scales: torch.Tensor  # (N, 3) metres (std)
    opacities: torch.Tensor  # (N,)
    colors: torch.Tensor  # (N, 3) in [0, 1]


class RobotGaussianModel(nn.Module):
    """Canonical Gaussians + implicit LBS + optional pose-conditioned deformation."""

    def __init__(self, cfg: ModelConfig, dtype=torch.float32) -> None:
        super().__init__()
        self.cfg = cfg
        self.robot: RobotSpec = get_robot(cfg.robot)
        self.kin = Kinematics(self.robot, dtype=dtype)
        n, k, j = cfg.num_gaussians, len(self.robot.bones), self.robot.num_joints
        self.means = nn.Parameter(torch.zeros(n, 3, dtype=dtype))
        self.quats = nn.Parameter(torch.tensor([1.0, 0, 0, 0], dtype=dtype).repeat(n, 1))
        self.log_scales = nn.Parameter(torch.full((n, 3), math.log(0.005), dtype=dtype))
        self.opacity_logits = nn.Parameter(torch.full((n,), 2.0, dtype=dtype))
        self.color_logits = nn.Parameter(torch.zeros(n, 3, dtype=dtype))
        self.normals = nn.Parameter(torch.tensor([0.0, 0.0, 1.0], dtype=dtype).repeat(n, 1))
        lights = torch.tensor(
            [[0.0, 0.0, 1.0], [0.5, -0.3, 0.8], [-0.5, 0.3, 0.8], [0.3, 0.5, 0.6]]
        )
        self.light_dirs = nn.Parameter(lights[: cfg.num_lights].to(dtype))  # towards the light
        self.light_logits = nn.Parameter(torch.full((cfg.num_lights,), -0.9, dtype=dtype))
        self.ambient_logit = nn.Parameter(torch.tensor(-0.9, dtype=dtype))
        n_enc = 3 + 6 * cfg.lbs_freqs
        self.lbs = _mlp(n_enc, cfg.lbs_hidden, k).to(dtype)
        self.app = _mlp(n_enc + 2 * j, cfg.app_hidden, 6, zero_last=True).to(dtype)
        canon = self.kin.bone_transforms(torch.zeros(j, dtype=dtype))
        self.register_buffer("canon_inv", torch.linalg.inv(canon))  # (K, 4, 4)
        self.register_buffer("center", torch.tensor(NORM_CENTER, dtype=dtype))

    # --- groups of parameters (staged training) ------------------------------------------------
    def gaussian_parameters(self) -> dict[str, nn.Parameter]:
        return {
            "means": self.means,
            "quats": self.quats,
            "log_scales": self.log_scales,
            "opacity_logits": self.opacity_logits,
            "color_logits": self.color_logits,
        }

    def shading_parameters(self) -> dict[str, nn.Parameter]:
        return {
            "normals": self.normals,
            "light_dirs": self.light_dirs,
            "light_logits": self.light_logits,
            "ambient_logit": self.ambient_logit,
        }

    @torch.no_grad()
    def init_from_surface(self, points, normals=None, rgb=None, spacing: float | None = None):
        """Place the Gaussians on surface samples (N, 3) of the canonical robot [m], with
        optional outward normals (N, 3) and colours (N, 3) in [0, 1]."""
        pts = torch.as_tensor(points, dtype=self.means.dtype)
        if pts.shape != self.means.shape:
            raise ValueError(f"need {tuple(self.means.shape)} points, got {tuple(pts.shape)}")
        self.means.copy_(pts)
        if spacing is None:
            d = torch.cdist(pts, pts)
            d.fill_diagonal_(float("inf"))
            spacing = float(d.min(1).values.median())
        self.log_scales.fill_(math.log(max(spacing, 1e-4)))
        if normals is not None:
            nrm = F.normalize(torch.as_tensor(normals, dtype=self.means.dtype), dim=-1)
            self.normals.copy_(nrm)
            if self.cfg.flat_ratio < 1.0:  # surfels: local z along the normal, thin along it
                w = 1.0 + nrm[:, 2]
                q = torch.stack([w, -nrm[:, 1], nrm[:, 0], torch.zeros_like(w)], -1)
                flip = w < 1e-6  # normal = -z: half turn about x
                q[flip] = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=q.dtype)
                self.quats.copy_(F.normalize(q, dim=-1))
                self.log_scales[:, 2] += math.log(self.cfg.flat_ratio)
        if normals is not None:
            self.normals.copy_(
                F.normalize(torch.as_tensor(normals, dtype=self.means.dtype), dim=-1)
            )
        if rgb is not None:
            c = torch.as_tensor(rgb, dtype=self.means.dtype).clamp(0.02, 0.98)
            self.color_logits.copy_(torch.log(c / (1 - c)))

    def encoded(self, x: torch.Tensor) -> torch.Tensor:
        return posenc((x - self.center) / NORM_SCALE, self.cfg.lbs_freqs)

    def skinning_logits(self, x: torch.Tensor | None = None) -> torch.Tensor:
        return self.lbs(self.encoded(self.means if x is None else x))

    def skinning_weights(self) -> torch.Tensor:
        """(N, K) weights of each Gaussian over the bones (rows sum to 1)."""
        return torch.softmax(self.skinning_logits(), -1)

    # --- posing and rendering -----------------------------------------------------------------
    def pose(self, q: torch.Tensor) -> PosedGaussians:
        """q (J,) rad -> Gaussians in the base frame at that configuration."""
        q = q.to(self.means.dtype)
        enc = self.encoded(self.means)
        x = self.means
        color_logits = self.color_logits
        if self.cfg.appearance:
            cond = torch.cat([torch.sin(q), torch.cos(q)]).expand(len(x), -1)
            d = self.app(torch.cat([enc, cond], -1))
            x = x + self.cfg.max_offset * torch.tanh(d[:, 3:])
            color_logits = color_logits + d[:, :3]
        w = torch.softmax(self.lbs(enc), -1)  # (N, K)
        rel = self.kin.bone_transforms(q) @ self.canon_inv  # (K, 4, 4)
        g = torch.einsum("nk,kij->nij", w, rel)  # (N, 4, 4) blended transforms
        means = (g[:, :3, :3] @ x[:, :, None])[..., 0] + g[:, :3, 3]
        rot = matrix_to_quat(g[:, :3, :3])
        quats = quat_multiply(rot, F.normalize(self.quats, dim=-1))
        colors = torch.sigmoid(color_logits)
        if self.cfg.shading:
            n_world = F.normalize((g[:, :3, :3] @ self.normals[:, :, None])[..., 0], dim=-1)
            lambert = (n_world @ F.normalize(self.light_dirs, dim=-1).T).clamp(min=0.0)  # (N, L)
            light = F.softplus(self.ambient_logit) + lambert @ F.softplus(self.light_logits)
            colors = (colors * light[:, None]).clamp(0.0, 1.0)
        return PosedGaussians(
            means=means,
            quats=quats,
            scales=self.log_scales.clamp(max=math.log(0.05)).exp(),
            opacities=torch.sigmoid(self.opacity_logits),
            colors=colors,
        )

    def render(
        self,
        q: torch.Tensor,
        viewmats: torch.Tensor,
        Ks: torch.Tensor,
        width: int,
        height: int,
        world_from_base: torch.Tensor | None = None,
        backend: str = "auto",
    ):
        """Render configuration q (J,) into C cameras: viewmats (C, 4, 4) camera_from_world,
        Ks (C, 3, 3). ``world_from_base`` (4, 4): where the robot base is (default: world =
        base). Returns :class:`gs_render.api.RenderOutput`."""
        g = self.pose(q)
        if world_from_base is not None:
            viewmats = viewmats @ world_from_base.to(viewmats.dtype)[None]
        bg = torch.tensor(self.cfg.background, dtype=g.means.dtype)
        return render(
            g.means,
            g.quats,
            g.scales,
            g.opacities,
            g.colors,
            viewmats.to(g.means.dtype),
            Ks.to(g.means.dtype),
            width,
            height,
            near=0.01,
            far=20.0,
            background=bg,
            backend=backend,
        )
