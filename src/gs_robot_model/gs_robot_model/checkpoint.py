"""Checkpoints: safetensors weights + a JSON file (model config, training state). Atomic."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from gs_robot_model.model import ModelConfig, RobotGaussianModel

WEIGHTS = "model.safetensors"
CONFIG = "model.json"
OPTIM = "optimizer.safetensors"


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_json(path: Path, obj: dict) -> None:
    def w(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")

    _atomic(Path(path), w)


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _atomic(Path(path), lambda tmp: save_file(flat, tmp))


def save_model(directory: Path, model: RobotGaussianModel, info: dict) -> None:
    """Write ``model.safetensors`` (weights) then ``model.json`` (config + ``info``)."""
    directory = Path(directory)
    state = {k: v for k, v in model.state_dict().items()}
    save_tensors(directory / WEIGHTS, state)
    save_json(directory / CONFIG, {"model": _cfg_dict(model.cfg), **info})


def _cfg_dict(cfg: ModelConfig) -> dict:
    import dataclasses

    d = dataclasses.asdict(cfg)
    d["background"] = list(d["background"])
    return d


def load_model(directory: Path, dtype=torch.float32) -> tuple[RobotGaussianModel, dict]:
    """(model in eval mode, the JSON info) from a checkpoint directory."""
    directory = Path(directory)
    cfg_path, w_path = directory / CONFIG, directory / WEIGHTS
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint file {p} does not exist")
    info = json.loads(cfg_path.read_text())
    model = RobotGaussianModel(ModelConfig.from_dict(info["model"]), dtype=dtype)
    state = load_file(str(w_path))
    model.load_state_dict({k: v.to(dtype) for k, v in state.items()})
    model.eval()
    return model, info


def optimizer_tensors(opt: torch.optim.Optimizer, names: dict) -> dict[str, torch.Tensor]:
    """Adam state as flat tensors keyed ``<param name>.<field>``."""
    out = {}
    for p, st in opt.state.items():
        for key, val in st.items():
            out[f"{names[p]}.{key}"] = torch.as_tensor(val)
    return out


def restore_optimizer(opt: torch.optim.Optimizer, names: dict, tensors: dict) -> None:
    by_name = {v: k for k, v in names.items()}
    for key, val in tensors.items():
        pname, field = key.rsplit(".", 1)
        p = by_name[pname]
        opt.state[p][field] = val if field != "step" else val.float()
