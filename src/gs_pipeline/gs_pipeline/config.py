"""The declarative description of one model: its episodes, tracking, training, evaluation.

A pipeline config is a YAML file (``config/pipeline/<object>.yaml``). Every key is checked:
an unknown key, a wrong type or a value out of range is an error that names the key and the
value, before anything runs. ``PipelineConfig.stage_settings`` gives, per stage, exactly
the settings that determine that stage's output; the store keys outputs by their hash.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

OBJECTS = ("rope", "cloth", "toy")
SOURCES = ("sim", "files")


class ConfigError(ValueError):
    """A pipeline config that cannot be run; the message names the key and the value."""


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hex digest of a JSON-serializable object, independent of dict order."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_hash(path: str | Path, length: int = 16) -> str:
    """Hex digest of a file's content (recorded episodes are keyed by what they contain)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:length]


@dataclasses.dataclass(frozen=True)
class EpisodeSet:
    """Episodes from the simulator (``seed``, ``count``) or from recorded files (``files``:
    glob patterns; relative ones resolve against the working directory)."""

    source: str = "sim"
    seed: int = 0
    count: int = 1
    pushes: int = 3
    files: tuple[str, ...] = ()

    def check(self, where: str) -> None:
        _choice(f"{where}.source", self.source, SOURCES)
        if self.source == "sim":
            _range(f"{where}.count", self.count, 1, 100_000)
            _range(f"{where}.pushes", self.pushes, 1, 100)
            _range(f"{where}.seed", self.seed, 0, 2**63 - 1)
        elif not self.files:
            raise ConfigError(f"{where}.files: source 'files' needs at least one glob pattern")


@dataclasses.dataclass(frozen=True)
class SimulatorSettings:
    """How simulated episodes are generated (see ``gs-sim generate``)."""

    width: int = 320
    height: int = 240
    fps: float = 15.0
    cameras: int = 4
    speed: float = 0.08  # push speed [m/s]
    min_length: float = 0.10  # push length range [m]
    max_length: float = 0.20

    def check(self, where: str) -> None:
        _range(f"{where}.width", self.width, 16, 4096)
        _range(f"{where}.height", self.height, 16, 4096)
        _range(f"{where}.fps", self.fps, 1.0, 60.0)
        _range(f"{where}.cameras", self.cameras, 1, 8)
        _range(f"{where}.speed", self.speed, 0.005, 0.5)
        _range(f"{where}.min_length", self.min_length, 0.01, 0.5)
        _range(f"{where}.max_length", self.max_length, self.min_length, 0.5)


@dataclasses.dataclass(frozen=True)
class TrackingSettings:
    """``enabled: false`` trains on the simulator's ground-truth vertices (an oracle,
    announced in every report); otherwise every training episode is tracked as ``gs-track``
    does. ``tracker`` overrides fields of the tracker's config (e.g. ``iterations``)."""

    enabled: bool = True
    scale: float = 0.5
    voxel: float = 0.004
    particles: int = 150
    frames: str = ""  # a:b[:step], pushes[:before:after] or empty (all); gs-track --frames
    tracker: dict = dataclasses.field(default_factory=dict)

    def check(self, where: str) -> None:
        from gs_tracking.tracked_io import frame_spec_error
        from gs_tracking.tracker import TrackerConfig

        error = frame_spec_error(self.frames)
        if error:
            raise ConfigError(f"{where}.frames: {error}")
        _range(f"{where}.scale", self.scale, 0.05, 1.0)
        _range(f"{where}.voxel", self.voxel, 0.0005, 0.05)
        _range(f"{where}.particles", self.particles, 4, 100_000)
        known = {f.name for f in dataclasses.fields(TrackerConfig)}
        for key in self.tracker:
            if key not in known:
                raise ConfigError(
                    f"{where}.tracker.{key}: not a tracker setting "
                    f"(known: {', '.join(sorted(known))})"
                )


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """``gs-dyn train`` options; ``model`` overrides fields of the dynamics model config."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    edge_weight: float = 0.1
    rigid_weight: float = 0.0
    val_fraction: float = 0.15
    seed: int = 0
    augment: bool = True
    model: dict = dataclasses.field(default_factory=dict)

    def check(self, where: str) -> None:
        from gs_gnn_dynamics.config import DynamicsConfig

        _range(f"{where}.epochs", self.epochs, 1, 100_000)
        _range(f"{where}.batch_size", self.batch_size, 1, 100_000)
        _range(f"{where}.lr", self.lr, 1e-8, 1.0)
        _range(f"{where}.val_fraction", self.val_fraction, 0.0, 0.9)
        known = {f.name for f in dataclasses.fields(DynamicsConfig)}
        for key in self.model:
            if key not in known:
                raise ConfigError(
                    f"{where}.model.{key}: not a dynamics model setting "
                    f"(known: {', '.join(sorted(known))})"
                )


@dataclasses.dataclass(frozen=True)
class EvaluationSettings:
    """``gs-dyn eval`` on the held-out episodes (their ground truth where they have it)."""

    horizon: int = 10
    stride: int = 1
    contact_radius: float = 0.03
    emd: bool = True

    def check(self, where: str) -> None:
        _range(f"{where}.horizon", self.horizon, 1, 1000)
        _range(f"{where}.stride", self.stride, 1, 1000)
        _range(f"{where}.contact_radius", self.contact_radius, 0.001, 0.5)


@dataclasses.dataclass(frozen=True)
class TaskResources:
    """Ray resources one task of a stage asks for (GPUs: on a cluster that has them)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0

    def check(self, where: str) -> None:
        _range(f"{where}.num_cpus", self.num_cpus, 0.0, 1024.0)
        _range(f"{where}.num_gpus", self.num_gpus, 0.0, 64.0)


@dataclasses.dataclass(frozen=True)
class Resources:
    generate: TaskResources = TaskResources()
    track: TaskResources = TaskResources()
    train: TaskResources = TaskResources()
    evaluate: TaskResources = TaskResources()


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    name: str
    object: str = "rope"
    output: str = "models/pipeline"
    cache: str = "data/pipeline_cache"
    retries: int = 2
    train_episodes: EpisodeSet = EpisodeSet()
    heldout_episodes: EpisodeSet = EpisodeSet(seed=1000)
    simulator: SimulatorSettings = SimulatorSettings()
    tracking: TrackingSettings = TrackingSettings()
    training: TrainingSettings = TrainingSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    resources: Resources = Resources()

    def check(self) -> None:
        if not self.name or any(c in self.name for c in "/\\ "):
            raise ConfigError(f"name: must be a plain directory name, got {self.name!r}")
        _choice("object", self.object, OBJECTS)
        _range("retries", self.retries, 0, 20)
        self.train_episodes.check("episodes.train")
        self.heldout_episodes.check("episodes.heldout")
        self.simulator.check("simulator")
        self.tracking.check("tracking")
        self.training.check("training")
        self.evaluation.check("evaluation")
        for stage in ("generate", "track", "train", "evaluate"):
            getattr(self.resources, stage).check(f"resources.{stage}")

    @staticmethod
    def path(p: str) -> Path:
        """``p`` as an absolute path; relative paths resolve against the working directory
        (like every command-line tool of the project: run from the repository root)."""
        return Path(p).expanduser().resolve()

    def episode_files(self, episodes: EpisodeSet, where: str) -> list[Path]:
        """The recorded episode files of a ``source: files`` set, sorted, de-duplicated."""
        found: set[Path] = set()
        for pattern in episodes.files:
            matches = glob.glob(str(self.path(pattern)), recursive=True)
            if not matches:
                raise ConfigError(f"{where}.files: pattern {pattern!r} matches no file")
            found.update(Path(m).resolve() for m in matches)
        return sorted(found)

    # Stage settings: exactly what determines each stage's output (hashed into its key).
    def generate_settings(self) -> dict:
        return {"object": self.object, **dataclasses.asdict(self.simulator)}

    def track_settings(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self.tracking).items() if k != "enabled"}

    def train_settings(self) -> dict:
        return {"ground_truth": not self.tracking.enabled, **dataclasses.asdict(self.training)}

    def eval_settings(self) -> dict:
        return dataclasses.asdict(self.evaluation)

    def to_dict(self) -> dict:
        """The resolved config (every default filled in), as stored with a model."""
        d = dataclasses.asdict(self)
        d["episodes"] = {"train": d.pop("train_episodes"), "heldout": d.pop("heldout_episodes")}
        return d


def _choice(key: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"{key}: must be one of {', '.join(choices)}, got {value!r}")


def _range(key: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{key}: must be in [{lo}, {hi}], got {value!r}")


def _build(cls, data: Any, where: str):
    """A dataclass from a mapping, checking keys and scalar types against the fields."""
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: must be a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in fields:
            raise ConfigError(f"{path}: unknown key (known: {', '.join(sorted(fields))})")
        default = _default(fields[key])
        if dataclasses.is_dataclass(default):
            kwargs[key] = _build(type(default), value, path)
        elif isinstance(default, tuple):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: must be a list of strings, got {value!r}")
            kwargs[key] = tuple(value)
        elif isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: must be a mapping, got {value!r}")
            kwargs[key] = dict(value)
        else:
            kwargs[key] = _scalar(path, value, default)
    return cls(**kwargs)


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return ""


def _scalar(path: str, value: Any, default: Any):
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{path}: must be a string, got {value!r}")
    return value


def load_config(path: str | Path, overrides: dict | None = None) -> PipelineConfig:
    """Read and check a pipeline config. ``overrides``: nested mapping merged over the file
    (used by tests and ``--set key=value``)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read pipeline config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping at the top level")
    data = _merge(data, overrides or {})
    episodes = data.pop("episodes", {}) or {}
    if not isinstance(episodes, dict):
        raise ConfigError(f"episodes: must be a mapping with train and heldout, got {episodes!r}")
    unknown = set(episodes) - {"train", "heldout"}
    if unknown:
        raise ConfigError(f"episodes.{sorted(unknown)[0]}: unknown key (known: heldout, train)")
    if "name" not in data:
        data["name"] = path.stem
    cfg = _build(PipelineConfig, data, "")
    cfg = dataclasses.replace(
        cfg,
        train_episodes=_build(EpisodeSet, episodes.get("train"), "episodes.train"),
        heldout_episodes=_build(EpisodeSet, episodes.get("heldout"), "episodes.heldout"),
    )
    cfg.check()
    return cfg


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_set(items: list[str]) -> dict:
    """``["training.epochs=5", "tracking.enabled=false"]`` -> nested mapping (YAML values)."""
    out: dict = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(text)
    return out
