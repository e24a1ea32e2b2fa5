"""The write path: SQL text and parameters for one ``RecordBatch``.

Everything here is plain Python and stdlib ``sqlite3``: the recorder must not
import SQLAlchemy. Each table's statement is one ``INSERT ... ON CONFLICT``,
generated from the field names of ``legato.storage.records``, with ``?``
placeholders for ``sqlite3``: rows are bound as they are, with no copy and no
conversion: they are already in column order, and SQLite stores timestamps as
the POSIX seconds the recorder has. (``sqlite3`` also binds positional
parameters faster than named ones.) ``write_batch`` inserts up to
``ROWS_PER_STATEMENT`` rows per statement (``INSERT ... VALUES (?, ...), (?,
...), ...``): ``sqlite3``'s work per statement is a good part of the cost of a
small row, and inserting costs about a third less so.

``legato.storage.batches`` writes the same batches through SQLAlchemy, on
SQLite (these statements) and PostgreSQL (``INSERT ... SELECT FROM unnest``
with the same ``ON CONFLICT`` clauses).

Runs are upserts (the latest snapshot wins; ``created`` keeps its first
value, and a flow run its first ``expected_start_time``). States and logs are appended; a repeated id is ignored, which makes a
batch idempotent, so a batch retried after an ambiguous failure cannot fail or
duplicate rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
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
    canonical_uuid,
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
    "check_row_widths",
    "delete_flow_run",
    "multi_row_statements",
    "sqlite_statements",
    "table_rows",
    "write_batch",
]

Rows = Sequence[Sequence[Any]]
# One statement and its parameters: row tuples, for ``executemany``.
Statement = tuple[str, Rows]

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
    """The insert (or upsert) of one table."""

    table: str
    columns: tuple[str, ...]
    conflict: str  # what follows ON CONFLICT
    sql: str  # ``?`` placeholders: sqlite3, row tuples as they are
    keep: tuple[str, ...] = ()  # upserts: columns whose stored non-NULL value stays

    @property
    def is_upsert(self) -> bool:
        """Whether a row that exists is updated (runs), rather than left alone."""
        return "DO UPDATE" in self.conflict

    def values_sql(self, rows: int) -> str:
        """``sql`` with ``rows`` groups of placeholders: a multi-row INSERT."""
        return _multi_row_sql(self, rows)


def _insert_sql(table: str, columns: tuple[str, ...], values: str, conflict: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} ON CONFLICT {conflict}"


def _table_write(
    table: str, columns: tuple[str, ...], conflict: str, keep: tuple[str, ...] = ()
) -> TableWrite:
    positional = f"({', '.join('?' for _ in columns)})"
    sql = _insert_sql(table, columns, positional, conflict)
    return TableWrite(table, columns, conflict, sql, keep)


def _upsert(table: str, columns: tuple[str, ...], keep: tuple[str, ...] = ()) -> TableWrite:
    """Every column but ``id`` and ``created`` from the new row; ``keep``: the stored
    value when it is not NULL."""

    def update(name: str) -> str:
        if name in keep:
            return f"{name} = COALESCE({table}.{name}, excluded.{name})"
        return f"{name} = excluded.{name}"

    updates = ", ".join(update(name) for name in columns if name not in ("id", "created"))
    return _table_write(table, columns, f"(id) DO UPDATE SET {updates}", keep)


FLOWS = _table_write("flows", FLOW_FIELDS, "DO NOTHING")
# A run created ahead of time (a deployment's scheduled run, which a worker
# then starts) keeps its scheduled start when the engine records it; the
# orchestration columns after FLOW_RUN_FIELDS are never named here at all.
FLOW_RUNS = _upsert("flow_runs", FLOW_RUN_FIELDS, keep=("expected_start_time",))
TASK_RUNS = _upsert("task_runs", TASK_RUN_FIELDS)
STATES = _table_write("states", STATE_FIELDS, "(id) DO NOTHING")
LOGS = _table_write("logs", LOG_FIELDS, "(id) DO NOTHING")
# In dependency order: the order a batch is written in.
TABLE_WRITES = (FLOWS, FLOW_RUNS, TASK_RUNS, STATES, LOGS)

# A flow run with its task runs, their states and logs, its inputs and pause details.
_IN_FLOW_RUN = "task_run_id IN (SELECT id FROM task_runs WHERE flow_run_id = :id)"
DELETE_FLOW_RUN = (
    f"DELETE FROM logs WHERE flow_run_id = :id OR {_IN_FLOW_RUN}",
    f"DELETE FROM states WHERE flow_run_id = :id OR {_IN_FLOW_RUN}",
    "DELETE FROM task_runs WHERE flow_run_id = :id",
    "DELETE FROM flow_run_inputs WHERE flow_run_id = :id",
    "DELETE FROM state_details WHERE flow_run_id = :id",
    "DELETE FROM flow_runs WHERE id = :id",
)


def sqlite_statements(
    batch: RecordBatch,
    now: float | None = None,
    max_variables: int = 999,
    rows_per_statement: int = ROWS_PER_STATEMENT,
) -> list[Statement]:
    """What ``write_batch`` runs: each table's ``sql``, many rows a statement.

    Every row is checked to have one value per column first (in a flattened
    chunk, a short row and a long one would shift every value in between
    without any error); then ``multi_row_statements``.
    """
    tables = table_rows(batch, now)
    check_row_widths(tables, sqlite3.ProgrammingError)
    return multi_row_statements(tables, max_variables, rows_per_statement)


def multi_row_statements(
    tables: list[tuple[TableWrite, Rows]],
    max_variables: int = 999,
    rows_per_statement: int = ROWS_PER_STATEMENT,
) -> list[Statement]:
    """Each table's rows, ``rows_per_statement`` at a time, as multi-row INSERTs.

    Fewer rows a statement if one would bind more than ``max_variables``
    values; each chunk's values are flattened into one tuple; the rows left
    over use the one-row statement. SQLite runs a multi-row INSERT row by
    row, so a later snapshot of a run still wins over an earlier one.
    """
    statements: list[Statement] = []
    for table, rows in tables:
        width = len(table.columns)
        size = min(rows_per_statement, max_variables // width)
        whole = len(rows) - len(rows) % size if size > 1 else 0
        if whole:
            flat = chain.from_iterable
            chunks = [tuple(flat(rows[start : start + size])) for start in range(0, whole, size)]
            statements.append((table.values_sql(size), chunks))
        if whole < len(rows):
            statements.append((table.sql, rows[whole:]))
    return statements


def table_rows(batch: RecordBatch, now: float | None = None) -> list[tuple[TableWrite, Rows]]:
    """Each table's write with its rows, in dependency order, empty ones left out.

    Flows get ``now`` (default: the current time) as ``created`` and ``updated``.
    """
    written = time.time() if now is None else now
    tables: tuple[tuple[TableWrite, Rows], ...] = (
        (FLOWS, [(id_, name, written, written) for id_, name in batch.flows]),
        (FLOW_RUNS, batch.flow_runs),
        (TASK_RUNS, batch.task_runs),
        (STATES, batch.states),
        (LOGS, batch.logs),
    )
    return [(table, rows) for table, rows in tables if rows]


def check_row_widths(
    tables: list[tuple[TableWrite, Rows]], error: Callable[[str], Exception] = ValueError
) -> None:
    """Raise ``error`` if a row has more or fewer values than its table has columns."""
    for table, rows in tables:
        width = len(table.columns)
        if any(length != width for length in set(map(len, rows))):
            raise error(f"a {table.table} row does not have {width} values")


@lru_cache(maxsize=64)
def _multi_row_sql(table: TableWrite, rows: int) -> str:
    one = f"({', '.join('?' for _ in table.columns)})"
    return _insert_sql(table.table, table.columns, ", ".join([one] * rows), table.conflict)


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
    canonical = canonical_uuid(flow_run_id)
    if canonical is None:
        return False
    params = {"id": canonical}

    def work(conn: sqlite3.Connection) -> bool:
        cursor = None
        for sql in DELETE_FLOW_RUN:
            cursor = conn.execute(sql, params)
        return cursor is not None and cursor.rowcount > 0

    return run_write(connection, work)


def _execute(connection: sqlite3.Connection, statements: list[Statement]) -> None:
    for sql, params in statements:
        connection.executemany(sql, params)
