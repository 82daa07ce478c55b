"""config/dynamics.yaml agrees with the dynamics node's settings table."""

from pathlib import Path

import yaml

from gs_common.settings import yaml_defaults
from gs_gnn_dynamics.settings import SETTINGS

CONFIG = Path(__file__).resolve().parents[3] / "config" / "dynamics.yaml"


def test_dynamics_yaml_agrees_with_the_table():
    params = yaml.safe_load(CONFIG.read_text())["dynamics"]["ros__parameters"]
    assert params == yaml_defaults(SETTINGS)
    assert all(s.validate(s.default) is None for s in SETTINGS)
