"""``{{ ... }}`` placeholders in project files, pull steps and job templates.

A placeholder is a name between double braces. What a name means:

- ``$NAME``: the environment variable ``NAME``;
- ``step-id.key`` (or ``step-id.key.sub``): the output of an earlier step
  whose ``id`` is ``step-id``;
- ``legato.variables.NAME`` / ``prefect.variables.NAME``: a stored variable;
- ``legato.blocks...`` / ``prefect.blocks...``: not supported (an error says so);
- any other name: looked up by the caller (a job template's variables).

A string that is exactly one placeholder is replaced by the value itself (a
dict stays a dict, a number a number); placeholders inside a longer string
are replaced by their text. Containers (dicts, lists) are walked; other
values are returned as they are. Jinja features (filters, expressions,
``{% %}`` blocks) are not supported: ``{{ a | upper }}`` is an unknown name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from legato.exceptions import ConfigurationError

__all__ = ["MISSING", "find_placeholders", "render", "resolve_templates"]

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class _Missing:
    """What a lookup returns for a name it does not know."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

Lookup = Callable[[str], Any]


def find_placeholders(value: Any) -> set[str]:
    """Every placeholder name in ``value`` (walked like ``render``)."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(find_placeholders(item) for item in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(find_placeholders(item) for item in value))
    return set()


def render(value: Any, lookup: Lookup, keep_missing: bool = True) -> Any:
    """``value`` with its placeholders replaced through ``lookup(name)``.

    ``lookup`` returns ``MISSING`` for a name it does not know: the
    placeholder is kept as it is when ``keep_missing``, else a whole-string
    placeholder becomes ``MISSING`` (callers drop such keys) and an embedded
    one becomes an empty string.
    """
    if isinstance(value, str):
        return _render_string(value, lookup, keep_missing)
    if isinstance(value, Mapping):
        return {key: render(item, lookup, keep_missing) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, lookup, keep_missing) for item in value]
    return value


def _render_string(text: str, lookup: Lookup, keep_missing: bool) -> Any:
    if "{{" not in text:
        return text
    whole = PLACEHOLDER.fullmatch(text.strip())
    if whole is not None:
        found = lookup(whole.group(1))
        if found is MISSING:
            return text if keep_missing else MISSING
        return found

    def substitute(match: re.Match[str]) -> str:
        found = lookup(match.group(1))
        if found is MISSING:
            return match.group(0) if keep_missing else ""
        return "" if found is None else str(found)

    return PLACEHOLDER.sub(substitute, text)


def resolve_templates(
    value: Any,
    outputs: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
    read_variable: Callable[[str], Any] | None = None,
) -> Any:
    """``value`` with env-var, step-output and variable placeholders resolved.

    Raises ConfigurationError for an environment variable that is not set, a
    step output that does not exist, a variable that does not exist (when
    ``read_variable`` is given) or a block reference. Other names are left
    as they are.
    """
    lookup = _resolver(outputs or {}, os.environ if environ is None else environ, read_variable)
    return render(value, lookup)


def _resolver(
    outputs: Mapping[str, Mapping[str, Any]],
    environ: Mapping[str, str],
    read_variable: Callable[[str], Any] | None,
) -> Lookup:
    def lookup(name: str) -> Any:
        if name.startswith("$"):
            return _environment(name[1:], environ)
        head, _, rest = name.partition(".")
        if head in ("legato", "prefect"):
            return _reference(name, rest, read_variable)
        if head in outputs:
            return _step_output(name, outputs[head], rest)
        return MISSING

    return lookup


def _environment(name: str, environ: Mapping[str, str]) -> str:
    if name not in environ:
        raise ConfigurationError(
            f"'{{{{ ${name} }}}}' refers to the environment variable {name}, which is not set. "
            "Set it in the environment, or replace the placeholder with a value."
        )
    return environ[name]


def _reference(name: str, rest: str, read_variable: Callable[[str], Any] | None) -> Any:
    kind, _, variable = rest.partition(".")
    if kind == "variables" and variable:
        if read_variable is None:
            return MISSING
        found = read_variable(variable)
        if found is None:
            raise ConfigurationError(
                f"'{{{{ {name} }}}}' refers to the variable {variable!r}, which does not exist. "
                f"Create it with `legato variable set {variable} VALUE`."
            )
        return found
    if kind == "blocks":
        raise ConfigurationError(
            f"'{{{{ {name} }}}}': block references are not supported in legato project files yet. "
            "Use an environment variable ('{{ $NAME }}') or a variable "
            "('{{ legato.variables.NAME }}') instead."
        )
    return MISSING


def _step_output(name: str, output: Mapping[str, Any], rest: str) -> Any:
    value: Any = output
    for part in rest.split(".") if rest else []:
        if not isinstance(value, Mapping) or part not in value:
            available = ", ".join(sorted(output)) or "none"
            raise ConfigurationError(
                f"'{{{{ {name} }}}}': the step's output has no {part!r} "
                f"(its output keys: {available})."
            )
        value = value[part]
    return value
