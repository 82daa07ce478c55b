"""The declarative stack description (config/stacks.yaml), shared by launch and runner.

``resolve(stack, overrides)`` turns the YAML into the exact list of nodes to start, with
absolute parameter-file paths, remappings and argument-derived parameters. The launch
files and the composed runner both call it and do nothing else with the YAML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class StackError(ValueError):
    """An unknown stack or argument, a bad argument value, or a malformed stacks.yaml."""


@dataclass(frozen=True)
class NodeLaunch:
    """One node of a resolved stack."""

    name: str
    package: str
    executable: str
    module: str  # "python.module:Class"
    parameter_files: tuple[str, ...]  # absolute paths, applied in order
    parameters: dict[str, Any] = field(default_factory=dict)  # from stack arguments
    remappings: tuple[tuple[str, str], ...] = ()

    def ros_args(self) -> list[str]:
        """The node's command-line ROS arguments (what `ros2 launch` would pass)."""
        args = ["--ros-args", "-r", f"__node:={self.name}"]
        for path in self.parameter_files:
            args += ["--params-file", path]
        for key, value in self.parameters.items():
            args += [
                "-p",
                f"{key}:={yaml.safe_dump(value, default_flow_style=True).strip()}".replace(
                    "\n...", ""
                ),
            ]
        for src, dst in self.remappings:
            args += ["-r", f"{src}:={dst}"]
        return args


def config_dir() -> Path:
    """config/ of the installed gs_dynamics package, or of the source tree."""
    env = os.environ.get("GS_DYNAMICS_CONFIG_DIR")
    if env:
        return Path(env)
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )

        try:
            return Path(get_package_share_directory("gs_dynamics")) / "config"
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    return Path(__file__).resolve().parents[3] / "config"


def rviz_config() -> Path:
    """rviz/planning.rviz, installed next to config/ (share/gs_dynamics/rviz) or in the source
    tree (top-level rviz/)."""
    return config_dir().parent / "rviz" / "planning.rviz"


def load_description(path: Path | None = None) -> dict[str, Any]:
    path = path or config_dir() / "stacks.yaml"
    with open(path) as f:
        desc = yaml.safe_load(f)
    if not isinstance(desc, dict) or "stacks" not in desc:
        raise StackError(f"{path}: expected a mapping with 'stacks'")
    return desc


def stack_names(desc: dict[str, Any] | None = None) -> list[str]:
    return sorted((desc or load_description())["stacks"])


def argument_defaults(desc: dict[str, Any] | None = None) -> dict[str, str]:
    desc = desc or load_description()
    return {k: str(v["default"]) for k, v in desc.get("arguments", {}).items()}


def resolve(
    stack: str,
    overrides: dict[str, str] | None = None,
    desc: dict[str, Any] | None = None,
    cfg_dir: Path | None = None,
) -> list[NodeLaunch]:
    """Nodes of ``stack`` for the argument values ``overrides`` (others: defaults)."""
    desc = desc or load_description()
    cfg_dir = cfg_dir or config_dir()
    if stack not in desc["stacks"]:
        raise StackError(f"unknown stack '{stack}'; known: {stack_names(desc)}")
    arg_specs = desc.get("arguments", {})
    values = argument_defaults(desc)
    for key, value in (overrides or {}).items():
        if key not in arg_specs:
            raise StackError(f"unknown argument '{key}'; known: {sorted(arg_specs)}")
        choices = [str(c) for c in arg_specs[key].get("choices", [])]
        if choices and str(value) not in choices:
            raise StackError(f"argument {key}:={value} is not one of {choices}")
        if arg_specs[key].get("type") == "int":
            try:
                int(str(value))
            except ValueError:
                raise StackError(f"argument {key}:={value} is not an integer") from None
        values[key] = str(value)

    nodes = []
    for spec in desc["stacks"][stack]["nodes"]:
        when = spec.get("when", {})
        if any(values[arg] not in [str(v) for v in allowed] for arg, allowed in when.items()):
            continue
        when_any = spec.get("when_any", {})
        if when_any and not any(
            values[arg] in [str(v) for v in allowed] for arg, allowed in when_any.items()
        ):
            continue
        params = {}
        for arg in spec.get("arguments", []):
            mapping = arg_specs[arg]["parameter"]
            # "values" maps argument values to parameter values; without it, passed as is
            value = mapping.get("values", {}).get(values[arg], values[arg])
            if arg_specs[arg].get("type") == "int":
                value = int(value)
            params[mapping["name"]] = value
        files = [str(cfg_dir / name) for name in spec.get("parameters", [])]
        nodes.append(
            NodeLaunch(
                name=spec["name"],
                package=spec["package"],
                executable=spec["executable"],
                module=spec["module"],
                parameter_files=tuple(files),
                parameters=params,
                remappings=tuple(sorted(spec.get("remappings", {}).items())),
            )
        )
    return nodes


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["source:=sim", ...]`` (launch-argument syntax) -> {"source": "sim"}."""
    out = {}
    for item in items:
        if ":=" not in item:
            raise StackError(f"argument '{item}' must look like name:=value")
        key, value = item.split(":=", 1)
        out[key] = value
    return out
