"""The write path over SQLAlchemy: the recorder's batches on SQLite or PostgreSQL.

``write_batch(connection, batch)`` writes one ``RecordBatch`` (records.py:
tuples in column order, POSIX-second timestamps, JSON as text) in the
caller's transaction, with the semantics of ``writes.write_batch``: runs are
upserts (the latest snapshot wins, ``created`` keeps its first value, and a
flow run its first ``expected_start_time``), flows,
states and logs are inserted once, and writing a batch twice changes nothing.
``delete_flow_run`` deletes a run with its task runs, states and logs.

How each database gets the rows (the only dialect difference of this path):

- SQLite: ``writes.multi_row_statements``, the statements of the stdlib
  path (up to 256 rows a statement), through ``exec_driver_sql``.
- PostgreSQL: one statement per table, whatever the number of rows:
  ``INSERT INTO t (...) SELECT * FROM unnest(%b::uuid[], %b::text[], ...)
  ON CONFLICT ...``, each column sent as one array in psycopg's binary
  format. PostgreSQL parses the ids and the JSON text itself; timestamps
  become aware datetimes here, exactly as reads convert them on SQLite. A
  multi-row upsert may not touch one row twice, so a run's snapshots are
  merged first (the last wins, ``created`` from the first); rows go in id
  order, so that writers that share rows lock them in the same order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Connection

from legato.exceptions import StorageError
from legato.storage import schema, writes
from legato.storage.records import RecordBatch, canonical_uuid
from legato.storage.types import to_datetime

__all__ = ["delete_flow_run", "postgresql_statements", "write_batch"]

Tables = list[tuple[writes.TableWrite, writes.Rows]]
Statement = tuple[str, Sequence[Any]]


def write_batch(connection: Connection, batch: RecordBatch) -> None:
    """Write ``batch`` in the caller's transaction (commit is the caller's).

    A row with the wrong number of values raises ValueError before anything
    is written; a row the database refuses raises SQLAlchemy's error, and
    the caller's rollback undoes the whole batch.
    """
    if not batch:
        return
    tables = writes.table_rows(batch)
    writes.check_row_widths(tables)
    _writer(connection)(connection, tables)


def delete_flow_run(connection: Connection, flow_run_id: str) -> bool:
    """Delete a flow run with its task runs, states and logs; False if there is none.

    In the caller's transaction. An id that is not a UUID deletes nothing.
    """
    canonical = canonical_uuid(flow_run_id)
    if canonical is None:
        return False
    result = None
    for sql in writes.DELETE_FLOW_RUN:
        result = connection.execute(sa.text(sql), {"id": canonical})
    return result is not None and result.rowcount > 0


def _writer(connection: Connection) -> Callable[[Connection, Tables], None]:
    name = connection.dialect.name
    try:
        return _WRITERS[name]
    except KeyError:
        raise StorageError(f"legato cannot write to a {name!r} database.") from None


def _write_sqlite(connection: Connection, tables: Tables) -> None:
    driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):  # pragma: no cover - pysqlite only
        raise StorageError(f"Expected a sqlite3 connection, got {type(driver).__name__}.")
    max_variables = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    for sql, params in writes.multi_row_statements(tables, max_variables):
        connection.exec_driver_sql(sql, list(params))


def _write_postgresql(connection: Connection, tables: Tables) -> None:
    for sql, params in postgresql_statements(tables):
        connection.exec_driver_sql(sql, tuple(params))


_WRITERS: dict[str, Callable[[Connection, Tables], None]] = {
    "sqlite": _write_sqlite,
    "postgresql": _write_postgresql,
}


# -- PostgreSQL ---------------------------------------------------------------


def postgresql_statements(tables: Tables) -> list[Statement]:
    """One ``INSERT ... SELECT FROM unnest(...)`` per table, with one array per column."""
    return [(_unnest_sql(table), _column_arrays(table, rows)) for table, rows in tables]


@cache
def _column_types(table: writes.TableWrite) -> tuple[str, ...]:
    """The PostgreSQL type of each column of ``table``, from ``schema``."""
    dialect = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    columns = schema.metadata.tables[table.table].c
    return tuple(
        str(columns[name].type.dialect_impl(dialect).compile(dialect=dialect))
        for name in table.columns
    )


@cache
def _unnest_sql(table: writes.TableWrite) -> str:
    arrays = ", ".join(f"%b::{type_}[]" for type_ in _column_types(table))
    names = ", ".join(table.columns)
    return (
        f"INSERT INTO {table.table} ({names}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT {table.conflict}"
    )


def _datetimes(values: Sequence[Any]) -> list[Any]:
    """Aware UTC datetimes from POSIX seconds, rounded as reads round them on SQLite."""
    fromtimestamp = datetime.fromtimestamp
    try:
        return [None if value is None else fromtimestamp(value, UTC) for value in values]
    except TypeError:  # datetimes already: not what the recorder gives, but accepted
        return [None if value is None else to_datetime(value) for value in values]


def _floats(values: Sequence[Any]) -> list[Any]:
    return [None if value is None else float(value) for value in values]


def _integers(values: Sequence[Any]) -> list[Any]:
    return [None if value is None else int(value) for value in values]


# psycopg sends a list as an array of one type: a column mixing 0 and 0.5
# would be refused, so numbers are made one type; timestamps become datetimes.
_CONVERTERS: dict[str, Callable[[Sequence[Any]], list[Any]]] = {
    "FLOAT": _floats,
    "INTEGER": _integers,
    "TIMESTAMP WITH TIME ZONE": _datetimes,
}


def _column_arrays(table: writes.TableWrite, rows: writes.Rows) -> list[list[Any]]:
    if table.is_upsert:
        kept = tuple(table.columns.index(name) for name in table.keep)
        rows = _merge_snapshots(rows, (table.columns.index("created"), *kept))
    elif table is writes.FLOWS:
        rows = sorted(rows, key=itemgetter(0))  # in id order, like the runs (module doc)
    columns = zip(*rows, strict=True)
    return [
        _CONVERTERS.get(type_, list)(column)
        for type_, column in zip(_column_types(table), columns, strict=True)
    ]


def _merge_snapshots(rows: writes.Rows, first: tuple[int, ...]) -> list[Sequence[Any]]:
    """One row per id, in id order: the last snapshot, with the first one's ``created``
    and kept columns (the indexes in ``first``; a kept column's first non-NULL value)."""
    latest: dict[Any, Sequence[Any]] = {}
    for row in rows:
        earlier = latest.get(row[0])
        if earlier is not None:
            merged = list(row)
            for index in first:
                if earlier[index] is not None:
                    merged[index] = earlier[index]
            row = tuple(merged)
        latest[row[0]] = row
    return [latest[key] for key in sorted(latest)]
