"""Pipeline configs: every key checked, errors name the key and the value; stage keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gs_pipeline.config import ConfigError, load_config, parse_set, stable_hash

REPO = Path(__file__).resolve().parents[3]
CONFIGS = sorted((REPO / "config" / "pipeline").glob("*.yaml"))


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.name == path.stem
    assert cfg.train_episodes.count >= 1


def test_defaults_and_name_from_file(tmp_path):
    cfg = load_config(write(tmp_path, "object: cloth\n"))
    assert cfg.name == "p" and cfg.object == "cloth"
    assert cfg.tracking.enabled and cfg.training.epochs == 30


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("object: sponge\n", "object: must be one of rope, cloth, toy, got 'sponge'"),
        ("tracking: {scale: 2.0}\n", "tracking.scale: must be in [0.05, 1.0], got 2.0"),
        ("tracking: {scael: 0.5}\n", "tracking.scael: unknown key"),
        ("tracking: {tracker: {iteratons: 3}}\n", "tracking.tracker.iteratons: not a tracker"),
        ("training: {epochs: ten}\n", "training.epochs: must be an integer, got 'ten'"),
        ("training: {model: {hiden: 3}}\n", "training.model.hiden: not a dynamics model"),
        ("episodes: {train: {count: 0}}\n", "episodes.train.count: must be in [1, 100000], got 0"),
        ("episodes: {valid: {}}\n", "episodes.valid: unknown key"),
        ("episodes: {train: {source: files}}\n", "episodes.train.files: source 'files' needs"),
        ("tracking: {enabled: 1}\n", "tracking.enabled: must be true or false, got 1"),
        ("name: a/b\n", "name: must be a plain directory name, got 'a/b'"),
        ("resources: {track: {num_gpus: -1}}\n", "resources.track.num_gpus: must be in"),
        ("tracking: {frames: 'pushes:3'}\n", "tracking.frames: 'pushes:3': expected pushes["),
        ("tracking: {frames: '5'}\n", "tracking.frames: '5': expected a:b[:step]"),
    ],
)
def test_bad_values_name_key_and_value(tmp_path, text, needle):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert needle in str(err.value)


def test_files_pattern_that_matches_nothing_is_named(tmp_path):
    cfg = load_config(
        write(tmp_path, f"episodes: {{train: {{source: files, files: ['{tmp_path}/none*.mcap']}}}}")
    )
    with pytest.raises(ConfigError, match=r"episodes.train.files: pattern .*none\*.mcap"):
        cfg.episode_files(cfg.train_episodes, "episodes.train")


def test_overrides_and_set_parsing(tmp_path):
    over = parse_set(["training.epochs=5", "tracking.enabled=false", "cache=/x/y"])
    assert over == {"training": {"epochs": 5}, "tracking": {"enabled": False}, "cache": "/x/y"}
    cfg = load_config(write(tmp_path, "training: {lr: 0.01}\n"), over)
    assert cfg.training.epochs == 5 and cfg.training.lr == 0.01 and not cfg.tracking.enabled
    with pytest.raises(ConfigError, match="key=value"):
        parse_set(["training.epochs"])


def test_stage_settings_change_only_their_stage(tmp_path):
    a = load_config(write(tmp_path, "name: a\n"))
    b = dataclasses.replace(a, training=dataclasses.replace(a.training, epochs=3))
    assert stable_hash(a.generate_settings()) == stable_hash(b.generate_settings())
    assert stable_hash(a.track_settings()) == stable_hash(b.track_settings())
    assert stable_hash(a.train_settings()) != stable_hash(b.train_settings())
    assert stable_hash({"x": 1, "y": [1, 2]}) == stable_hash({"y": [1, 2], "x": 1})
