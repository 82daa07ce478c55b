"""Checkpoints: ``<name>.safetensors`` (weights) + ``<name>.json`` (config + metadata).

Never pickle. Writes are atomic (temporary file, then ``os.replace``); the JSON is written
last, so a checkpoint whose JSON exists is complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.model import ParticleDynamics

CHECKPOINT_FORMAT = "gs_gnn_dynamics.checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing or unreadable (the message names the file)."""


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights, json) for ``path`` given with or without a suffix."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def _atomic_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def save_checkpoint(
    path: str | os.PathLike, model: ParticleDynamics, metadata: dict[str, Any] | None = None
) -> Path:
    """Write the model's weights (float32) and config; returns the weights path."""
    weights, meta = checkpoint_paths(path)
    save_tensors(weights, {k: v.float() for k, v in model.state_dict().items()})
    _atomic_json(
        meta,
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": model.cfg.to_dict(),
            "metadata": metadata or {},
        },
    )
    return weights


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[ParticleDynamics, dict]:
    """(model in eval mode on ``device``, the JSON document)."""
    weights, meta = checkpoint_paths(path)
    for f in (weights, meta):
        if not f.is_file():
            raise CheckpointError(f"checkpoint file {f} does not exist")
    try:
        doc = json.loads(meta.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{meta} is not valid JSON: {exc}") from exc
    if doc.get("format") != CHECKPOINT_FORMAT or int(doc.get("version", 0)) > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{meta} is not a {CHECKPOINT_FORMAT} v<={CHECKPOINT_VERSION} "
            f"file (format={doc.get('format')!r}, version={doc.get('version')})"
        )
    model = ParticleDynamics(DynamicsConfig.from_dict(doc["config"]))
    try:
        model.load_state_dict(load_file(str(weights)))
    except Exception as exc:
        raise CheckpointError(f"{weights} does not match its config: {exc}") from exc
    return model.to(device).eval(), doc
