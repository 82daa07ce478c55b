"""The planner's settings table: config/planner.yaml agrees with it, the node's parameters
and the benchmark's options derive from it, configs() builds the cores' configs."""

import argparse
from pathlib import Path

import pytest
import yaml

from gs_common.settings import add_cli_option, resolve, yaml_defaults
from gs_common.workcell import ARM_BASE, WORKSPACE
from gs_mppi_planner.costs import CostConfig
from gs_mppi_planner.mppi import MPPIConfig
from gs_mppi_planner.settings import SETTINGS, configs

CONFIG = Path(__file__).resolve().parents[3] / "config" / "planner.yaml"


def test_planner_yaml_agrees_with_the_table():
    params = yaml.safe_load(CONFIG.read_text())["planner"]["ros__parameters"]
    assert params == yaml_defaults(SETTINGS)
    assert all(s.validate(s.default) is None for s in SETTINGS)


def test_configs_from_the_table_are_the_cores_defaults():
    cost, mppi, mpc = configs(resolve(SETTINGS))
    assert cost == CostConfig() and mppi == MPPIConfig()
    assert cost.workspace == WORKSPACE == mpc.limits.workspace and cost.arm_base == ARM_BASE
    with pytest.raises(ValueError, match=r"'workspace_x' = \[0.2, 0.1\]"):
        resolve(SETTINGS, {"workspace_x": [0.2, 0.1]})
    with pytest.raises(ValueError, match="unknown setting 'nope'"):
        resolve(SETTINGS, {"nope": 1})


def test_cli_options_take_type_default_and_help_from_the_table():
    p = argparse.ArgumentParser()
    add_cli_option(p, SETTINGS, "num_samples", "--samples")
    add_cli_option(p, SETTINGS, "cost")
    add_cli_option(p, SETTINGS, "torch_threads", "--threads", default=1)
    a = p.parse_args([])
    assert (a.num_samples, a.cost, a.torch_threads) == (64, "chamfer", 1)
    assert p.parse_args(["--samples", "8"]).num_samples == 8
    with pytest.raises(SystemExit):
        p.parse_args(["--cost", "nope"])
    assert "node default 0" in p.format_help()
