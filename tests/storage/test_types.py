"""Column types: ids and time comparisons mean the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from legato.storage import schema
from legato.storage.records import canonical_uuid
from legato.storage.types import UUID

SQLITE = sqlite_dialect.dialect()
POSTGRESQL = postgresql.dialect()
COMPARISONS = {
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
}


def bound(expression: sa.BinaryExpression, dialect) -> object:
    """The value ``expression`` binds for its right side on ``dialect``."""
    parameter = expression.right
    processor = parameter.type._cached_bind_processor(dialect)
    return processor(parameter.value) if processor else parameter.value


@given(
    stored=st.floats(min_value=0, max_value=4.1e9) | st.floats(min_value=1.6e9, max_value=1.9e9),
    offset_microseconds=st.integers(min_value=-2, max_value=2),
    operator=st.sampled_from(sorted(COMPARISONS)),
)
def test_time_comparisons_on_sqlite_are_to_the_microsecond_of_reads(
    stored, offset_microseconds, operator
):
    # A row stored with the recorder's float seconds reads back to the microsecond
    read_back = datetime.fromtimestamp(stored, UTC)
    moment = read_back + timedelta(microseconds=offset_microseconds)
    compare = COMPARISONS[operator]

    bind = bound(compare(schema.logs.c.timestamp, moment), SQLITE)

    # the SQL comparison on the stored float agrees with the one on what reads show
    assert compare(stored, bind) == compare(read_back, moment)


def test_time_comparisons_on_postgresql_bind_the_microsecond():
    moment = datetime(2026, 1, 2, 3, 4, 5, 678_901, UTC)
    for compare in COMPARISONS.values():
        assert bound(compare(schema.logs.c.timestamp, moment), POSTGRESQL) == moment
    seconds = moment.timestamp()
    assert bound(schema.logs.c.timestamp > seconds, POSTGRESQL) == moment
    assert bound(schema.logs.c.timestamp == seconds, SQLITE) == seconds


def test_ids_bind_canonical_and_refuse_what_is_no_uuid():
    value = uuid.uuid4()
    bind = UUID().process_bind_param
    for spelling in (value, str(value), str(value).upper(), value.hex, "{" + str(value) + "}"):
        assert bind(spelling, SQLITE) == str(value)
        assert bind(spelling, POSTGRESQL) == str(value)
    assert bind(None, SQLITE) is None
    with pytest.raises(ValueError, match="'nope' is not a UUID"):
        bind("nope", POSTGRESQL)


def test_an_id_compared_with_no_uuid_binds_null():
    assert bound(schema.flow_runs.c.id == "nope", POSTGRESQL) is None
    assert bound(schema.flow_runs.c.id == "nope", SQLITE) is None
    value = str(uuid.uuid4())
    assert bound(schema.flow_runs.c.id == value.upper(), POSTGRESQL) == value


def test_canonical_uuid():
    value = uuid.uuid4()
    assert canonical_uuid(value) == str(value)
    assert canonical_uuid(str(value).upper()) == str(value)
    assert canonical_uuid("not-a-uuid") is None
    assert canonical_uuid(None) is None
    assert canonical_uuid(12) is None
