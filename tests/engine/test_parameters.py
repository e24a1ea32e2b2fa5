"""Flow parameter validation and coercion (pydantic v2), and its errors."""

from __future__ import annotations

import datetime as dt
import enum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from legato import flow, task
from legato.exceptions import LegatoError, ParameterError, ParameterTypeError


class Point(BaseModel):
    x: int
    y: int


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@flow
def typed(
    count: int,
    ratio: float = 1.0,
    point: Point | None = None,
    color: Color = Color.RED,
    when: dt.datetime | None = None,
    values: list[int] | None = None,
):
    return {
        "count": count,
        "ratio": ratio,
        "point": point,
        "color": color,
        "when": when,
        "values": values,
    }


# -- coercion on call ---------------------------------------------------------


def test_string_is_coerced_to_int():
    assert typed("12")["count"] == 12


def test_dict_is_coerced_to_a_base_model():
    point = typed(1, point={"x": "1", "y": 2})["point"]

    assert point == Point(x=1, y=2)


def test_value_is_coerced_to_an_enum():
    assert typed(1, color="blue")["color"] is Color.BLUE


def test_iso_string_is_coerced_to_a_datetime():
    when = typed(1, when="2024-05-06T07:08:09+00:00")["when"]

    assert when == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def test_list_items_are_coerced():
    assert typed(1, values=["1", "2", 3])["values"] == [1, 2, 3]


def test_defaults_are_kept():
    result = typed(1)

    assert (result["ratio"], result["color"], result["values"]) == (1.0, Color.RED, None)


def test_untyped_parameters_pass_through_unchanged():
    sentinel = object()

    @flow
    def untyped(anything):
        return anything

    assert untyped(sentinel) is sentinel


def test_validate_parameters_false_skips_coercion():
    @flow(validate_parameters=False)
    def raw(count: int):
        return count

    assert raw("12") == "12"


def test_validate_parameters_false_accepts_bad_types():
    @flow(validate_parameters=False)
    def raw(count: int):
        return count

    assert raw("not a number") == "not a number"


def test_tasks_do_not_coerce_their_arguments():
    @task
    def raw(count: int):
        return count

    @flow
    def pipeline():
        return raw("12")

    assert pipeline() == "12"


def test_rich_parameters_are_recorded_as_json(recorded):
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)

    typed(5, point=Point(x=1, y=2), color=Color.BLUE, when=when, values=[7])

    parameters = recorded.only_flow_run()["parameters"]
    assert parameters["count"] == 5
    assert parameters["point"] == {"x": 1, "y": 2}
    assert parameters["color"] == "blue"
    assert parameters["when"].startswith("2024-05-06T07:08:09")
    assert parameters["values"] == [7]


# -- errors -------------------------------------------------------------------


def test_bad_parameter_raises_parameter_type_error_naming_it():
    with pytest.raises(ParameterTypeError) as info:
        typed("twelve")

    assert "count" in str(info.value)


def test_every_bad_parameter_is_listed_in_one_error():
    with pytest.raises(ParameterTypeError) as info:
        typed("twelve", ratio="wide", color="green")

    message = str(info.value)
    assert "count" in message
    assert "ratio" in message
    assert "color" in message


def test_parameter_errors_are_legato_errors():
    with pytest.raises(LegatoError):
        typed("twelve")
    with pytest.raises(ParameterError):
        typed("twelve")


def test_bad_parameter_is_recorded_as_a_failed_run_or_not_started(recorded):
    with pytest.raises(ParameterTypeError):
        typed("twelve")

    runs = recorded.flow_runs() if recorded.path.exists() else []
    assert all(run["state_type"] == "FAILED" for run in runs)


def test_bad_parameter_with_return_state_gives_a_failed_state():
    state = typed("twelve", return_state=True)

    assert state.is_failed()
    with pytest.raises(ParameterTypeError):
        state.result()


# -- Flow.validate_parameters -------------------------------------------------


def test_validate_parameters_returns_coerced_values():
    validated = typed.validate_parameters({"count": "3", "color": "red"})

    assert validated["count"] == 3
    assert validated["color"] is Color.RED


def test_validate_parameters_raises_for_bad_values():
    with pytest.raises(ParameterTypeError) as info:
        typed.validate_parameters({"count": "many"})

    assert "count" in str(info.value)


# -- properties ---------------------------------------------------------------
# Function-scoped fixtures (the autouse LEGATO_HOME) are shared by all examples
# of a test; these properties do not touch the database, so that is fine.
_FIXTURES_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=60, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_any_integer_string_is_coerced_to_that_integer(n):
    assert typed.validate_parameters({"count": str(n)})["count"] == n


@settings(max_examples=40, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(st.lists(st.integers(min_value=-1000, max_value=1000), max_size=8))
def test_any_list_of_integer_strings_is_coerced_item_by_item(values):
    validated = typed.validate_parameters({"count": 0, "values": [str(v) for v in values]})

    assert validated["values"] == values


@settings(max_examples=40, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(2200, 1, 1),
        timezones=st.just(dt.UTC),
    )
)
def test_any_iso_datetime_round_trips(when):
    validated = typed.validate_parameters({"count": 0, "when": when.isoformat()})

    assert validated["when"] == when


@settings(max_examples=40, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_any_word_is_rejected_as_an_integer(word):
    with pytest.raises(ParameterTypeError):
        typed.validate_parameters({"count": word})


@settings(max_examples=30, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(st.sampled_from(Color), st.integers(-100, 100), st.integers(-100, 100))
def test_validation_is_idempotent(color, x, y):
    once = typed.validate_parameters(
        {"count": "1", "color": color.value, "point": {"x": x, "y": y}}
    )
    twice = typed.validate_parameters(once)

    assert twice == once
