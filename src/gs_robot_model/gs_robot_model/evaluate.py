"""Evaluation (``gs-robot eval``), after Dr. Robot's Table 1, on held-out configurations
and viewpoints (a dataset rendered with a seed the model never saw):

* PSNR [dB] of the rendered RGB against the MuJoCo render (whole frame, as the paper, and
  over the robot region = union of both masks) and mask IoU (rendered alpha > threshold vs
  the MuJoCo robot mask);
* Chamfer distance [mm] between the posed Gaussian means and samples of the posed mesh
  surface (symmetric, mean of the two one-sided mean nearest-neighbour distances summed,
  as ``gs_common.pointsets.chamfer_distance``);
* pose estimation: mean absolute joint-angle error [deg] after :func:`estimate_pose` from
  1 view and from 4 views, starting from the true angles plus Gaussian noise.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gs_common.pointsets import chamfer_distance
from gs_render.png import image_grid, write_png
from gs_robot_model.checkpoint import save_json
from gs_robot_model.data import load_dataset, surface_samples
from gs_robot_model.estimate import estimate_pose
from gs_robot_model.model import RobotGaussianModel
from gs_robot_model.train import view_tensors

#: Dr. Robot (Table 1), GPU, 256x256 renders.
PAPER_PSNR_DB = {"xarm7": 33.25, "panda": 32.84}


@dataclasses.dataclass
class EvalConfig:
    """alpha_threshold: rendered alpha above which a pixel is robot; chamfer_points: mesh
    samples per configuration; pose_configs: configurations used for pose estimation;
    pose_noise_rad: std of the initial-guess noise per joint; pose_iters / pose_lr: Adam."""

    alpha_threshold: float = 0.5
    chamfer_points: int = 10000
    pose_configs: int = 6
    pose_noise_rad: float = 0.1
    pose_iters: int = 50
    pose_lr: float = 0.03
    seed: int = 0
    strip_configs: int = 4


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def evaluate(model: RobotGaussianModel, data_path: Path, out_dir: Path, ec: EvalConfig) -> dict:
    ds = load_dataset(data_path)
    meta = ds["meta"]
    if meta["robot"] != model.cfg.robot:
        raise ValueError(f"dataset robot={meta['robot']!r} differs from model {model.cfg.robot!r}")
    w, h = meta["width"], meta["height"]
    idx = np.flatnonzero(~ds["canonical"])
    psnrs, psnr_robot, ious, chamfers = [], [], [], []
    strip_rows = []
    t0 = time.time()
    with torch.no_grad():
        for n, i in enumerate(tqdm(idx, desc="render eval", unit="config")):
            rgb, mask, _, vm, ks, q = view_tensors(ds, i)
            out = model.render(q, vm, ks, w, h)
            pred = out.rgb.clamp(0, 1).numpy()
            gt = rgb.numpy()
            pm = out.alpha[..., 0].numpy() > ec.alpha_threshold
            gm = mask[..., 0].numpy() > 0.5
            for v in range(len(vm)):
                psnrs.append(psnr(pred[v], gt[v]))
                union = pm[v] | gm[v]
                if union.any():
                    psnr_robot.append(psnr(pred[v][union], gt[v][union]))
                    ious.append(float((pm[v] & gm[v]).sum() / union.sum()))
            posed = model.pose(q).means
            surf, _, _ = surface_samples(model.robot, q.numpy(), ec.chamfer_points, seed=int(i))
            chamfers.append(
                float(chamfer_distance(posed.double(), torch.from_numpy(surf).double()))
            )
            if n < ec.strip_configs:
                diff = np.abs(pred[0] - gt[0]).mean(-1, keepdims=True).repeat(3, -1)
                strip_rows.append([gt[0], pred[0], np.clip(diff * 4, 0, 1)])
    render_s = time.time() - t0
    # pose estimation from noisy initial guesses
    rng = np.random.default_rng(ec.seed)
    pose_idx = idx[: ec.pose_configs]
    errs = {1: [], 4: []}
    init_errs = []
    t1 = time.time()
    for i in tqdm(pose_idx, desc="pose estimation", unit="config"):
        rgb, mask, _, vm, ks, q = view_tensors(ds, i)
        noise = rng.normal(0.0, ec.pose_noise_rad, q.shape).astype(np.float32)
        q0 = torch.maximum(
            torch.minimum(q + torch.from_numpy(noise), model.kin.upper), model.kin.lower
        )
        init_errs.append(np.degrees(np.abs((q0 - q).numpy())))
        for nv in (1, 4):
            res = estimate_pose(
                model,
                vm[:nv],
                ks[:nv],
                w,
                h,
                q0,
                rgb=rgb[:nv],
                mask=mask[:nv, ..., 0],
                iters=ec.pose_iters,
                lr=ec.pose_lr,
            )
            errs[nv].append(np.degrees(np.abs(res.q - q.numpy())))
    pose_s = time.time() - t1
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if strip_rows:
        write_png(out_dir / "eval_strip.png", image_grid(strip_rows))

    def stats(x):
        x = np.asarray(x, dtype=np.float64)
        return {
            "mean": float(x.mean()),
            "std": float(x.std()),
            "min": float(x.min()),
            "max": float(x.max()),
        }

    result = {
        "robot": model.cfg.robot,
        "data": str(data_path),
        "resolution": [w, h],
        "num_configs": len(idx),
        "views_per_config": int(ds["rgb"].shape[1]),
        "num_gaussians": int(model.cfg.num_gaussians),
        "psnr_db": stats(psnrs),
        "psnr_robot_region_db": stats(psnr_robot),
        "mask_iou": stats(ious),
        "chamfer_mm": stats(np.asarray(chamfers) * 1000),
        "pose": {
            "configs": len(pose_idx),
            "noise_std_deg": math.degrees(ec.pose_noise_rad),
            "iters": ec.pose_iters,
            "initial_l1_deg": float(np.mean(init_errs)),
            "l1_deg_1view": float(np.mean(errs[1])),
            "l1_deg_4views": float(np.mean(errs[4])),
            "per_joint_l1_deg_1view": np.mean(errs[1], 0).tolist(),
            "per_joint_l1_deg_4views": np.mean(errs[4], 0).tolist(),
        },
        "paper_psnr_db": PAPER_PSNR_DB.get(model.cfg.robot),
        "targets": {"mask_iou": 0.95, "psnr_db": 30.0, "pose_l1_deg_4views": 2.0},
        "seconds": {"render_metrics": round(render_s, 1), "pose_estimation": round(pose_s, 1)},
        "config": dataclasses.asdict(ec),
    }
    save_json(out_dir / "eval.json", result)
    return result


def format_table(r: dict) -> str:
    """Markdown table of the metrics next to the paper's numbers and the targets."""
    paper = r["paper_psnr_db"]
    p = r["pose"]
    w, h = r["resolution"]

    def ms(d):
        return f"{d['mean']:.2f} +- {d['std']:.2f}"

    init = f"{p['initial_l1_deg']:.2f}"
    rows = [
        (f"metric ({r['robot']}, {w}x{h}, CPU)", "this model", "paper (GPU, 256x256)", "target"),
        ("---", "---", "---", "---"),
        ("PSNR [dB], whole frame", ms(r["psnr_db"]), str(paper or "-"), ">= 30"),
        ("PSNR [dB], robot region", ms(r["psnr_robot_region_db"]), "-", "-"),
        (
            "mask IoU",
            f"{r['mask_iou']['mean']:.4f} (min {r['mask_iou']['min']:.4f})",
            "-",
            ">= 0.95",
        ),
        ("Chamfer, Gaussians to mesh [mm]", ms(r["chamfer_mm"]), "-", "-"),
        (f"pose L1 [deg/joint], 1 view (init {init})", f"{p['l1_deg_1view']:.2f}", "-", "-"),
        (f"pose L1 [deg/joint], 4 views (init {init})", f"{p['l1_deg_4views']:.2f}", "-", "<= 2"),
    ]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
