"""Training: multi-step rollout loss, episode split, seeded, resumable.

Output directory: ``model.{safetensors,json}`` (best validation), ``last.{...}`` (latest
epoch), ``train_state.{safetensors,json}`` (optimizer moments, RNG, epoch: resume with
``--resume``), ``log.jsonl`` (one line per epoch) and ``loss.png`` (its loss curves).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from gs_common.device import resolve_device
from gs_common.geometry import kabsch_umeyama
from gs_gnn_dynamics.checkpoint import (
    _atomic_json,
    load_checkpoint,
    save_checkpoint,
    save_tensors,
)
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.data import Windows, episode_files, load_segments, make_windows, rotate_z
from gs_gnn_dynamics.graph import build_graph
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.rollout import rollout


@dataclasses.dataclass
class TrainOptions:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    edge_weight: float = 0.1  # edge-length regularization
    rigid_weight: float = 0.0  # rigidity term (Umeyama fit of the whole object), rigid objects
    val_fraction: float = 0.15
    seed: int = 0
    device: str = "auto"
    augment: bool = True  # random rotation about z
    progress: bool = True


def split_episodes(files: list[Path], val_fraction: float, seed: int):
    """(train, val) file lists, split by episode with a seeded permutation."""
    if len(files) < 2:
        return list(files), []
    n_val = min(len(files) - 1, max(1, round(val_fraction * len(files))))
    order = np.random.default_rng(seed).permutation(len(files))
    val = sorted(files[i] for i in order[:n_val])
    return sorted(set(files) - set(val)), val


def window_loss(
    model: ParticleDynamics,
    frames: torch.Tensor,
    tool: torch.Tensor,
    mask: torch.Tensor,
    edge_weight: float,
    rigid_weight: float = 0.0,
) -> tuple[torch.Tensor, dict]:
    """Loss of a batch of windows (see :class:`Windows`): MSE of the tau-step rollout (in
    units of ``motion_scale``^2) + ``edge_weight`` x squared error of object-object edge
    lengths (edges of the ground-truth start state) + ``rigid_weight`` x squared residual of
    the best rigid (Umeyama) fit from the start state to each predicted state."""
    cfg = model.cfg
    k = cfg.history
    motions = frames[:, 1 : k + 1] - frames[:, :k]  # (B, k, N, 3)
    tool_motions = (tool[:, 1 : k + 1] - tool[:, :k])[:, :, None]
    pred = rollout(model, frames[:, k], tool[:, k:], mask, motions, tool_motions)
    target = frames[:, k:]
    w = mask[:, None, :, None].to(pred.dtype)
    s2 = cfg.motion_scale**2
    mse = (
        (((pred[:, 1:] - target[:, 1:]) ** 2) * w[:, :, :, :]).sum()
        / (w.sum() * 3 * (pred.shape[1] - 1)).clamp_min(1)
        / s2
    )
    g = build_graph(frames[:, k], tool[:, k, None], mask, cfg.radius, cfg.topk, cfg.tool_radius)
    nbr = g.senders[..., : cfg.topk]  # object senders only
    ev = g.valid[..., : cfg.topk].to(pred.dtype)  # (B, N, K)

    def lengths(x):  # x (B, T, N, 3) -> (B, T, N, K)
        b, t, n, _ = x.shape
        idx = nbr[:, None].expand(b, t, n, cfg.topk).reshape(b, t, n * cfg.topk, 1)
        xs = x.gather(2, idx.expand(-1, -1, -1, 3)).reshape(b, t, n, cfg.topk, 3)
        return (x[:, :, :, None] - xs).norm(dim=-1)

    e_err = (
        ((lengths(pred[:, 1:]) - lengths(target[:, 1:])) ** 2 * ev[:, None]).sum()
        / (ev.sum() * (pred.shape[1] - 1)).clamp_min(1)
        / s2
    )
    loss = mse + edge_weight * e_err
    parts = {"mse": float(mse.detach()), "edge": float(e_err.detach())}
    if rigid_weight > 0:
        x0 = pred[:, :1].expand_as(pred[:, 1:])
        wr = mask[:, None].expand(-1, pred.shape[1] - 1, -1).to(pred.dtype)
        r, t, _ = kabsch_umeyama(x0, pred[:, 1:], wr)
        rigid = (x0 @ r.transpose(-1, -2)) + t[..., None, :]
        r_err = (((rigid - pred[:, 1:]) ** 2).sum(-1) * wr).sum() / wr.sum().clamp_min(1) / s2
        loss = loss + rigid_weight * r_err
        parts["rigid"] = float(r_err.detach())
    return loss, parts


def _batches(n: int, size: int, gen: torch.Generator | None):
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    return [order[i : i + size] for i in range(0, n, size)]


def evaluate_windows(model, windows: Windows, batch_size: int, device) -> float:
    """Mean rollout MSE (units of motion_scale^2) over ``windows``."""
    if len(windows) == 0:
        return float("nan")
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for idx in _batches(len(windows), batch_size, None):
            f, t, m = (x[idx].to(device) for x in (windows.frames, windows.tool, windows.mask))
            _, parts = window_loss(model, f, t, m, 0.0)
            total += parts["mse"] * len(idx)
            count += len(idx)
    return total / count


def _save_state(out: Path, opt: torch.optim.Optimizer, gen: torch.Generator, info: dict):
    tensors = {"rng": gen.get_state()}
    for i, st in enumerate(opt.state_dict()["state"].values()):
        for key, val in st.items():
            tensors[f"opt.{i}.{key}"] = torch.as_tensor(val)
    save_tensors(out / "train_state.safetensors", tensors)
    _atomic_json(out / "train_state.json", info)


def _load_state(out: Path, opt: torch.optim.Optimizer, gen: torch.Generator) -> dict:
    info = json.loads((out / "train_state.json").read_text())
    tensors = load_file(str(out / "train_state.safetensors"))
    gen.set_state(tensors["rng"])
    sd = opt.state_dict()
    state = {}
    for i, pid in enumerate(sd["param_groups"][0]["params"]):
        keys = [k.split(".", 2)[2] for k in tensors if k.startswith(f"opt.{i}.")]
        state[pid] = {key: tensors[f"opt.{i}.{key}"] for key in keys}
    sd["state"] = state
    opt.load_state_dict(sd)
    return info


def train(
    data: str | os.PathLike,
    out: str | os.PathLike,
    cfg: DynamicsConfig,
    opts: TrainOptions,
    resume: bool = False,
    log=print,
) -> dict:
    """Train on the episodes under ``data``; returns the summary (also in ``out``)."""
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(opts.device)
    torch.manual_seed(opts.seed)
    files = episode_files(data)
    train_files, val_files = split_episodes(files, opts.val_fraction, opts.seed)
    t0 = time.time()
    train_w = make_windows(load_segments(train_files, cfg), cfg.history, cfg.horizon)
    val_segments = load_segments(val_files, cfg)
    val_w = (
        make_windows(val_segments, cfg.history, cfg.horizon)
        if val_segments
        else Windows(train_w.frames[:0], train_w.tool[:0], train_w.mask[:0])
    )
    log(
        f"data: {len(train_files)} train / {len(val_files)} val episodes, {len(train_w)} / "
        f"{len(val_w)} windows, {train_w.frames.shape[2]} particles max "
        f"({time.time() - t0:.1f} s); device {device}"
    )

    gen = torch.Generator().manual_seed(opts.seed)
    start_epoch, best = 0, float("inf")
    if resume and (out / "train_state.json").is_file():
        model, _ = load_checkpoint(out / "last", device)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=opts.lr)
        info = _load_state(out, opt, gen)
        start_epoch, best = info["epoch"], info["best_val"]
        log(f"resumed from epoch {start_epoch} (best val {best:.4f})")
    else:
        model = ParticleDynamics(cfg).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=opts.lr)
    meta = {
        "data": str(data),
        "train_episodes": [f.name for f in train_files],
        "val_episodes": [f.name for f in val_files],
        "options": dataclasses.asdict(opts),
    }
    history = []
    for epoch in range(start_epoch, opts.epochs):
        model.train()
        batches = _batches(len(train_w), opts.batch_size, gen)
        bar = tqdm(
            batches, desc=f"epoch {epoch + 1}/{opts.epochs}", disable=not opts.progress, leave=False
        )
        losses = []
        for idx in bar:
            f, t, m = train_w.frames[idx], train_w.tool[idx], train_w.mask[idx]
            if opts.augment:
                angle = torch.rand(len(idx), generator=gen) * (2 * np.pi)
                f, t = rotate_z(f, t, angle)
            loss, _ = window_loss(
                model, f.to(device), t.to(device), m.to(device), opts.edge_weight, opts.rigid_weight
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
        val = evaluate_windows(model, val_w, 256, device)
        rec = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)),
            "val_mse": val,
            "elapsed_s": round(time.time() - t0, 1),
        }
        history.append(rec)
        with open(out / "log.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        score = val if np.isfinite(val) else rec["train_loss"]
        if score < best:
            best = score
            save_checkpoint(out / "model", model, {**meta, **rec})
        save_checkpoint(out / "last", model, {**meta, **rec})
        _save_state(out, opt, gen, {"epoch": epoch + 1, "best_val": best})
        log(
            f"epoch {epoch + 1}: train loss {rec['train_loss']:.4f}, val mse {val:.4f} "
            f"(cm^2 per particle-step), {rec['elapsed_s']} s"
        )
    plot_losses(out / "log.jsonl", out / "loss.png")
    return {"best_val": best, "epochs": history, "out": str(out)}


def plot_losses(log_jsonl: Path, png: Path) -> None:
    """Training and validation loss per epoch (from the training log) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [json.loads(line) for line in log_jsonl.read_text().splitlines() if line.strip()]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    epochs = [r["epoch"] for r in recs]
    ax.plot(epochs, [r["train_loss"] for r in recs], "o-", label="train loss")
    ax.plot(epochs, [r["val_mse"] for r in recs], "s-", label="validation rollout MSE")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss [cm$^2$ per particle-step]")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
