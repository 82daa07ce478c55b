"""Dyn3DGS-style per-frame Gaussian tracking (GS-Dynamics §3.2).

Colour, opacity and scale stay fixed; means and rotations are optimized per frame against
every camera under

    loss = (1 - 0.2) L1 + 0.2 D-SSIM          (object pixels, robot pixels excluded)
         + w_alpha |alpha - object mask|       (silhouette)
         + w_depth |depth - observed depth|    (object pixels with a reading)
         + w_rigid L_rigid + w_rot L_rot + w_iso L_iso   (k-NN physical priors)

starting from a constant-velocity prediction, with an iteration budget and early stopping
per frame. The first frame gets a short fit of all attributes, after which low-opacity
Gaussians are dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import torch

from gs_render import render
from gs_render.gaussians import Gaussians
from gs_tracking.image_losses import photometric_loss
from gs_tracking.observation import Observation, RigTensors
from gs_tracking.regularizers import (
    NeighbourGraph,
    isometry_loss,
    rigidity_loss,
    rotation_loss,
)


@dataclass
class TrackerConfig:
    """Optimization settings (defaults tuned on 160x120 simulator views, 4 cameras).

    The prior weights are larger than Dyn3DGS's (4, 4, 2 for 27 views): with only 4 views
    much of the object is seen by one or two cameras, so the priors must carry more, as
    the GS-Dynamics paper notes.
    """

    iterations: int = 10  # per-frame budget (gs-track-bench: ~2 frames/s, rope MTE ~4.5 mm)
    min_iterations: int = 8  # before early stopping may trigger
    early_stop_rel: float = 2e-3  # stop when the loss improved by less than this fraction
    early_stop_window: int = 4  # ... over this many iterations
    first_frame_iterations: int = 150
    min_opacity: float = 0.3  # after the first-frame fit
    lr_means: float = 1.5e-3  # m per step (Adam)
    lr_quats: float = 1e-2
    ssim_weight: float = 0.2
    w_alpha: float = 1.0
    w_depth: float = 1.0
    w_rigid: float = 20.0
    w_rot: float = 20.0
    w_iso: float = 10.0
    knn: int = 12
    lambda_w: float = 2000.0  # 1/m^2, neighbour weight exp(-lambda_w d^2)
    render_backend: str = "auto"
    # --- multi-push robustness (see README "Multi-push episodes") ---
    adaptive: bool = False  # iteration budget from the observed motion (ROPE_SETTINGS)
    static_iterations: int = 3  # budget when nothing moves (adaptive)
    max_iterations: int = 30  # budget at motion >= motion_full (adaptive)
    motion_static: float = 0.01  # silhouette change (fraction of object pixels) = static
    motion_full: float = 0.10  # silhouette change that gets max_iterations
    w_cloud: float = 0.0  # observed cloud -> nearest Gaussian [1/m], truncated at cloud_trunc
    cloud_trunc: float = 0.02  # m
    cloud_points: int = 1500  # observed points sampled per frame for the cloud term
    w_pusher: float = 0.0  # penetration of Gaussians into the pusher cylinder [1/m]
    pusher_radius: float = 0.012  # m, cylinder radius (gs_sim robot_xarm.PusherTool)
    pusher_margin: float = 0.003  # m, added to the radius
    pusher_height: float = 0.08  # m, cylinder length above the tip considered
    pusher_init: bool = False  # resolve penetration of the moved pusher before optimizing
    velocity: float = 1.0  # initialization: previous means + velocity x last frame's motion
    # no velocity when the silhouette changed less than this (fraction of object pixels):
    # without it Gaussians keep sliding along a thin object after a push ends (ROPE_SETTINGS)
    velocity_gate: float = 0.0


#: Settings of the tracker before the multi-push work (fixed budget ``iterations``, image and
#: depth terms only); ``gs-track-eval --compare-legacy`` tracks with them (and the run's
#: ``iterations``) for a same-run comparison.
LEGACY_SETTINGS = {
    "min_iterations": 8,
    "w_depth": 1.0,
    "adaptive": False,
    "static_iterations": 3,
    "max_iterations": 30,
    "motion_static": 0.01,
    "motion_full": 0.10,
    "w_cloud": 0.0,
    "cloud_trunc": 0.02,
    "cloud_points": 1500,
    "w_pusher": 0.0,
    "pusher_radius": 0.012,
    "pusher_margin": 0.003,
    "pusher_height": 0.08,
    "pusher_init": False,
    "velocity": 1.0,
    "velocity_gate": 0.0,
}


#: Settings for thin objects (rope), measured on held-out 3-push episodes (README
#: "Multi-push episodes"): rope 3D MTE 12.2 -> 9.3 mm. Not the default: the motion measure
#: (fraction of object pixels whose silhouette changed) under-reads a large sheet's motion,
#: and on cloth these settings doubled the error (5.7 -> 11.5 mm).
ROPE_SETTINGS = {"adaptive": True, "velocity_gate": 0.01}

#: Named per-object settings (``--preset`` of the CLI tools, the node's ``preset``).
TRACKER_PRESETS = {"none": {}, "rope": ROPE_SETTINGS}


#: The multi-push options together (``--multipush`` of the CLI tools): adaptive budget,
#: pusher contact (push-out + penetration penalty), observed-cloud term, stronger depth.
MULTIPUSH_SETTINGS = {
    "adaptive": True,
    "pusher_init": True,
    "w_pusher": 1000.0,
    "w_cloud": 10.0,
    "w_depth": 10.0,
}


def legacy_config(config: TrackerConfig | None = None) -> TrackerConfig:
    """``config`` (default: the defaults) with the legacy tracker's settings."""
    return replace(config or TrackerConfig(), **LEGACY_SETTINGS)


@dataclass
class FrameStats:
    iterations: int
    loss: float
    seconds: float
    motion: float = 0.0  # silhouette change since the previous frame (GaussianTracker.motion)


@dataclass
class GaussianTracker:
    """Tracks one object's Gaussians through a sequence of observations."""

    rig: RigTensors
    config: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        self.gaussians: Gaussians | None = None
        self.graph: NeighbourGraph | None = None
        self._prev: tuple[torch.Tensor, torch.Tensor] | None = None  # (means, quats) at t-1
        self._prev_obs: Observation | None = None

    # --- rendering and losses ---------------------------------------------------------------
    def _render(self, means, quats, scales, opacities, colors):
        return render(
            means,
            quats,
            scales,
            opacities,
            colors,
            self.rig.viewmats,
            self.rig.Ks,
            self.rig.width,
            self.rig.height,
            backend=self.config.render_backend,
        )

    def _image_loss(self, out, obs: Observation) -> torch.Tensor:
        c = self.config
        loss = photometric_loss(out.rgb, obs.rgb, obs.valid, c.ssim_weight)
        alpha = out.alpha[..., 0]
        norm = obs.valid.sum().clamp_min(1.0)
        loss = loss + c.w_alpha * ((alpha - obs.object).abs() * obs.valid).sum() / norm
        if c.w_depth > 0:
            has = obs.valid * obs.object * (obs.depth > 0).float()
            d_err = (out.depth[..., 0] - obs.depth).abs() * has
            loss = loss + c.w_depth * d_err.sum() / has.sum().clamp_min(1.0)
        return loss

    # --- first frame --------------------------------------------------------------------------
    def initialize(self, gaussians: Gaussians, obs: Observation) -> FrameStats:
        """Short fit of all attributes to the first frame, then prune low opacity."""
        start = time.perf_counter()
        g = gaussians.detach()
        means = g.means.clone().requires_grad_(True)
        log_scales = g.scales.log().requires_grad_(True)
        logit_opac = torch.logit(g.opacities.clamp(1e-3, 1 - 1e-3)).requires_grad_(True)
        colors = g.colors.clone().requires_grad_(True)
        opt = torch.optim.Adam(
            [
                {"params": [means], "lr": self.config.lr_means * 0.5},
                {"params": [log_scales], "lr": 5e-3},
                {"params": [logit_opac], "lr": 5e-2},
                {"params": [colors], "lr": 1e-2},
            ]
        )
        loss = torch.tensor(0.0)
        for _ in range(self.config.first_frame_iterations):
            opt.zero_grad(set_to_none=True)
            out = self._render(
                means, g.quats, log_scales.exp(), torch.sigmoid(logit_opac), colors.clamp(0, 1)
            )
            loss = self._image_loss(out, obs)
            loss.backward()
            opt.step()
        fitted = Gaussians(
            means.detach(),
            g.quats,
            log_scales.detach().exp(),
            torch.sigmoid(logit_opac.detach()),
            colors.detach().clamp(0, 1),
        )
        keep = fitted.opacities >= self.config.min_opacity
        if int(keep.sum()) < 2:
            raise ValueError(
                f"only {int(keep.sum())} Gaussians kept opacity >= {self.config.min_opacity} "
                "after the first-frame fit; check masks and camera poses"
            )
        self.gaussians = fitted.subset(keep)
        self.graph = NeighbourGraph.build(
            self.gaussians.means, self.config.knn, self.config.lambda_w
        )
        self._prev = None
        self._prev_obs = obs
        return FrameStats(
            self.config.first_frame_iterations, float(loss.detach()), time.perf_counter() - start
        )

    def forget_motion(self) -> None:
        """Drop the last frame's motion (no constant-velocity start for the next frame): the
        next frame is not the one after the last tracked frame (skipped frames)."""
        self._prev = None

    # --- later frames -------------------------------------------------------------------------
    def motion(self, obs: Observation) -> float:
        """Fraction of object pixels whose silhouette changed since the last tracked frame
        (robot pixels of either frame excluded); 1.0 without a previous frame."""
        if self._prev_obs is None:
            return 1.0
        both = obs.valid * self._prev_obs.valid
        changed = ((obs.object - self._prev_obs.object).abs() * both).sum()
        return float(changed / (obs.object * both).sum().clamp_min(1.0))

    def budget(self, motion: float, pusher_near: bool) -> int:
        """Iterations for a frame: ``iterations`` without adaptation; else from
        ``static_iterations`` (no motion) up to ``max_iterations`` (motion >= motion_full),
        never below ``iterations`` while the pusher is at the object."""
        c = self.config
        if not c.adaptive:
            return c.iterations
        f = (motion - c.motion_static) / max(c.motion_full - c.motion_static, 1e-9)
        n = c.static_iterations + (c.max_iterations - c.static_iterations) * min(max(f, 0.0), 1.0)
        if pusher_near:
            n = max(n, c.iterations)
        return max(1, round(n))

    def _pusher_near(self, means: torch.Tensor, tip: torch.Tensor | None) -> bool:
        """Whether the tip is within 2 cm of a Gaussian (xy, beyond the cylinder) and not
        more than 2 cm above it (a transit overhead does not count)."""
        if tip is None:
            return False
        c = self.config
        reach = c.pusher_radius + c.pusher_margin + 0.02
        dxy = (means[:, :2] - tip[:2]).norm(dim=-1)
        near = (dxy < reach) & (tip[2] < means[:, 2] + 0.02)
        return bool(near.any())

    def _penetration(self, means: torch.Tensor, tip: torch.Tensor) -> torch.Tensor:
        """(N,) depth [m] by which each mean lies inside the pusher cylinder (0 outside)."""
        c = self.config
        dxy = (means[:, :2] - tip[:2]).norm(dim=-1)
        inside_z = (means[:, 2] > tip[2] - c.pusher_margin) & (
            means[:, 2] < tip[2] + c.pusher_height
        )
        return torch.relu(c.pusher_radius + c.pusher_margin - dxy) * inside_z.float()

    def _push_out(self, means: torch.Tensor, tip: torch.Tensor) -> torch.Tensor:
        """Means inside the pusher cylinder moved radially (xy) onto its surface."""
        pen = self._penetration(means, tip)
        if not bool((pen > 0).any()):
            return means
        d = means[:, :2] - tip[:2]
        n = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        out = means.clone()
        out[:, :2] = out[:, :2] + n * pen[:, None]
        return out

    def track(self, obs: Observation, pusher_tip=None) -> FrameStats:
        """Optimize means and rotations for a new frame; updates ``self.gaussians``.

        pusher_tip: optional (3,) pusher tip position [m, world] at this frame (from the
        robot state): used for the contact terms and the iteration budget.
        """
        if self.gaussians is None:
            raise RuntimeError("call initialize() with the first frame before track()")
        c, g = self.config, self.gaussians
        start = time.perf_counter()
        tip = None
        if pusher_tip is not None:
            tip = torch.as_tensor(pusher_tip, dtype=torch.float32, device=g.means.device)
        mu_t, q_t = g.means, g.quats
        motion = self.motion(obs)
        moving = motion >= c.velocity_gate
        if self._prev is not None and c.velocity > 0 and moving:  # (damped) constant velocity
            mu_init = mu_t + c.velocity * (mu_t - self._prev[0])
            q_init = q_t + c.velocity * (q_t - self._prev[1])
        else:
            mu_init, q_init = mu_t, q_t
        if tip is not None and c.pusher_init:
            mu_init = self._push_out(mu_init, tip)
        q_init = q_init / q_init.norm(dim=-1, keepdim=True)
        budget = self.budget(motion, self._pusher_near(mu_t, tip))
        cloud = self.observed_cloud(obs) if c.w_cloud > 0 else None
        means = mu_init.clone().requires_grad_(True)
        quats = q_init.clone().requires_grad_(True)
        opt = torch.optim.Adam(
            [{"params": [means], "lr": c.lr_means}, {"params": [quats], "lr": c.lr_quats}]
        )
        history: list[float] = []
        it = 0
        for it in range(1, budget + 1):
            opt.zero_grad(set_to_none=True)
            qn = quats / quats.norm(dim=-1, keepdim=True)
            out = self._render(means, qn, g.scales, g.opacities, g.colors)
            loss = (
                self._image_loss(out, obs)
                + c.w_rigid * rigidity_loss(self.graph, means, qn, mu_t, q_t)
                + c.w_rot * rotation_loss(self.graph, qn, q_t)
                + c.w_iso * isometry_loss(self.graph, means)
            )
            if cloud is not None and len(cloud):
                d = torch.cdist(cloud, means).min(dim=1).values
                loss = loss + c.w_cloud * d.clamp_max(c.cloud_trunc).mean()
            if tip is not None and c.w_pusher > 0:
                loss = loss + c.w_pusher * self._penetration(means, tip).mean()
            loss.backward()
            opt.step()
            history.append(float(loss.detach()))
            if it >= max(min(c.min_iterations, budget), c.early_stop_window + 1):
                old = history[-c.early_stop_window - 1]
                if old - history[-1] < c.early_stop_rel * abs(old):
                    break
        self._prev = (mu_t, q_t)
        self._prev_obs = obs
        q_new = quats.detach() / quats.detach().norm(dim=-1, keepdim=True)
        self.gaussians = Gaussians(means.detach(), q_new, g.scales, g.opacities, g.colors)
        return FrameStats(it, history[-1], time.perf_counter() - start, motion)

    def observed_cloud(self, obs: Observation) -> torch.Tensor:
        """(M, 3) world points [m] of the object pixels with depth (robot pixels excluded)
        at the tracking resolution, at most ``cloud_points`` of them (evenly strided)."""
        rig = self.rig
        keep = (obs.object * obs.valid > 0) & (obs.depth > 0)
        cam, v, u = torch.nonzero(keep, as_tuple=True)
        z = obs.depth[cam, v, u]
        k = rig.Ks[cam]
        x = (u.float() - k[:, 0, 2]) / k[:, 0, 0] * z
        y = (v.float() - k[:, 1, 2]) / k[:, 1, 1] * z
        pts = torch.stack([x, y, z], -1)
        world_from_cam = torch.linalg.inv(rig.viewmats)[cam]
        world = (
            torch.einsum("mij,mj->mi", world_from_cam[:, :3, :3], pts) + world_from_cam[:, :3, 3]
        )
        if len(world) > self.config.cloud_points:
            idx = torch.linspace(0, len(world) - 1, self.config.cloud_points, device=world.device)
            world = world[idx.long()]
        return world
