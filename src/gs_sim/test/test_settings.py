import pytest

from gs_sim.settings import check_setting, default_settings, workcell_config


def test_defaults_build_a_config():
    cfg = workcell_config(default_settings())
    assert cfg.rig.width_px == 320 and cfg.fps == 15.0 and cfg.obj.kind == "rope"


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("object", "banana", "'object' = 'banana' is not one of"),
        ("fps", 500.0, "'fps' = 500.0 is outside"),
        ("workspace_x", [0.2, -0.2], "min < max"),
        ("image_width", 2, "'image_width' = 2 is outside"),
    ],
)
def test_invalid_settings_are_named(name, value, words):
    assert words in check_setting(name, value)
    with pytest.raises(ValueError, match=name):
        workcell_config({name: value})


def test_object_overrides():
    cfg = workcell_config({"object": "toy", "object_size": 0.1, "object_stiffness": 500.0})
    assert cfg.obj.size == 0.1 and cfg.obj.stiffness == 500.0
