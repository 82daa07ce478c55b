"""The simulator's settings table: config/sim.yaml agrees with it, the node's parameters and
the CLI's options derive from it, workcell_config() builds the workcell's config."""

from pathlib import Path

import pytest
import yaml

from gs_common.settings import defaults, yaml_defaults
from gs_common.workcell import ARM_BASE, WORKSPACE_X, WORKSPACE_Y
from gs_sim.cli import build_parser
from gs_sim.settings import NODE_SETTINGS, SETTINGS, workcell_config

CONFIG = Path(__file__).resolve().parents[3] / "config" / "sim.yaml"
BY_NAME = {s.name: s for s in NODE_SETTINGS}


def test_sim_yaml_agrees_with_the_table():
    params = yaml.safe_load(CONFIG.read_text())["sim"]["ros__parameters"]
    assert params == yaml_defaults(NODE_SETTINGS)
    assert all(s.validate(s.default) is None for s in NODE_SETTINGS)


def test_defaults_build_a_config():
    cfg = workcell_config(defaults(SETTINGS))
    assert cfg.rig.width_px == 320 and cfg.fps == 15.0 and cfg.obj.kind == "rope"
    ws = cfg.workspace
    assert (ws.x_min, ws.x_max, ws.y_min, ws.y_max) == (*WORKSPACE_X, *WORKSPACE_Y)
    assert cfg.arm_base == ARM_BASE


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("object", "banana", "'object' = 'banana' is not one of"),
        ("fps", 500.0, "'fps' = 500.0 is outside"),
        ("fps", float("nan"), "'fps' must be finite"),
        ("workspace_x", [0.2, -0.2], "min < max"),
        ("arm_base", [0.1], "'arm_base' = [0.1]: must be 2 finite numbers"),
        ("image_width", 2, "'image_width' = 2 is outside"),
    ],
)
def test_invalid_settings_are_named(name, value, words):
    assert words in BY_NAME[name].validate(value)
    with pytest.raises(ValueError, match=name):
        workcell_config({name: value})


def test_unknown_and_node_only_settings_are_refused_by_the_workcell():
    with pytest.raises(ValueError, match="unknown setting 'real_time'"):
        workcell_config({"real_time": False})


def test_object_overrides():
    cfg = workcell_config({"object": "toy", "object_size": 0.1, "object_stiffness": 500.0})
    assert cfg.obj.size == 0.1 and cfg.obj.stiffness == 500.0


def test_cli_options_take_defaults_and_choices_from_the_table():
    parser = build_parser()
    a = parser.parse_args(["generate", "--out", "x"])
    assert (a.object, a.image_width, a.image_height, a.fps, a.num_cameras) == (
        "rope", 320, 240, 15.0, 4
    )  # fmt: skip
    a = parser.parse_args(["generate", "--out", "x", "--width", "64", "--cameras", "1"])
    assert (a.image_width, a.num_cameras) == (64, 1)
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "--out", "x", "--object", "banana"])
