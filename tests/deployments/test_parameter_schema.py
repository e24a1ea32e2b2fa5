"""A flow's parameters as a JSON schema, and checking parameters against it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from legato.engine.parameter_schema import parameter_schema
from legato.exceptions import ParameterError
from legato.orchestration.parameter_validation import (
    as_json,
    check_parameter_schema,
    validate_parameters,
)


class Window(BaseModel):
    start: int
    end: int = 10


class Opaque:
    """A type with no JSON form."""


def flow_function(
    day: str,
    limit: int = 10,
    ratio: float = 0.5,
    when: dt.datetime | None = None,
    window: Window | None = None,
    mode: Literal["full", "delta"] = "full",
    ids: list[int] = [],  # noqa: B006 - a default the schema shows
    anything=None,
    handle: Opaque = Opaque(),
    *args: int,
    **kwargs: str,
) -> None:
    """What a flow's signature may hold."""


def strict(day: str, limit: int = 10) -> None:
    """No **kwargs: unknown names are refused."""


def test_the_schema_describes_each_parameter_in_order():
    schema = parameter_schema(flow_function)

    assert schema["title"] == "Parameters"
    assert schema["type"] == "object"
    assert schema["required"] == ["day"]
    assert schema["additionalProperties"] is True  # **kwargs
    properties = schema["properties"]
    assert list(properties) == [
        "day",
        "limit",
        "ratio",
        "when",
        "window",
        "mode",
        "ids",
        "anything",
        "handle",
    ]
    assert [item["position"] for item in properties.values()] == list(range(9))
    assert properties["day"] == {"title": "day", "position": 0, "type": "string"}
    assert properties["limit"]["type"] == "integer" and properties["limit"]["default"] == 10
    assert properties["ratio"]["type"] == "number"
    assert {"format": "date-time", "type": "string"} in properties["when"]["anyOf"]
    assert {"$ref": "#/$defs/Window"} in properties["window"]["anyOf"]
    assert schema["$defs"]["Window"]["required"] == ["start"]
    assert properties["mode"]["enum"] == ["full", "delta"]
    assert properties["ids"] == {
        "title": "ids",
        "position": 6,
        "type": "array",
        "items": {"type": "integer"},
        "default": [],
    }
    assert properties["anything"] == {"title": "anything", "position": 7, "default": None}
    assert properties["handle"] == {"title": "handle", "position": 8}  # any value, no default
    assert parameter_schema(strict)["additionalProperties"] is False
    check_parameter_schema(schema)


def test_every_problem_is_named_with_its_parameter():
    schema = parameter_schema(strict)

    with pytest.raises(ParameterError) as refused:
        validate_parameters(
            {"limit": "ten", "extra": 1}, schema, require_all=True, owner="deployment 'etl/x'"
        )

    assert str(refused.value).splitlines()[:4] == [
        "The parameters of deployment 'etl/x' do not match the flow's parameters:",
        "  - 'extra': unknown parameter (the flow takes day, limit)",
        "  - 'day': missing; it is required (string)",
        "  - 'limit': expected integer, got 'ten' (string)",
    ]
    # A deployment may leave required parameters to its runs.
    validate_parameters({"limit": 3}, schema, require_all=False, owner="x")


def test_nested_and_optional_values_report_the_inner_problem():
    schema = parameter_schema(flow_function)
    bad = {
        "day": "mon",
        "window": {"start": "soon"},
        "when": 5,
        "mode": "partial",
        "ids": [1, "two"],
        "unknown_but_allowed": "yes",
    }

    with pytest.raises(ParameterError) as refused:
        validate_parameters(bad, schema, require_all=True, owner="x")

    lines = str(refused.value).splitlines()[1:-1]
    assert lines == [
        "  - 'ids'[1]: expected integer, got 'two' (string)",
        "  - 'mode': must be one of 'full', 'delta', got 'partial' (string)",
        "  - 'when': expected string, got 5 (integer)",
        "  - 'window'['start']: expected integer, got 'soon' (string)",
    ]
    good = {"day": "mon", "window": {"start": 1}, "when": "2030-01-01T00:00:00Z", "handle": {}}
    validate_parameters(good, schema, require_all=True, owner="x")


def test_schemas_that_cannot_check_anything_are_refused():
    with pytest.raises(ParameterError, match="not a valid JSON schema"):
        check_parameter_schema({"properties": {"a": {"type": 5}}})
    with pytest.raises(ParameterError, match="must be a JSON object"):
        check_parameter_schema(["not", "a", "schema"])  # type: ignore[arg-type]
    dangling = {"properties": {"a": {"$ref": "#/$defs/Missing"}}}
    with pytest.raises(ParameterError, match="cannot be used to check parameters"):
        validate_parameters({"a": 1}, dangling, require_all=True, owner="x")
    # No schema: nothing to check.
    validate_parameters({"anything": object()}, None, require_all=True, owner="x")
    validate_parameters({"anything": 1}, {}, require_all=True, owner="x")


def test_values_must_be_json():
    assert as_json({"when": dt.date(2030, 1, 2), "items": (1, 2)}, "parameters") == {
        "when": "2030-01-02",
        "items": [1, 2],
    }
    with pytest.raises(ParameterError, match="parameters must be JSON"):
        as_json({"handle": Opaque()}, "parameters")


SCALAR_SCHEMA = parameter_schema(strict)


@given(day=st.text(), limit=st.integers())
def test_values_of_the_annotated_types_always_pass(day, limit):
    validate_parameters({"day": day, "limit": limit}, SCALAR_SCHEMA, require_all=True, owner="x")


@given(
    limit=st.one_of(
        st.text(),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
        st.lists(st.integers()),
        st.none(),
        st.booleans(),
    )
)
def test_values_of_another_json_type_always_name_the_parameter(limit):
    with pytest.raises(ParameterError, match="'limit': expected integer"):
        validate_parameters(
            {"day": "x", "limit": limit}, SCALAR_SCHEMA, require_all=True, owner="x"
        )
