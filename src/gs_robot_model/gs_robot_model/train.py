"""Staged training of the robot self-model from MuJoCo renders (``gs-robot train``).

Stages (global step counter; resumable at any checkpoint):

1. ``canonical``: Gaussians only (positions, rotations, scales, opacities, colours) on the
   images of the canonical configuration (q = 0, where skinning is the identity);
2. ``skinning``: the skinning MLP (first warmed up for ``lbs_warmup`` steps on the bone
   labels of the URDF surface samples the Gaussians were initialised on), Gaussians at a
   tenth of their learning rate, on random configurations;
3. ``joint``: everything, including the pose-conditioned deformation MLP.

Loss per step (one configuration, all its views): L1(rgb) + w_mask L1(alpha, mask) +
w_depth L1(depth, target depth) on pixels that are robot in both. Initialisation: the
Gaussians are placed on area-uniform samples of the URDF's visual meshes in the canonical
configuration (a departure from the paper, which fits the canonical Gaussians from images
alone: cheaper on this CPU budget).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gs_robot_model import checkpoint as ckpt
from gs_robot_model.data import load_dataset, surface_samples
from gs_robot_model.model import ModelConfig, RobotGaussianModel


@dataclasses.dataclass
class TrainConfig:
    """Iterations per stage, views rendered per step (random subset of the configuration's
    views; 0 = all), learning rates, loss weights, seed."""

    canonical_iters: int = 200
    skinning_iters: int = 600
    joint_iters: int = 1200
    views_per_step: int = 2
    lbs_warmup: int = 300
    lr_means: float = 2e-4
    lr_quats: float = 2e-3
    lr_scales: float = 5e-3
    lr_opacity: float = 2e-2
    lr_color: float = 2e-2
    lr_lbs: float = 1e-3
    lr_app: float = 1e-3
    lr_normals: float = 5e-3
    lr_lights: float = 1e-2
    w_mask: float = 1.0
    w_depth: float = 0.2
    seed: int = 0
    checkpoint_every: int = 100

    @property
    def total(self) -> int:
        return self.canonical_iters + self.skinning_iters + self.joint_iters

    def stage(self, step: int) -> str:
        if step < self.canonical_iters:
            return "canonical"
        if step < self.canonical_iters + self.skinning_iters:
            return "skinning"
        return "joint"


def view_tensors(ds: dict, i: int):
    """Targets of configuration i: rgb (V,H,W,3) [0,1], mask (V,H,W,1), depth (V,H,W,1),
    viewmats (V,4,4) camera_from_world, Ks (V,3,3), q (J,)."""
    rgb = torch.from_numpy(ds["rgb"][i]).float() / 255.0
    mask = torch.from_numpy(ds["mask"][i]).float()[..., None]
    depth = torch.from_numpy(ds["depth"][i]).float()[..., None]
    viewmats = torch.linalg.inv(torch.from_numpy(ds["world_from_camera"][i]).double()).float()
    ks = torch.from_numpy(ds["K"]).float().expand(len(viewmats), 3, 3)
    return rgb, mask, depth, viewmats, ks, torch.from_numpy(ds["q"][i])


def image_loss(out, rgb, mask, depth, w_mask: float, w_depth: float) -> tuple[torch.Tensor, dict]:
    l_rgb = (out.rgb - rgb).abs().mean()
    l_mask = (out.alpha - mask).abs().mean()
    both = mask * (out.alpha.detach() > 0.5).float()
    l_depth = ((out.depth - depth).abs() * both).sum() / both.sum().clamp(min=1.0)
    loss = l_rgb + w_mask * l_mask + w_depth * l_depth
    return loss, {
        "rgb": float(l_rgb.detach()),
        "mask": float(l_mask.detach()),
        "depth": float(l_depth.detach()),
    }


def _param_groups(model: RobotGaussianModel, tc: TrainConfig):
    return [
        {"params": [model.means], "lr": tc.lr_means, "name": "means"},
        {"params": [model.quats], "lr": tc.lr_quats, "name": "quats"},
        {"params": [model.log_scales], "lr": tc.lr_scales, "name": "log_scales"},
        {"params": [model.opacity_logits], "lr": tc.lr_opacity, "name": "opacity_logits"},
        {"params": [model.color_logits], "lr": tc.lr_color, "name": "color_logits"},
        {"params": list(model.lbs.parameters()), "lr": tc.lr_lbs, "name": "lbs"},
        {"params": list(model.app.parameters()), "lr": tc.lr_app, "name": "app"},
        {"params": [model.normals], "lr": tc.lr_normals, "name": "normals"},
        {
            "params": [model.light_dirs, model.light_logits, model.ambient_logit],
            "lr": tc.lr_lights,
            "name": "lights",
        },
    ]


STAGE_GROUPS = {
    "canonical": {
        "means": 1.0,
        "quats": 1.0,
        "log_scales": 1.0,
        "opacity_logits": 1.0,
        "color_logits": 1.0,
        "normals": 1.0,
        "lights": 1.0,
    },
    "skinning": {
        "means": 0.1,
        "quats": 0.1,
        "log_scales": 0.1,
        "opacity_logits": 0.1,
        "color_logits": 0.3,
        "lbs": 1.0,
        "normals": 0.3,
        "lights": 1.0,
    },
    "joint": {
        "means": 0.3,
        "quats": 0.3,
        "log_scales": 0.3,
        "opacity_logits": 0.3,
        "color_logits": 0.3,
        "lbs": 0.3,
        "app": 1.0,
        "normals": 0.3,
        "lights": 0.3,
    },
}


def warmup_skinning(
    model: RobotGaussianModel, labels: torch.Tensor, steps: int, lr: float
) -> float:
    """Fit the skinning MLP to per-Gaussian bone labels (N,) (cross-entropy)."""
    opt = torch.optim.Adam(model.lbs.parameters(), lr=lr * 3)
    loss = torch.tensor(0.0)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model.skinning_logits(model.means.detach()), labels)
        loss.backward()
        opt.step()
    return float(loss.detach())


def plot_losses(history: list[dict], path: Path, stage_bounds: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    steps = np.array([h["step"] for h in history])
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("rgb", "mask", "depth", "loss"):
        vals = np.array([h[key] for h in history])
        k = min(25, len(vals))
        smooth = np.convolve(vals, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], smooth, label=key)
    for b in stage_bounds:
        ax.axvline(b, color="grey", ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("L1 (moving average, 25 steps)")
    ax.set_title("gs-robot train: canonical | skinning | joint")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)


def train(
    data_path: Path,
    out_dir: Path,
    mc: ModelConfig,
    tc: TrainConfig,
    resume: bool = True,
    threads: int | None = None,
) -> dict:
    """Train (or resume) a model in ``out_dir``; returns the final info dict."""
    if threads:
        torch.set_num_threads(threads)
    out_dir = Path(out_dir)
    ds = load_dataset(data_path)
    meta = ds["meta"]
    if meta["robot"] != mc.robot:
        raise ValueError(f"dataset robot={meta['robot']!r} differs from model robot={mc.robot!r}")
    torch.manual_seed(tc.seed)
    model = RobotGaussianModel(mc)
    canon_pts, canon_bone, canon_rgb, canon_nrm = surface_samples(
        model.robot, np.zeros(model.robot.num_joints), mc.num_gaussians, seed=tc.seed, normals=True
    )
    groups = _param_groups(model, tc)
    opt = torch.optim.Adam(groups, eps=1e-15)
    names = {p: f"{g['name']}.{i}" for g in groups for i, p in enumerate(g["params"])}
    history: list[dict] = []
    step = 0
    if resume and (out_dir / ckpt.CONFIG).is_file():
        model, info = ckpt.load_model(out_dir)
        model.train()
        groups = _param_groups(model, tc)
        opt = torch.optim.Adam(groups, eps=1e-15)
        names = {p: f"{g['name']}.{i}" for g in groups for i, p in enumerate(g["params"])}
        if (out_dir / ckpt.OPTIM).is_file():
            ckpt.restore_optimizer(opt, names, ckpt.load_file(str(out_dir / ckpt.OPTIM)))
        step = int(info["train"]["step"])
        hist_path = out_dir / "history.json"
        if hist_path.is_file():
            history = [h for h in json.loads(hist_path.read_text()) if h["step"] < step]
        print(f"resumed {out_dir} at step {step}")
    else:
        model.init_from_surface(canon_pts, normals=canon_nrm, rgb=canon_rgb)
    labels = torch.from_numpy(canon_bone)
    canonical_idx = np.flatnonzero(ds["canonical"])
    posed_idx = np.flatnonzero(~ds["canonical"])
    if len(canonical_idx) == 0 and tc.canonical_iters > 0:
        raise ValueError(f"dataset {data_path} has no canonical configurations")
    width, height = meta["width"], meta["height"]
    bounds = [tc.canonical_iters, tc.canonical_iters + tc.skinning_iters]
    base_lr = {g["name"]: g["lr"] for g in groups}

    def save(step_now: int) -> None:
        info = {
            "train": {
                **dataclasses.asdict(tc),
                "step": step_now,
                "stage": tc.stage(min(step_now, tc.total - 1)),
            },
            "data": {"path": str(data_path), **meta},
            "render": {"width": width, "height": height, "K": ds["K"].tolist()},
        }
        ckpt.save_model(out_dir, model, info)
        ckpt.save_tensors(out_dir / ckpt.OPTIM, ckpt.optimizer_tensors(opt, names))
        ckpt.save_json(out_dir / "history.json", history)
        plot_losses(history, out_dir / "loss.png", bounds)

    bar = tqdm(total=tc.total, initial=step, desc="train", unit="step")
    t0 = time.time()
    while step < tc.total:
        stage = tc.stage(step)
        if stage == "skinning" and step == tc.canonical_iters and tc.lbs_warmup > 0:
            ce = warmup_skinning(model, labels, tc.lbs_warmup, tc.lr_lbs)
            print(f"skinning warm-up: cross-entropy {ce:.4f}")
        rng = np.random.default_rng([tc.seed, step])
        pool = canonical_idx if stage == "canonical" else posed_idx
        i = int(rng.choice(pool))
        rgb, mask, depth, viewmats, ks, q = view_tensors(ds, i)
        if 0 < tc.views_per_step < len(viewmats):
            sel = torch.from_numpy(rng.choice(len(viewmats), tc.views_per_step, replace=False))
            rgb, mask, depth, viewmats, ks = rgb[sel], mask[sel], depth[sel], viewmats[sel], ks[sel]
        # cosine decay within the stage
        s0 = 0 if stage == "canonical" else (bounds[0] if stage == "skinning" else bounds[1])
        s_len = {
            "canonical": tc.canonical_iters,
            "skinning": tc.skinning_iters,
            "joint": tc.joint_iters,
        }[stage]
        decay = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - s0) / max(s_len, 1)))
        active = STAGE_GROUPS[stage]
        for g in opt.param_groups:
            g["lr"] = base_lr[g["name"]] * active.get(g["name"], 0.0) * decay
        opt.zero_grad(set_to_none=True)
        out = model.render(q, viewmats, ks, width, height)
        loss, parts = image_loss(out, rgb, mask, depth, tc.w_mask, tc.w_depth)
        loss.backward()
        for g in opt.param_groups:
            if g["name"] not in active:
                for p in g["params"]:
                    p.grad = None
        opt.step()
        step += 1
        history.append({"step": step, "stage": stage, "loss": float(loss.detach()), **parts})
        bar.set_postfix(stage=stage, loss=f"{float(loss.detach()):.4f}", rgb=f"{parts['rgb']:.4f}")
        bar.update(1)
        if step % tc.checkpoint_every == 0 or step == tc.total:
            save(step)
    bar.close()
    if not (out_dir / ckpt.CONFIG).is_file():
        save(step)
    info = json.loads((out_dir / ckpt.CONFIG).read_text())
    info["train"]["seconds_this_run"] = round(time.time() - t0, 1)
    return info
