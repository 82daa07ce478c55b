"""Settings tables: one row per setting (name, default, unit, range or choices, description),
from which a package derives its ROS parameters (``gs_common.ros.params.param_specs``), its
command-line options (:func:`add_cli_option`) and the defaults of its YAML file
(:func:`yaml_defaults`, checked against ``config/*.yaml`` by a test). ROS-free.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting. ``default``'s type fixes the type; ``unit``: SI unit ("" when none);
    ``range``: inclusive numeric bounds; ``choices``: allowed values; ``check``: returns an
    error string or None; ``read_only``: fixed after a node's start-up."""

    name: str
    default: Any
    unit: str
    description: str
    range: tuple[float, float] | None = None
    choices: Sequence[Any] | None = None
    check: Callable[[Any], str | None] | None = None
    read_only: bool = True

    @property
    def help(self) -> str:
        """Description with the unit, as ROS parameter descriptions and CLI help show it."""
        return f"{self.description} [{self.unit}]" if self.unit else self.description

    def validate(self, value: Any) -> str | None:
        """None if ``value`` is acceptable, else a message naming the setting and value."""
        return check_value(f"'{self.name}'", value, self.range, self.choices, self.check)


def check_value(
    label: str,
    value: Any,
    range: tuple[float, float] | None = None,
    choices: Sequence[Any] | None = None,
    check: Callable[[Any], str | None] | None = None,
) -> str | None:
    """None if ``value`` is finite and within ``range`` / ``choices`` / ``check``, else a
    message that starts with ``label`` (the settings table's and the ROS parameters' rule)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{label} must be finite, got {value}"
    if range is not None and not (range[0] <= value <= range[1]):
        return f"{label} = {value!r} is outside [{range[0]}, {range[1]}]"
    if choices is not None and value not in choices:
        return f"{label} = {value!r} is not one of {list(choices)}"
    if check is not None:
        problem = check(value)
        if problem:
            return f"{label} = {value!r}: {problem}"
    return None


def defaults(table: Sequence[Setting]) -> dict[str, Any]:
    """{name: default} (lists copied)."""
    return {s.name: list(s.default) if isinstance(s.default, list) else s.default for s in table}


def resolve(table: Sequence[Setting], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults updated with ``values``; raises ValueError naming every unknown or invalid
    value."""
    by_name = {s.name: s for s in table}
    out = defaults(table)
    problems = [f"unknown setting '{k}'" for k in (values or {}) if k not in by_name]
    out.update({k: v for k, v in (values or {}).items() if k in by_name})
    problems += [p for p in (by_name[k].validate(v) for k, v in out.items()) if p]
    if problems:
        raise ValueError("; ".join(problems))
    return out


def yaml_defaults(table: Sequence[Setting]) -> dict[str, Any]:
    """The ``ros__parameters`` block a YAML file of the table's defaults holds."""
    return defaults(table)


def add_cli_option(
    parser: argparse.ArgumentParser,
    table: Sequence[Setting],
    name: str,
    flag: str | None = None,
    default: Any = None,
) -> None:
    """Add ``--<name with dashes>`` (or ``flag``) for setting ``name``: type, default, choices
    and help from the table (``default`` overrides the table's where a tool differs; the
    help says so)."""
    s = next(x for x in table if x.name == name)
    value = s.default if default is None else default
    note = "" if default is None or default == s.default else f"; node default {s.default}"
    kwargs: dict[str, Any] = {"default": value, "help": f"{s.help} (default {value}{note})"}
    if isinstance(s.default, bool):
        kwargs["action"] = argparse.BooleanOptionalAction
    elif isinstance(s.default, list):
        kwargs.update(nargs=len(s.default), type=type(s.default[0]))
    else:
        kwargs["type"] = type(s.default)
    if s.choices is not None:
        kwargs["choices"] = list(s.choices)
    parser.add_argument(flag or "--" + name.replace("_", "-"), dest=name, **kwargs)


# checks shared by the tables -------------------------------------------------------------


def finite_vector(length: int | None = None) -> Callable[[Any], str | None]:
    """Check of a list of finite numbers: exactly ``length`` of them (any number when
    None)."""

    def check(v) -> str | None:
        vals = list(v)
        if not all(math.isfinite(float(x)) for x in vals) or (
            length is not None and len(vals) != length
        ):
            return f"must be {length or 'a list of'} finite numbers"
        return None

    return check


finite_pair = finite_vector(2)
"""Check of two finite numbers (an xy point)."""


def min_max(v) -> str | None:
    """A [min, max] pair with min < max."""
    if finite_pair(v):
        return finite_pair(v)
    return None if float(v[0]) < float(v[1]) else "must be [min, max], min < max"
