"""Checking a deployment's parameters against its ``parameter_openapi_schema``.

The schema is a JSON schema of the flow's parameters
(``legato.engine.parameter_schema``, or one a client sent). Three kinds of
problem are reported, all at once, each naming the parameter:

- an unknown name (unless the schema allows ``additionalProperties``),
- a missing required parameter (only when ``require_all``: a deployment may
  leave a required parameter to its runs, a run may not),
- a value of the wrong JSON type, or one the schema refuses otherwise
  (``jsonschema`` checks the values; it is imported on first use).

A schema that is not a valid JSON schema is refused with its own message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legato.exceptions import ParameterError

__all__ = ["as_json", "check_parameter_schema", "validate_parameters"]

_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


def as_json(value: Any, what: str) -> Any:
    """``value`` as plain JSON; ParameterError naming ``what`` when it has no JSON form."""
    from pydantic_core import to_jsonable_python

    try:
        return to_jsonable_python(value)
    except Exception as exc:
        raise ParameterError(
            f"{what} must be JSON (str, int, float, bool, None, lists and dicts of those): "
            f"{exc}. Convert the value first."
        ) from None


def check_parameter_schema(schema: Mapping[str, Any] | None) -> None:
    """Refuse a ``parameter_openapi_schema`` that is not a JSON schema of an object."""
    if not schema:
        return
    if not isinstance(schema, Mapping):
        raise ParameterError(
            f"parameter_openapi_schema must be a JSON object (a JSON schema), got {schema!r}."
        )
    from jsonschema.exceptions import SchemaError

    try:
        _validator_class(schema).check_schema(dict(schema))
    except SchemaError as exc:
        raise ParameterError(
            f"parameter_openapi_schema is not a valid JSON schema: {exc.message}. Generate it "
            "from the flow (legato.engine.parameter_schema.parameter_schema(fn)), or leave it out."
        ) from None


def validate_parameters(
    parameters: Mapping[str, Any],
    schema: Mapping[str, Any] | None,
    *,
    require_all: bool,
    owner: str,
) -> None:
    """Raise ParameterError listing every parameter that does not fit ``schema``.

    ``owner`` names what the parameters are for in the message (e.g.
    ``"deployment 'etl/nightly'"``). No schema (None or {}): nothing to check.
    """
    if not schema:
        return
    properties: Mapping[str, Any] = schema.get("properties") or {}
    problems = _name_problems(parameters, schema, properties, require_all)
    problems += _value_problems(parameters, schema, properties)
    if problems:
        raise ParameterError(
            f"The parameters of {owner} do not match the flow's parameters:\n  - "
            + "\n  - ".join(problems)
            + "\nPass values that match the flow's signature, or set "
            "enforce_parameter_schema=False on the deployment to skip this check."
        )


def _name_problems(
    parameters: Mapping[str, Any],
    schema: Mapping[str, Any],
    properties: Mapping[str, Any],
    require_all: bool,
) -> list[str]:
    problems = []
    if not schema.get("additionalProperties"):
        known = ", ".join(properties) or "no parameters"
        problems += [
            f"{name!r}: unknown parameter (the flow takes {known})"
            for name in parameters
            if name not in properties
        ]
    if require_all:
        problems += [
            f"{name!r}: missing; it is required{_expected(properties.get(name))}"
            for name in schema.get("required") or ()
            if name not in parameters
        ]
    return problems


def _value_problems(
    parameters: Mapping[str, Any], schema: Mapping[str, Any], properties: Mapping[str, Any]
) -> list[str]:
    """Type (and other) errors of the parameters the schema describes."""
    known = {name: value for name, value in parameters.items() if name in properties}
    if not known:
        return []
    from jsonschema.exceptions import SchemaError
    from referencing.exceptions import Unresolvable

    # Names are checked above, with clearer messages: only the values here.
    values_schema = {
        key: value
        for key, value in schema.items()
        if key not in ("required", "additionalProperties")
    }
    try:
        validator = _validator_class(values_schema)(values_schema)
        errors = sorted(validator.iter_errors(known), key=lambda error: list(error.absolute_path))
    except (SchemaError, Unresolvable) as exc:
        raise ParameterError(
            f"The deployment's parameter_openapi_schema cannot be used to check parameters: {exc}."
        ) from None
    return [problem for error in errors for problem in _describe(error)]


def _describe(error: Any) -> list[str]:
    """One line per problem; an ``anyOf`` that only failed in its non-null branch says why."""
    if error.validator in ("anyOf", "oneOf") and error.instance is not None:
        inner = _non_null_branch_errors(error)
        if inner:
            return [problem for sub in inner for problem in _describe(sub)]
    return [_describe_one(error)]


def _non_null_branch_errors(error: Any) -> list[Any]:
    """The errors of the one branch that is not ``{"type": "null"}``, if there is one."""
    branches = [
        index
        for index, option in enumerate(error.validator_value)
        if not (isinstance(option, Mapping) and option.get("type") == "null")
    ]
    if len(branches) != 1:
        return []
    return [sub for sub in error.context if sub.relative_schema_path[0] == branches[0]]


def _describe_one(error: Any) -> str:
    path = list(error.absolute_path)
    name = repr(path[0]) if path else "parameters"
    inner = "".join(f"[{part!r}]" for part in path[1:])
    where = f"{name}{inner}"
    got = f"got {error.instance!r} ({_json_type(error.instance)})"
    if error.validator == "type":
        return f"{where}: expected {_type_names(error.validator_value)}, {got}"
    if error.validator in ("anyOf", "oneOf"):
        expected = _alternatives(error.validator_value)
        if expected:
            return f"{where}: expected {expected}, {got}"
    if error.validator == "enum":
        choices = ", ".join(repr(choice) for choice in error.validator_value)
        return f"{where}: must be one of {choices}, {got}"
    return f"{where}: {error.message}"


def _expected(property_schema: Any) -> str:
    if not isinstance(property_schema, Mapping):
        return ""
    if "type" in property_schema:
        return f" ({_type_names(property_schema['type'])})"
    alternatives = _alternatives(property_schema.get("anyOf") or ())
    return f" ({alternatives})" if alternatives else ""


def _alternatives(schemas: Any) -> str:
    names = []
    for option in schemas:
        if not isinstance(option, Mapping):
            return ""
        if "type" in option:
            names.append(_type_names(option["type"]))
        elif "$ref" in option:
            names.append(str(option["$ref"]).rsplit("/", 1)[-1])
        else:
            return ""
    return " or ".join(names)


def _type_names(value: Any) -> str:
    if isinstance(value, list):
        return " or ".join(str(item) for item in value)
    return str(value)


def _json_type(value: Any) -> str:
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _validator_class(schema: Mapping[str, Any]) -> Any:
    from jsonschema.validators import Draft202012Validator, validator_for

    return validator_for(dict(schema), default=Draft202012Validator)
