"""ROS 2 message definitions (``ros2msg`` schema text, dependencies concatenated) for
writing rosbag2-compatible MCAP without a ROS runtime.

The .msg files are looked up in ``<prefix>/share/<pkg>/msg/`` of every ``AMENT_PREFIX_PATH``
entry and of ``sys.prefix`` (the PyPI ROS wheels install them there), then in this
repository's ``src/<pkg>/msg/``.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

PRIMITIVES = {
    "bool",
    "byte",
    "char",
    "float32",
    "float64",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "string",
    "wstring",
}
SEPARATOR = "=" * 80


def _search_roots() -> list[Path]:
    roots = [
        Path(p) / "share" for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p
    ]
    roots.append(Path(sys.prefix) / "share")
    roots.append(Path(__file__).resolve().parents[2])  # src/ of this repository
    return roots


@functools.cache
def msg_text(full_type: str) -> str:
    """Text of ``pkg/msg/Type`` (or ``pkg/Type``). Raises FileNotFoundError naming it."""
    pkg, name = full_type.split("/")[0], full_type.split("/")[-1]
    for root in _search_roots():
        path = root / pkg / "msg" / f"{name}.msg"
        if path.is_file():
            return path.read_text()
    raise FileNotFoundError(
        f"message definition {full_type} not found under {[str(r) for r in _search_roots()]}"
    )


def _dependencies(pkg: str, text: str) -> list[str]:
    deps = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or "=" in line:  # blank, or a constant definition
            continue
        base = re.sub(r"\[.*\]$", "", line.split()[0])
        base = re.sub(r"<=\d+$", "", base)
        if base in PRIMITIVES:
            continue
        if base == "Header":
            deps.append("std_msgs/Header")
        elif "/" in base:
            parts = base.split("/")
            deps.append(f"{parts[0]}/{parts[-1]}")
        else:
            deps.append(f"{pkg}/{base}")
    return deps


@functools.cache
def schema_text(full_type: str) -> str:
    """``ros2msg`` schema: the type's text + every nested dependency as ``MSG: pkg/Type``."""
    pkg = full_type.split("/")[0]
    main = msg_text(full_type)
    seen: list[str] = []
    stack = _dependencies(pkg, main)
    while stack:
        dep = stack.pop(0)
        if dep in seen:
            continue
        seen.append(dep)
        stack.extend(_dependencies(dep.split("/")[0], msg_text(dep)))
    parts = [main.rstrip("\n")]
    for dep in seen:
        parts.append(f"{SEPARATOR}\nMSG: {dep}\n{msg_text(dep).rstrip(chr(10))}")
    return "\n".join(parts) + "\n"


def schema_name(full_type: str) -> str:
    """``pkg/msg/Type`` (the rosbag2 schema name)."""
    pkg, name = full_type.split("/")[0], full_type.split("/")[-1]
    return f"{pkg}/msg/{name}"
