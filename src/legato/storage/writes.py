"""The write path: SQL text and parameters for one ``RecordBatch``.

Everything here is plain Python and stdlib ``sqlite3``: the recorder must not
import SQLAlchemy. Each table's statement is one ``INSERT ... ON CONFLICT``,
generated from the field names of ``legato.storage.records`` in two spellings:

- ``sql``, with ``?`` placeholders, for ``sqlite3``: rows are bound as they
  are, with no copy and no conversion: they are already in column order, and
  SQLite stores timestamps as the POSIX seconds the recorder has. (``sqlite3``
  also binds positional parameters faster than named ones.) ``write_batch``
  inserts up to ``ROWS_PER_STATEMENT`` rows per statement
  (``INSERT ... VALUES (?, ...), (?, ...), ...``): ``sqlite3``'s work per
  statement is a good part of the cost of a small row, and inserting costs
  about a third less so.
- ``named_sql``, with ``:name`` placeholders, for the PostgreSQL path through
  SQLAlchemy's ``text()``: ``prepare_batch(batch, to_timestamp)`` turns each
  row into a dict (``named_rows``) whose timestamps went through
  ``to_timestamp`` (a converter that returns aware datetimes).

Runs are upserts (the latest snapshot wins; ``created`` keeps its first
value). States and logs are appended; a repeated id is ignored, which makes a
batch idempotent, so a batch retried after an ambiguous failure cannot fail or
duplicate rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

from legato.storage.records import (
    FLOW_RUN_FIELDS,
    LOG_FIELDS,
    STATE_FIELDS,
    TASK_RUN_FIELDS,
    RecordBatch,
)
from legato.storage.sqlite import run_write

__all__ = [
    "DELETE_FLOW_RUN",
    "FLOWS",
    "FLOW_FIELDS",
    "FLOW_RUNS",
    "LOGS",
    "ROWS_PER_STATEMENT",
    "STATES",
    "TABLE_WRITES",
    "TASK_RUNS",
    "TIMESTAMP_FIELDS",
    "TableWrite",
    "delete_flow_run",
    "named_rows",
    "prepare_batch",
    "sqlite_statements",
    "write_batch",
]

# Parameters of one statement: row tuples (``sql``) or dicts (``named_sql``).
Params = Sequence[Sequence[Any]] | list[dict[str, Any]]
Statement = tuple[str, Params]
TimestampConverter = Callable[[float], Any]

# Most rows one INSERT binds on SQLite (fewer if SQLite allows fewer variables).
ROWS_PER_STATEMENT = 256

# A flow row as written: the record's (id, name), then the time of the write twice.
FLOW_FIELDS = ("id", "name", "created", "updated")
# Fields holding POSIX seconds (None allowed where the column allows it).
TIMESTAMP_FIELDS = frozenset(
    {
        "state_timestamp",
        "expected_start_time",
        "start_time",
        "end_time",
        "created",
        "updated",
        "timestamp",
    }
)


@dataclass(frozen=True, slots=True)
class TableWrite:
    """The insert (or upsert) of one table, in both placeholder styles."""

    table: str
    columns: tuple[str, ...]
    conflict: str  # what follows ON CONFLICT
    sql: str  # ``?`` placeholders: sqlite3, row tuples as they are
    named_sql: str  # ``:name`` placeholders: SQLAlchemy text(), rows as dicts

    def values_sql(self, rows: int) -> str:
        """``sql`` with ``rows`` groups of placeholders: a multi-row INSERT."""
        return _multi_row_sql(self, rows)


def _insert_sql(table: str, columns: tuple[str, ...], values: str, conflict: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} ON CONFLICT {conflict}"


def _table_write(table: str, columns: tuple[str, ...], conflict: str) -> TableWrite:
    positional = f"({', '.join('?' for _ in columns)})"
    named = f"({', '.join(f':{name}' for name in columns)})"
    return TableWrite(
        table,
        columns,
        conflict,
        _insert_sql(table, columns, positional, conflict),
        _insert_sql(table, columns, named, conflict),
    )


def _upsert(table: str, columns: tuple[str, ...]) -> TableWrite:
    updates = ", ".join(
        f"{name} = excluded.{name}" for name in columns if name not in ("id", "created")
    )
    return _table_write(table, columns, f"(id) DO UPDATE SET {updates}")


FLOWS = _table_write("flows", FLOW_FIELDS, "DO NOTHING")
FLOW_RUNS = _upsert("flow_runs", FLOW_RUN_FIELDS)
TASK_RUNS = _upsert("task_runs", TASK_RUN_FIELDS)
STATES = _table_write("states", STATE_FIELDS, "(id) DO NOTHING")
LOGS = _table_write("logs", LOG_FIELDS, "(id) DO NOTHING")
# In dependency order: the order ``prepare_batch`` writes them in.
TABLE_WRITES = (FLOWS, FLOW_RUNS, TASK_RUNS, STATES, LOGS)

# A flow run with its task runs, their states and their logs, in this order.
_IN_FLOW_RUN = "task_run_id IN (SELECT id FROM task_runs WHERE flow_run_id = :id)"
DELETE_FLOW_RUN = (
    f"DELETE FROM logs WHERE flow_run_id = :id OR {_IN_FLOW_RUN}",
    f"DELETE FROM states WHERE flow_run_id = :id OR {_IN_FLOW_RUN}",
    "DELETE FROM task_runs WHERE flow_run_id = :id",
    "DELETE FROM flow_runs WHERE id = :id",
)


def prepare_batch(
    batch: RecordBatch,
    to_timestamp: TimestampConverter | None = None,
    now: float | None = None,
) -> list[Statement]:
    """The statements of one batch with their parameters, in dependency order.

    Flows, then flow runs, task runs, states and logs; empty tables are left
    out. Flows are written with ``now`` (default: the current time) as their
    ``created`` and ``updated``.

    Without ``to_timestamp`` (SQLite): each table's ``sql`` with the batch's
    own row tuples. With it (PostgreSQL): each table's ``named_sql`` with
    ``named_rows``; the batch is not modified.
    """
    tables = _tables(batch, now)
    if to_timestamp is None:
        return [(table.sql, rows) for table, rows in tables]
    return [
        (table.named_sql, named_rows(table.columns, rows, to_timestamp)) for table, rows in tables
    ]


def sqlite_statements(
    batch: RecordBatch,
    now: float | None = None,
    max_variables: int = 999,
    rows_per_statement: int = ROWS_PER_STATEMENT,
) -> list[Statement]:
    """What ``write_batch`` runs: ``prepare_batch(batch)``, many rows a statement.

    Each table's rows go ``rows_per_statement`` at a time (fewer if a
    statement would bind more than ``max_variables`` values) into one
    multi-row INSERT, each chunk's values flattened into one tuple; the rows
    left over use the one-row statement. SQLite runs a multi-row INSERT row by
    row, so a later snapshot of a run still wins over an earlier one.
    """
    statements: list[Statement] = []
    for table, rows in _tables(batch, now):
        width = len(table.columns)
        if any(length != width for length in set(map(len, rows))):
            # Caught here: in a flattened chunk, a short row and a long one
            # would shift every value in between without any error.
            raise sqlite3.ProgrammingError(f"a {table.table} row does not have {width} values")
        size = min(rows_per_statement, max_variables // width)
        whole = len(rows) - len(rows) % size if size > 1 else 0
        if whole:
            flat = chain.from_iterable
            chunks = [tuple(flat(rows[start : start + size])) for start in range(0, whole, size)]
            statements.append((table.values_sql(size), chunks))
        if whole < len(rows):
            statements.append((table.sql, rows[whole:]))
    return statements


def _tables(
    batch: RecordBatch, now: float | None
) -> list[tuple[TableWrite, Sequence[Sequence[Any]]]]:
    """Each table's write with its rows, in dependency order, empty ones left out."""
    written = time.time() if now is None else now
    tables: tuple[tuple[TableWrite, Sequence[Sequence[Any]]], ...] = (
        (FLOWS, [(id_, name, written, written) for id_, name in batch.flows]),
        (FLOW_RUNS, batch.flow_runs),
        (TASK_RUNS, batch.task_runs),
        (STATES, batch.states),
        (LOGS, batch.logs),
    )
    return [(table, rows) for table, rows in tables if rows]


@lru_cache(maxsize=64)
def _multi_row_sql(table: TableWrite, rows: int) -> str:
    one = f"({', '.join('?' for _ in table.columns)})"
    return _insert_sql(table.table, table.columns, ", ".join([one] * rows), table.conflict)


def named_rows(
    columns: tuple[str, ...], rows: Iterable[Sequence[Any]], to_timestamp: TimestampConverter
) -> list[dict[str, Any]]:
    """Row tuples as ``{column: value}`` dicts, timestamps through ``to_timestamp``.

    A row with more or fewer values than ``columns`` raises ValueError.
    """
    stamps = [name for name in columns if name in TIMESTAMP_FIELDS]
    dicts: list[dict[str, Any]] = []
    for row in rows:
        params = dict(zip(columns, row, strict=True))
        for name in stamps:
            value = params[name]
            if value is not None:
                params[name] = to_timestamp(value)
        dicts.append(params)
    return dicts


def write_batch(connection: sqlite3.Connection, batch: RecordBatch) -> None:
    """Write one batch in one ``BEGIN IMMEDIATE`` transaction, retrying if busy."""
    if not batch:
        return
    statements = sqlite_statements(
        batch, max_variables=connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    )
    if statements:
        run_write(connection, lambda conn: _execute(conn, statements))


def delete_flow_run(connection: sqlite3.Connection, flow_run_id: str) -> bool:
    """Delete a flow run with its task runs, states and logs; False if absent."""
    params = {"id": str(flow_run_id).lower()}

    def work(conn: sqlite3.Connection) -> bool:
        cursor = None
        for sql in DELETE_FLOW_RUN:
            cursor = conn.execute(sql, params)
        return cursor is not None and cursor.rowcount > 0

    return run_write(connection, work)


def _execute(connection: sqlite3.Connection, statements: list[Statement]) -> None:
    for sql, params in statements:
        connection.executemany(sql, params)
