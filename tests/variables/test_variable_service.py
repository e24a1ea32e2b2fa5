"""legato.orchestration.variables on a real SQLite file: validation, writes, filters, pages."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.orchestration import variables as service

NAMES = st.from_regex(r"[a-z0-9_-]{1,40}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def names(rows):
    return [row["name"] for row in rows]


# -- validation ----------------------------------------------------------------


@given(NAMES)
def test_names_of_lowercase_letters_digits_underscores_and_dashes_are_valid(name):
    assert service.validate_variable_name(name) == name


@given(
    st.text(min_size=1, max_size=60).filter(
        lambda t: not service.VARIABLE_NAME_PATTERN.fullmatch(t)
    )
)
def test_other_names_are_refused_naming_the_rule(name):
    with pytest.raises(ParameterError, match="lowercase letters, digits, underscores and dashes"):
        service.validate_variable_name(name)


def test_name_length_limit():
    longest = "a" * service.MAX_VARIABLE_NAME_LENGTH

    assert service.validate_variable_name(longest) == longest
    with pytest.raises(ParameterError, match="256 characters long; the limit is 255"):
        service.validate_variable_name(longest + "a")
    with pytest.raises(ParameterError, match="is a string"):
        service.validate_variable_name(7)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="not valid"):
        service.validate_variable_name("")


@given(JSON_VALUES)
def test_json_values_are_valid(value):
    assert service.validate_variable_value(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "JSON cannot represent"),
        ({"rate": [1.0, math.inf]}, "JSON cannot represent"),
        ((1, 2), r"\(tuple\).*a tuple to a list"),
        ({1, 2}, r"\(set\)"),
        (b"raw", r"\(bytes\)"),
        (datetime(2026, 1, 1, tzinfo=UTC), r"\(datetime\).*isoformat"),
        ({1: "one"}, "JSON keys are strings"),
        ([{"nested": [object()]}], r"\(object\)"),
    ],
)
def test_non_json_values_are_refused_naming_the_value(value, message):
    with pytest.raises(ParameterError, match=message):
        service.validate_variable_value(value)


def test_value_size_limit_counts_the_compact_json():
    limit = service.MAX_VARIABLE_VALUE_LENGTH
    at_limit = "x" * (limit - 2)  # two quotes make it exactly the limit

    assert service.validate_variable_value(at_limit) == at_limit
    with pytest.raises(ParameterError, match=f"{limit + 1:,} characters as JSON; the limit is"):
        service.validate_variable_value(at_limit + "x")


def test_deeply_nested_values_are_refused_without_a_recursion_error():
    value: list[object] = []
    for _ in range(3000):
        value = [value]

    with pytest.raises(ParameterError, match="nested too deeply"):
        service.validate_variable_value(value)


def test_tags_are_a_list_of_strings():
    assert service.validate_variable_tags(None) == []
    assert service.validate_variable_tags(("a", "b")) == ["a", "b"]
    for bad in ("prod", ["prod", 1]):
        with pytest.raises(ParameterError, match="list of strings"):
            service.validate_variable_tags(bad)  # type: ignore[arg-type]


# -- writes and reads ------------------------------------------------------------


def test_create_and_read_back(connection):
    row = service.create_variable(connection, name="region", value={"primary": "eu"}, tags=["prod"])

    assert row == service.read_variable_by_name(connection, "region")
    assert (row["name"], row["value"], row["tags"]) == ("region", {"primary": "eu"}, ["prod"])
    assert row["created"].tzinfo is UTC and row["created"] == row["updated"]
    assert service.read_variable_by_name(connection, "missing") is None


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON_VALUES)
def test_every_json_value_reads_back_equal(connection, value):
    service.delete_variable(connection, "roundtrip")
    service.create_variable(connection, name="roundtrip", value=value)

    row = service.read_variable_by_name(connection, "roundtrip")

    assert row is not None
    assert json.dumps(row["value"], sort_keys=True) == json.dumps(value, sort_keys=True)


def test_none_is_a_value(connection):
    service.create_variable(connection, name="empty", value=None)

    row = service.read_variable_by_name(connection, "empty")

    assert row is not None and row["value"] is None and row["tags"] == []


def test_a_taken_name_is_refused(connection):
    service.create_variable(connection, name="region", value="eu")

    with pytest.raises(ObjectAlreadyExists, match="overwrite=True"):
        service.create_variable(connection, name="region", value="us")
    row = service.read_variable_by_name(connection, "region")
    assert row is not None and row["value"] == "eu"


def test_bad_input_writes_nothing(connection):
    with pytest.raises(ParameterError):
        service.create_variable(connection, name="Region", value="eu")
    with pytest.raises(ParameterError):
        service.create_variable(connection, name="region", value=("eu",))
    with pytest.raises(ParameterError):
        service.create_variable(connection, name="region", value="eu", tags="prod")
    assert service.count_variables(connection) == 0


def test_update_value_tags_or_both(connection):
    created = service.create_variable(connection, name="limit", value=1, tags=["a"])

    value_only = service.update_variable(connection, "limit", value=2)
    assert value_only is not None and (value_only["value"], value_only["tags"]) == (2, ["a"])

    tags_only = service.update_variable(connection, "limit", tags=["b", "c"])
    assert tags_only is not None and (tags_only["value"], tags_only["tags"]) == (2, ["b", "c"])

    both = service.update_variable(connection, "limit", value=None, tags=None)
    assert both is not None and (both["value"], both["tags"]) == (None, [])
    assert both["created"] == created["created"]
    assert both["updated"] > created["updated"]

    assert service.update_variable(connection, "missing", value=1) is None
    with pytest.raises(ParameterError):
        service.update_variable(connection, "limit", value=math.nan)


def test_delete(connection):
    service.create_variable(connection, name="gone", value=1)

    assert service.delete_variable(connection, "gone") is True
    assert service.delete_variable(connection, "gone") is False
    assert service.read_variable_by_name(connection, "gone") is None


# -- filters, sorts, pages -------------------------------------------------------------


@pytest.fixture
def seeded(connection):
    for name, tags in [
        ("db_url", ["prod", "etl"]),
        ("db_pool", ["prod"]),
        ("batch-size", ["etl", 'quote"d']),
        ("region", ["été"]),
    ]:
        service.create_variable(connection, name=name, value=name, tags=tags)
    return connection


@pytest.mark.parametrize(
    ("name_like", "tags", "expected"),
    [
        (None, None, ["batch-size", "db_pool", "db_url", "region"]),
        ("db_", None, ["db_pool", "db_url"]),
        ("b_", None, ["db_pool", "db_url"]),  # "_" is a character, not a wildcard
        ("%", None, []),  # "%" too
        (None, ["prod"], ["db_pool", "db_url"]),
        (None, ["prod", "etl"], ["db_url"]),
        (None, ["etl"], ["batch-size", "db_url"]),
        (None, ['quote"d'], ["batch-size"]),
        (None, ["été"], ["region"]),
        (None, ["pro"], []),
        ("size", ["etl"], ["batch-size"]),
        (None, [], ["batch-size", "db_pool", "db_url", "region"]),
    ],
)
def test_filters(seeded, name_like, tags, expected):
    rows = service.filter_variables(seeded, name_like=name_like, tags=tags)

    assert names(rows) == expected
    assert service.count_variables(seeded, name_like=name_like, tags=tags) == len(expected)


def test_sorts(seeded):
    service.update_variable(seeded, "db_pool", value=1)

    assert names(service.filter_variables(seeded, sort="name_desc")) == [
        "region",
        "db_url",
        "db_pool",
        "batch-size",
    ]
    assert names(service.filter_variables(seeded, sort="created_desc")) == [
        "region",
        "batch-size",
        "db_pool",
        "db_url",
    ]
    assert names(service.filter_variables(seeded, sort="updated_desc"))[0] == "db_pool"
    with pytest.raises(ParameterError, match="name_asc, name_desc, created_desc, updated_desc"):
        service.filter_variables(seeded, sort="oldest")


def test_pages(seeded):
    pages = [service.filter_variables(seeded, limit=3, offset=offset) for offset in (0, 3)]

    assert [names(page) for page in pages] == [["batch-size", "db_pool", "db_url"], ["region"]]
