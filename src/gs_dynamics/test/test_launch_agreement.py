"""The launch files and the composed runner start the same nodes, identically configured.

Where `launch`/`launch_ros` are importable (full ROS 2 install, docker) the real classes are
used; elsewhere small stand-ins record what the launch files construct, which is exactly
what needs checking: which nodes, executables, names, parameter files, argument-derived
parameters and remappings each launch file produces for given arguments.
"""

from __future__ import annotations

import importlib.util
import runpy
import sys
import types
from pathlib import Path

import pytest

from gs_dynamics.stacks import resolve, stack_names

REPO = Path(__file__).resolve().parents[3]
HAVE_LAUNCH = importlib.util.find_spec("launch_ros") is not None

ARGUMENT_CASES = [
    {},
    {"source": "realsense"},
    {"use_gpu": "false", "oracle_state": "true"},
    {"oracle_masks": "true"},
]


class _Recorder:
    """Stand-in for launch classes: keeps its constructor arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class _LaunchConfiguration:
    def __init__(self, name):
        self.name = name

    def perform(self, context):
        return context.arguments[self.name]


@pytest.fixture
def fake_launch(monkeypatch):
    """Install stand-in `launch` and `launch_ros` modules (only where the real ones are absent)."""
    launch = types.ModuleType("launch")
    launch.LaunchDescription = lambda entities: list(entities)
    actions = types.ModuleType("launch.actions")
    actions.DeclareLaunchArgument = type("DeclareLaunchArgument", (_Recorder,), {})
    actions.OpaqueFunction = type("OpaqueFunction", (_Recorder,), {})
    subs = types.ModuleType("launch.substitutions")
    subs.LaunchConfiguration = _LaunchConfiguration
    launch_ros = types.ModuleType("launch_ros")
    ros_actions = types.ModuleType("launch_ros.actions")
    ros_actions.Node = type("Node", (_Recorder,), {})
    for name, mod in {
        "launch": launch,
        "launch.actions": actions,
        "launch.substitutions": subs,
        "launch_ros": launch_ros,
        "launch_ros.actions": ros_actions,
    }.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.delitem(sys.modules, "gs_dynamics.launch_builder", raising=False)
    return ros_actions.Node


def launched_nodes(stack: str, arguments: dict[str, str]) -> list[dict]:
    """Run launch/<stack>.launch.py (with stand-ins) and return what its Node actions hold."""
    entities = runpy.run_path(str(REPO / "launch" / f"{stack}.launch.py"))[
        "generate_launch_description"
    ]()
    declared = {
        e.args[0] if e.args else e.kwargs["name"]: e.kwargs["default_value"]
        for e in entities
        if type(e).__name__ == "DeclareLaunchArgument"
    }
    context = types.SimpleNamespace(arguments={**declared, **arguments})
    nodes = []
    for e in entities:
        if type(e).__name__ == "OpaqueFunction":
            nodes += e.kwargs["function"](context, *e.kwargs.get("args", []))
    return [n.kwargs for n in nodes]


def test_every_stack_has_a_launch_file():
    launch_files = {p.name.removesuffix(".launch.py") for p in (REPO / "launch").glob("*.py")}
    assert set(stack_names()) == launch_files


@pytest.mark.skipif(HAVE_LAUNCH, reason="real launch installed: see the launch_testing tests")
@pytest.mark.parametrize("stack", ["planning", "sim", "monitor"])
@pytest.mark.parametrize("arguments", ARGUMENT_CASES, ids=str)
def test_launch_file_matches_runner(fake_launch, stack, arguments):
    from_launch = launched_nodes(stack, arguments)
    from_runner = resolve(stack, arguments)
    assert [n["name"] for n in from_launch] == [s.name for s in from_runner]
    for launched, spec in zip(from_launch, from_runner, strict=True):
        assert launched["package"] == spec.package
        assert launched["executable"] == spec.executable
        files = [p for p in launched["parameters"] if isinstance(p, str)]
        overrides = {
            k: v for p in launched["parameters"] if isinstance(p, dict) for k, v in p.items()
        }
        assert files == list(spec.parameter_files)
        assert overrides == spec.parameters
        assert [tuple(r) for r in launched["remappings"]] == list(spec.remappings)


def test_arguments_select_nodes_and_parameters():
    default = {n.name: n for n in resolve("planning")}
    assert "sim" in default and default["planner"].parameters == {
        "device": "auto",
        "oracle_state": False,
    }
    real = {n.name: n for n in resolve("planning", {"source": "realsense", "use_gpu": "true"})}
    assert "sim" not in real and real["dynamics"].parameters == {"device": "cuda"}
