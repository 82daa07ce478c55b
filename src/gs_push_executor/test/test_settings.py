"""The executor's settings table: config/push_executor.yaml agrees with it, bad values are
named, build() turns the defaults into the core's objects."""

from pathlib import Path

import pytest
import yaml

from gs_common.settings import resolve, yaml_defaults
from gs_common.workcell import ARM_BASE, WORKSPACE_X, WORKSPACE_Y
from gs_push_executor.settings import SETTINGS, build

CONFIG = Path(__file__).resolve().parents[3] / "config" / "push_executor.yaml"


def test_push_executor_yaml_agrees_with_the_table():
    params = yaml.safe_load(CONFIG.read_text())["push_executor"]["ros__parameters"]
    assert params == yaml_defaults(SETTINGS)
    assert all(s.validate(s.default) is None for s in SETTINGS)


@pytest.mark.parametrize(
    "values, words",
    [
        ({"retreat": [0.0, 0.1]}, "'retreat' = [0.0, 0.1]: must be 3 finite numbers"),
        ({"arm_base": [0.0, float("inf")]}, "'arm_base' = [0.0, inf]: must be 2 finite"),
        ({"home": [0.0, float("nan")]}, "'home' = [0.0, nan]: must be a list of finite numbers"),
        ({"workspace_y": [0.3, -0.3]}, "'workspace_y' = [0.3, -0.3]: must be [min, max]"),
        ({"control_rate": 0.5}, "'control_rate' = 0.5 is outside [1.0, 1000.0]"),
        ({"xarm_mode": "fast"}, "'xarm_mode' = 'fast' is not one of ['servo', 'position']"),
        ({"no_such": 1}, "unknown setting 'no_such'"),
    ],
)
def test_invalid_settings_are_named(values, words):
    with pytest.raises(ValueError) as exc:
        build(values)
    assert words in str(exc.value)


def test_defaults_build_the_cores_objects():
    s = resolve(SETTINGS)
    assert s["arm_base"] == list(ARM_BASE)
    robot, ws, limits, sup = build({})
    assert (ws.x_min, ws.x_max, ws.y_min, ws.y_max) == (*WORKSPACE_X, *WORKSPACE_Y)
    assert limits.retreat == (-0.22, 0.0, 0.25) and sup.rate == 50.0
    assert robot is not None
