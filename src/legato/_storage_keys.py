"""``result_storage_key`` templates: ``render_storage_key`` (re-exported by ``legato.results``).

A template uses ``str.format`` syntax: ``{parameters[name]}`` and the runtime
fields ``{flow_run.name}``, ``{task_run.id}``...; an unknown field is a
ParameterError that lists the available ones.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from legato import runtime
from legato.exceptions import ParameterError

__all__ = ["render_storage_key"]


def render_storage_key(
    template: str,
    parameters: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> str:
    """Fill a ``result_storage_key`` template, e.g. ``"{parameters[x]}-{flow_run.name}.pkl"``.

    Fields: ``{parameters[name]}`` (the call's arguments) and the runtime
    fields ``{flow_run.id}``, ``{flow_run.name}``, ``{task_run.id}``,
    ``{task_run.name}``... ``context`` maps names to objects or dicts; None
    means the current run (``flow_run``, ``task_run``, ``deployment`` from
    ``legato.runtime``). An unknown field raises ParameterError listing the
    available ones.
    """
    if context is None:
        context = {
            "flow_run": runtime.flow_run,
            "task_run": runtime.task_run,
            "deployment": runtime.deployment,
        }
    fields = {name: _Fields(value) for name, value in context.items()}
    fields["parameters"] = _Fields(parameters, by_item=True)
    try:
        return _KeyFormatter().format(template, **fields)
    except _UnknownField as exc:
        available = ", ".join(_available_fields(fields))
        raise ParameterError(
            f"result_storage_key {template!r} uses the unknown field {{{exc.field}}}. "
            f"Available fields: {available}. Parameters are written {{parameters[name]}}."
        ) from None
    except (ValueError, IndexError) as exc:
        raise ParameterError(
            f"result_storage_key {template!r} is not a valid template ({exc}). "
            "Write fields like {parameters[x]} or {flow_run.name}; double braces for literal ones."
        ) from None


class _UnknownField(Exception):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class _Fields:
    """A context value seen through a template: attributes, or items for parameters."""

    __slots__ = ("by_item", "value")

    def __init__(self, value: Any, by_item: bool = False) -> None:
        self.value = value
        self.by_item = by_item

    def names(self) -> list[str]:
        value = self.value
        if isinstance(value, Mapping):
            return sorted(str(name) for name in value)
        listed = getattr(value, "__all__", None)
        if listed is not None:
            return sorted(listed)
        return sorted(name for name in dir(value) if not name.startswith("_"))

    def lookup(self, name: str, is_attribute: bool) -> Any:
        if is_attribute == self.by_item:
            raise KeyError(name)
        value = self.value
        if isinstance(value, Mapping):
            return value[name]
        return getattr(value, name)


class _KeyFormatter(string.Formatter):
    """str.format with our field lookup, so an unknown field names itself."""

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        first, rest = _split_field(field_name)
        if first not in kwargs:
            raise _UnknownField(field_name)
        obj: Any = kwargs[first]
        for position, (is_attribute, name) in enumerate(rest):
            try:
                obj = (
                    obj.lookup(name, is_attribute)
                    if position == 0
                    else _step(obj, name, is_attribute)
                )
            except (KeyError, AttributeError, IndexError, TypeError):
                raise _UnknownField(field_name) from None
        if isinstance(obj, _Fields):
            raise _UnknownField(field_name)
        return obj, first


def _step(obj: Any, name: str, is_attribute: bool) -> Any:
    if is_attribute:
        return getattr(obj, name)
    return obj[int(name)] if name.isdigit() and not isinstance(obj, Mapping) else obj[name]


def _split_field(field_name: str) -> tuple[str, list[tuple[bool, str]]]:
    """``"a.b[c]"`` -> ``("a", [(True, "b"), (False, "c")])`` (str.format's field syntax)."""
    first_end = len(field_name)
    for index, char in enumerate(field_name):
        if char in ".[":
            first_end = index
            break
    first, rest, parts = field_name[:first_end], field_name[first_end:], []
    while rest:
        if rest[0] == ".":
            end = min(
                (i for i in (rest.find(".", 1), rest.find("[", 1)) if i != -1), default=len(rest)
            )
            parts.append((True, rest[1:end]))
        else:
            end = rest.find("]")
            if end == -1:
                raise ValueError(f"missing ']' in field {field_name!r}")
            parts.append((False, rest[1:end]))
            end += 1
        rest = rest[end:]
    return first, parts


def _available_fields(fields: Mapping[str, _Fields]) -> list[str]:
    shown = []
    for name, value in fields.items():
        for field in value.names():
            shown.append(f"{{{name}[{field}]}}" if value.by_item else f"{{{name}.{field}}}")
    return shown
