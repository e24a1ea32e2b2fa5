"""Validating and coercing flow parameters against the function's type hints.

pydantic (v2) does the work, through one ``TypeAdapter`` per annotated
parameter, built on first need. A value that already has exactly its
annotated plain type (an ``int`` for ``int``) skips pydantic entirely, so
flows with simple parameters never import it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from legato.exceptions import ParameterTypeError, SignatureMismatchError

_SKIPPED_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class ParameterValidator:
    """Validates a ``{name: value}`` dict for one function."""

    def __init__(self, fn: Callable[..., Any], owner: str) -> None:
        self._owner = owner
        self._signature = inspect.signature(fn)
        try:
            hints = inspect.get_annotations(fn, eval_str=True)
        except Exception:
            hints = {}
        self._annotations: dict[str, Any] = {}
        for parameter in self._signature.parameters.values():
            if parameter.kind in _SKIPPED_KINDS:
                continue
            annotation = hints.get(parameter.name, inspect.Parameter.empty)
            if annotation is not inspect.Parameter.empty and annotation is not Any:
                self._annotations[parameter.name] = annotation
        self._adapters: dict[str, Any] = {}

    def validate(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """``parameters`` coerced to their annotations; one error lists every bad one."""
        todo = [
            name
            for name, annotation in self._annotations.items()
            if name in parameters and type(parameters[name]) is not annotation
        ]
        if not todo:
            return parameters
        from pydantic import ValidationError

        validated = dict(parameters)
        problems: list[str] = []
        for name in todo:
            try:
                validated[name] = self._adapter(name).validate_python(parameters[name])
            except ValidationError as exc:
                reasons = "; ".join(_describe(error) for error in exc.errors())
                problems.append(f"{name}={parameters[name]!r}: {reasons}")
        if problems:
            raise ParameterTypeError(
                f"{len(problems)} parameter(s) of {self._owner} failed validation:\n  - "
                + "\n  - ".join(problems)
                + "\nPass values matching the type hints, or set validate_parameters=False."
            )
        return validated

    def _adapter(self, name: str) -> Any:
        adapter = self._adapters.get(name)
        if adapter is None:
            from pydantic import ConfigDict, TypeAdapter

            annotation = self._annotations[name]
            try:
                adapter = TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))
            except Exception:
                # Some annotations (a BaseModel, dataclass) carry their own config.
                adapter = TypeAdapter(annotation)
            self._adapters[name] = adapter
        return adapter

    def check_names(self, parameters: dict[str, Any]) -> None:
        """Refuse unknown parameter names and missing required ones."""
        names = self._signature.parameters
        has_var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in names.values())
        unknown = [name for name in parameters if name not in names]
        missing = [
            p.name
            for p in names.values()
            if p.default is inspect.Parameter.empty
            and p.kind not in _SKIPPED_KINDS
            and p.name not in parameters
        ]
        if (unknown and not has_var_keyword) or missing:
            parts = []
            if unknown and not has_var_keyword:
                parts.append(f"unknown: {', '.join(unknown)}")
            if missing:
                parts.append(f"missing: {', '.join(missing)}")
            raise SignatureMismatchError(
                f"Parameters for {self._owner} do not match its signature {self._signature} "
                f"({'; '.join(parts)}). Pass exactly the function's parameters."
            )


def _describe(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "")
    message = str(error.get("msg", "invalid"))
    return f"{location}: {message}" if location else message
