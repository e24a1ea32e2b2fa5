"""A flow's parameters as a JSON schema (a deployment's ``parameter_openapi_schema``).

``parameter_schema(fn)`` describes the function's signature the way Prefect 3's
``ParameterSchema`` does: an object schema with one property per parameter
(its JSON type from the annotation, a ``title``, its ``position`` in the
signature, and its ``default`` when that is JSON), ``required`` for the
parameters without a default, and ``$defs`` for nested models. Parameters
without an annotation, or whose annotation has no JSON form (an arbitrary
class), accept any value. ``additionalProperties`` is false unless the
function takes ``**kwargs``.

pydantic builds the per-type schemas; it is imported on the first call only.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["parameter_schema"]

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def parameter_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of ``fn``'s parameters (see the module doc)."""
    signature = inspect.signature(fn)
    hints = _annotations(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    definitions: dict[str, Any] = {}
    position = 0
    for parameter in signature.parameters.values():
        if parameter.kind in _VARIADIC:
            continue
        schema, defs = _property_schema(hints.get(parameter.name, inspect.Parameter.empty))
        definitions.update(defs)
        schema = {"title": parameter.name, "position": position, **schema}
        position += 1
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        else:
            default = _json_default(parameter.default)
            if default is not _NO_DEFAULT:
                schema["default"] = default
        properties[parameter.name] = schema
    result: dict[str, Any] = {
        "title": "Parameters",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
        ),
    }
    if definitions:
        result["$defs"] = definitions
    return result


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return inspect.get_annotations(fn, eval_str=True)
    except Exception:  # a forward reference that does not resolve: no types then
        return dict(getattr(fn, "__annotations__", {}) or {})


def _property_schema(annotation: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON schema of one annotation and the ``$defs`` it refers to ({} for any value)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}, {}
    from pydantic import ConfigDict, TypeAdapter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a default pydantic cannot serialize
            adapter = TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))
            schema = adapter.json_schema(ref_template="#/$defs/{model}")
    except Exception:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                schema = TypeAdapter(annotation).json_schema(ref_template="#/$defs/{model}")
        except Exception:  # no JSON form (an arbitrary class): any value
            return {}, {}
    definitions = schema.pop("$defs", {})
    schema.pop("title", None)
    return schema, definitions


_NO_DEFAULT = object()


def _json_default(value: Any) -> Any:
    """``value`` as JSON, or ``_NO_DEFAULT`` when it has no JSON form."""
    from pydantic_core import to_jsonable_python

    try:
        return to_jsonable_python(value)
    except Exception:
        return _NO_DEFAULT
