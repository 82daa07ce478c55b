"""The launch files and the stack runner start the same nodes, identically configured.

Where `launch`/`launch_ros` are importable (installed by scripts/bootstrap.sh from
../shared/ros2-cli, or a ROS 2 install) the real launch expands each launch file into the
command lines it would execute, which must equal the runner's (gs-stack) command lines:
executable, node name, parameter files, argument-derived parameters and remappings.
Elsewhere small stand-ins record what the launch files construct.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
import types
from pathlib import Path

import pytest
import yaml

from gs_dynamics.stacks import resolve, stack_names

REPO = Path(__file__).resolve().parents[3]
HAVE_LAUNCH = importlib.util.find_spec("launch_ros") is not None

ARGUMENT_CASES = [
    {},
    {"source": "realsense"},
    {"use_gpu": "false", "oracle_state": "true"},
    {"robot": "ros2_control", "viz": "foxglove"},
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


@pytest.mark.skipif(HAVE_LAUNCH, reason="real launch installed: compared by test_real_launch_*")
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


@pytest.mark.skipif(HAVE_LAUNCH, reason="real launch installed: see the launch_testing tests")
def test_rviz_argument_adds_rviz2_with_the_config(fake_launch):
    from gs_dynamics.stacks import rviz_config

    nodes = launched_nodes("planning", {"rviz": "true"})
    rviz = [n for n in nodes if n["package"] == "rviz2"]
    assert len(rviz) == 1 and rviz[0]["arguments"] == ["-d", str(rviz_config())]
    assert "viz_markers" in [n["name"] for n in nodes]  # the markers it shows
    assert not [n for n in launched_nodes("planning", {}) if n["package"] == "rviz2"]


def _parse_command(cmd: list[str]) -> dict:
    """A node's command line -> executable, name, parameter files, parameters, remappings.
    launch passes argument-derived parameters as a temporary parameter file
    (launch_params_*), the runner as ``-p name:=value``: both end up in ``parameters``.
    """
    out = {"executable": cmd[0], "files": [], "parameters": {}, "remappings": []}
    args = cmd[cmd.index("--ros-args") + 1 :]
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag == "-r" and value.startswith("__node:="):
            out["name"] = value.removeprefix("__node:=").split("/")[-1]
        elif flag == "-r":
            out["remappings"].append(tuple(value.split(":=", 1)))
        elif flag == "-p":
            key, raw = value.split(":=", 1)
            out["parameters"][key] = yaml.safe_load(raw)
        elif flag == "--params-file" and os.path.basename(value).startswith("launch_params_"):
            with open(value) as f:
                (section,) = yaml.safe_load(f).values()
            out["parameters"].update(section["ros__parameters"])
            os.unlink(value)
        else:
            assert flag == "--params-file", flag
            out["files"].append(value)
    return out


def real_launch_commands(stack: str, arguments: dict[str, str]) -> list[dict]:
    """The command lines the real `ros2 launch gs_dynamics <stack>.launch.py` would run."""
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.utilities import perform_substitutions

    from launch import LaunchContext

    description = runpy.run_path(str(REPO / "launch" / f"{stack}.launch.py"))[
        "generate_launch_description"
    ]()
    context = LaunchContext()
    context.launch_configurations.update(arguments)
    nodes = []
    for entity in description.entities:
        if isinstance(entity, DeclareLaunchArgument):
            entity.visit(context)  # default values, choices checked
        elif isinstance(entity, OpaqueFunction):
            nodes += entity.visit(context)
    commands = []
    for node in nodes:
        node._perform_substitutions(context)
        name = node.node_name.split("/")[-1]
        context.extend_locals({"ros_specific_arguments": {"name": f"__node:={name}"}})
        commands.append(_parse_command([perform_substitutions(context, p) for p in node.cmd]))
    return commands


@pytest.mark.skipif(not HAVE_LAUNCH, reason="launch_ros is not installed (stand-ins used)")
@pytest.mark.parametrize("stack", ["planning", "sim", "monitor"])
@pytest.mark.parametrize("arguments", ARGUMENT_CASES, ids=str)
def test_real_launch_runs_the_runners_command_lines(stack, arguments):
    from gs_dynamics.runner import executable_path

    from_launch = real_launch_commands(stack, arguments)
    from_runner = [
        _parse_command([str(executable_path(spec)), *spec.ros_args()])
        for spec in resolve(stack, arguments)
    ]
    assert from_launch == from_runner
    assert [c["name"] for c in from_launch] == [s.name for s in resolve(stack, arguments)]
