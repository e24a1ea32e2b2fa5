"""Inserting many new rows at once, skipping those that break a unique index.

``insert_new_rows(connection, table, rows)`` is ``INSERT ... ON CONFLICT DO
NOTHING RETURNING id`` for many rows (dicts holding every column, Python
values as SQLAlchemy would take them), and returns the ids of the rows
inserted. It bypasses SQLAlchemy's per-value type processing, which costs
more than the database's own work at this size (the scheduler inserts
thousands of runs in a pass), and converts each column once for its kind:

- SQLite: multi-row ``INSERT ... VALUES (?, ...), (?, ...), ...`` (as many
  rows a statement as SQLite's variable limit allows, at most
  ``ROWS_PER_STATEMENT``), timestamps as POSIX seconds, JSON as compact text;
- PostgreSQL: one ``INSERT ... SELECT * FROM unnest(%b::uuid[], ...)``
  statement, each column one array in psycopg's binary format (the casts
  come from the schema), timestamps as aware datetimes, JSON as text.

Ids are expected in canonical form (lowercase text, as ``new_id`` makes and
reads return them). A JSON value already encoded may be given as
``EncodedJSON`` (many rows sharing one value encode it once).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Connection

from legato.storage.types import JSON, Timestamp, to_datetime, to_seconds

__all__ = ["ROWS_PER_STATEMENT", "EncodedJSON", "insert_new_rows"]

ROWS_PER_STATEMENT = 500
"""Most rows one SQLite INSERT binds (fewer when SQLite allows fewer variables)."""


class EncodedJSON(str):
    """A JSON column's value, already encoded (compact JSON text)."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> EncodedJSON:
        return cls(json.dumps(value, separators=(",", ":")))


def insert_new_rows(
    connection: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Insert ``rows`` (see the module doc); the ids of those inserted, in no set order."""
    if not rows:
        return []
    columns = tuple(column.name for column in table.columns)
    if connection.dialect.name == "postgresql":
        return _insert_postgresql(connection, table, columns, rows)
    return _insert_sqlite(connection, table, columns, rows)


def _json_text(value: Any) -> Any:
    if value is None or type(value) is EncodedJSON:
        return value
    return json.dumps(value, separators=(",", ":"))


def _seconds(value: Any) -> Any:
    if value is None or type(value) is float:
        return value
    return to_seconds(value)


def _sqlite_converter(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    if isinstance(column.type, JSON):
        return _json_text
    if isinstance(column.type, Timestamp):
        return _seconds
    return None


def _insert_sqlite(
    connection: Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> list[str]:
    driver = connection.connection.driver_connection
    limit = ROWS_PER_STATEMENT
    if isinstance(driver, sqlite3.Connection):
        limit = min(limit, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns))
    getter = itemgetter(*columns)
    conversions = [
        (index, convert)
        for index, name in enumerate(columns)
        if (convert := _sqlite_converter(table.c[name])) is not None
    ]
    placeholders = "(" + ", ".join("?" for _ in columns) + ")"
    inserted: list[str] = []
    for start in range(0, len(rows), limit):
        chunk = rows[start : start + limit]
        params: list[Any] = []
        for row in chunk:
            values = list(getter(row))
            for index, convert in conversions:
                values[index] = convert(values[index])
            params.extend(values)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
            f"{', '.join([placeholders] * len(chunk))} ON CONFLICT DO NOTHING RETURNING id"
        )
        inserted.extend(
            str(value) for value in connection.exec_driver_sql(sql, tuple(params)).scalars()
        )
    return inserted


@cache
def _postgresql_types(table: sa.Table) -> tuple[str, ...]:
    dialect = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    return tuple(
        str(column.type.dialect_impl(dialect).compile(dialect=dialect)) for column in table.columns
    )


def _postgresql_array(type_name: str, values: list[Any]) -> list[Any]:
    # psycopg sends a list as an array of one type: numbers are made one type.
    if type_name == "FLOAT":
        return [None if value is None else float(value) for value in values]
    if type_name == "INTEGER":
        return [None if value is None else int(value) for value in values]
    if type_name == "TIMESTAMP WITH TIME ZONE":
        return [None if value is None else to_datetime(value) for value in values]
    if type_name == "JSONB":
        return [_json_text(value) for value in values]
    if type_name == "UUID":
        return [None if value is None else str(value) for value in values]
    return values


def _insert_postgresql(
    connection: Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> list[str]:
    types = _postgresql_types(table)
    arrays = [
        _postgresql_array(type_name, [row[name] for row in rows])
        for name, type_name in zip(columns, types, strict=True)
    ]
    casts = ", ".join(f"%b::{type_name}[]" for type_name in types)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    return [str(value) for value in connection.exec_driver_sql(sql, tuple(arrays)).scalars()]
