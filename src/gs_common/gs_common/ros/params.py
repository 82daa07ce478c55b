"""Declared, described and validated ROS parameters.

Nodes describe their parameters once as a list of :class:`ParamSpec`; ``declare_params``
declares them with descriptions (visible in ``ros2 param describe``), checks the values
given at start-up and rejects bad runtime changes with a reason that names the value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

from gs_common.settings import check_value


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: name, default (its type fixes the parameter type), description,
    optional numeric ``range`` (inclusive), ``choices`` or a ``check`` returning an error
    string (or None when valid). ``read_only`` parameters cannot change after start-up."""

    name: str
    default: Any
    description: str
    range: tuple[float, float] | None = None
    choices: Sequence[Any] | None = None
    check: Callable[[Any], str | None] | None = None
    read_only: bool = False

    def validate(self, value: Any) -> str | None:
        """None if ``value`` is acceptable, else a message naming the parameter and value."""
        return check_value(f"parameter '{self.name}'", value, self.range, self.choices, self.check)

    def descriptor(self) -> ParameterDescriptor:
        desc = ParameterDescriptor(description=self.description, read_only=self.read_only)
        if self.choices is not None:
            desc.additional_constraints = f"one of {list(self.choices)}"
        if self.range is not None and isinstance(self.default, bool) is False:
            if isinstance(self.default, int):
                desc.integer_range = [
                    IntegerRange(from_value=int(self.range[0]), to_value=int(self.range[1]), step=0)
                ]
            elif isinstance(self.default, float):
                desc.floating_point_range = [
                    FloatingPointRange(
                        from_value=float(self.range[0]), to_value=float(self.range[1]), step=0.0
                    )
                ]
        return desc


class ParameterError(ValueError):
    """A node was started with an invalid parameter value."""


def declare_params(node, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """Declare ``specs`` on ``node``, validate start-up values, guard runtime changes.

    Returns {name: value}. Raises ParameterError listing every invalid value.
    """
    by_name = {s.name: s for s in specs}
    values, problems = {}, []
    for spec in specs:
        try:
            value = node.declare_parameter(spec.name, spec.default, spec.descriptor()).value
        except (InvalidParameterValueException, InvalidParameterTypeException) as exc:
            # rclpy itself refused the value (outside the descriptor's range, wrong type):
            # say why in the table's words where the given value is of the declared type
            problems.append(_refused(node, spec, exc))
            continue
        problem = spec.validate(value)
        if problem:
            problems.append(problem)
        values[spec.name] = value
    if problems:
        raise ParameterError("; ".join(problems))

    def on_set(params) -> SetParametersResult:
        for p in params:
            spec = by_name.get(p.name)
            if spec is None:
                continue
            problem = spec.validate(p.value)
            if problem:
                return SetParametersResult(successful=False, reason=problem)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
    return values


def _refused(node, spec: ParamSpec, exc: Exception) -> str:
    """Message for a start-up value rclpy refused: ``spec.validate``'s (names the value and
    the allowed range) when the override is of the parameter's type, else rclpy's."""
    given = getattr(node, "_parameter_overrides", {}).get(spec.name)
    if isinstance(exc, InvalidParameterValueException) and given is not None:
        try:
            problem = spec.validate(given.value)
        except (TypeError, ValueError):
            problem = None
        if problem:
            return problem
    return f"parameter '{spec.name}': {exc}"


def param_specs(table) -> list[ParamSpec]:
    """ROS parameters of a settings table (gs_common.settings.Setting rows): the
    description carries the unit."""
    return [
        ParamSpec(s.name, s.default, s.help, s.range, s.choices, s.check, s.read_only)
        for s in table
    ]
