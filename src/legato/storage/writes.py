"""The write path: SQL text and parameters for one ``RecordBatch``.

Everything here is plain Python and stdlib ``sqlite3``: the recorder must not
import SQLAlchemy. The statements use ``:name`` placeholders and
``INSERT ... ON CONFLICT`` so that the PostgreSQL path can run the very same
text through SQLAlchemy's ``text()``: build the parameters with
``prepare_batch(batch, to_timestamp)`` (passing a converter that returns aware
datetimes) and execute each statement with its parameter list.

Runs are upserts (the latest snapshot wins; ``created`` keeps its first
value). States and logs are appended; a repeated id is ignored, which makes a
batch idempotent, so a batch retried after an ambiguous failure cannot fail or
duplicate rows.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from legato.storage.records import (
    FLOW_RUN_FIELDS,
    TASK_RUN_FIELDS,
    FlowRow,
    LogRow,
    RecordBatch,
    StateRow,
)
from legato.storage.sqlite import run_write

__all__ = [
    "DELETE_FLOW_RUN",
    "INSERT_FLOW",
    "INSERT_LOG",
    "INSERT_STATE",
    "UPSERT_FLOW_RUN",
    "UPSERT_TASK_RUN",
    "delete_flow_run",
    "format_timestamp",
    "prepare_batch",
    "write_batch",
]

Params = dict[str, Any]
Statement = tuple[str, list[Params]]
TimestampConverter = Callable[[float], Any]

# Run fields holding POSIX seconds that are stored as timestamps.
RUN_TIMESTAMP_FIELDS = (
    "state_timestamp",
    "expected_start_time",
    "start_time",
    "end_time",
    "created",
)


def _insert(table: str, columns: Iterable[str], conflict: str) -> str:
    names = tuple(columns)
    values = ", ".join(f":{name}" for name in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values}) ON CONFLICT {conflict}"


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    updates = ", ".join(
        f"{name} = excluded.{name}" for name in columns if name not in ("id", "created")
    )
    return _insert(table, columns, f"(id) DO UPDATE SET {updates}")


INSERT_FLOW = _insert("flows", ("id", "name", "created", "updated"), "DO NOTHING")
UPSERT_FLOW_RUN = _upsert("flow_runs", (*FLOW_RUN_FIELDS, "updated"))
UPSERT_TASK_RUN = _upsert("task_runs", (*TASK_RUN_FIELDS, "updated"))
INSERT_STATE = _insert(
    "states",
    ("id", "flow_run_id", "task_run_id", "type", "name", "message", "timestamp"),
    "(id) DO NOTHING",
)
INSERT_LOG = _insert(
    "logs",
    ("id", "flow_run_id", "task_run_id", "name", "level", "message", "timestamp"),
    "(id) DO NOTHING",
)

# A flow run with its task runs, their states and their logs, in this order.
_IN_FLOW_RUN = "task_run_id IN (SELECT id FROM task_runs WHERE flow_run_id = :id)"
DELETE_FLOW_RUN = (
    f"DELETE FROM logs WHERE flow_run_id = :id OR {_IN_FLOW_RUN}",
    f"DELETE FROM states WHERE flow_run_id = :id OR {_IN_FLOW_RUN}",
    "DELETE FROM task_runs WHERE flow_run_id = :id",
    "DELETE FROM flow_runs WHERE id = :id",
)


@lru_cache(maxsize=1024)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def format_timestamp(posix_seconds: float) -> str:
    """POSIX seconds as the SQLite text form ``'YYYY-MM-DD HH:MM:SS.ffffff'`` (UTC).

    Rounds to the microsecond exactly as ``datetime.fromtimestamp`` does.
    """
    seconds = math.floor(posix_seconds)
    micros = round((posix_seconds - seconds) * 1_000_000)
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    return f"{_utc_second(seconds)}.{micros:06d}"


def prepare_batch(
    batch: RecordBatch,
    to_timestamp: TimestampConverter = format_timestamp,
    now: float | None = None,
) -> list[Statement]:
    """The statements of one batch with their parameters, in dependency order.

    Flows, then flow runs, task runs, states and logs; empty tables are left out.
    """
    updated = to_timestamp(time.time() if now is None else now)
    statements: list[Statement] = [
        (INSERT_FLOW, _flow_params(batch.flows, updated)),
        (UPSERT_FLOW_RUN, _run_params(batch.flow_runs, to_timestamp, updated)),
        (UPSERT_TASK_RUN, _run_params(batch.task_runs, to_timestamp, updated)),
        (INSERT_STATE, _state_params(batch.states, to_timestamp)),
        (INSERT_LOG, _log_params(batch.logs, to_timestamp)),
    ]
    return [(sql, params) for sql, params in statements if params]


def write_batch(connection: sqlite3.Connection, batch: RecordBatch) -> None:
    """Write one batch in one ``BEGIN IMMEDIATE`` transaction, retrying if busy."""
    statements = prepare_batch(batch)
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


def _flow_params(rows: list[FlowRow], updated: Any) -> list[Params]:
    return [{"id": id_, "name": name, "created": updated, "updated": updated} for id_, name in rows]


def _run_params(
    rows: list[dict[str, Any]], to_timestamp: TimestampConverter, updated: Any
) -> list[Params]:
    params_list: list[Params] = []
    for row in rows:
        params = dict(row)
        for key in RUN_TIMESTAMP_FIELDS:
            value = params[key]
            if value is not None:
                params[key] = to_timestamp(value)
        params["updated"] = updated
        params_list.append(params)
    return params_list


def _state_params(rows: list[StateRow], to_timestamp: TimestampConverter) -> list[Params]:
    return [
        {
            "id": id_,
            "flow_run_id": flow_run_id,
            "task_run_id": task_run_id,
            "type": type_,
            "name": name,
            "message": message,
            "timestamp": to_timestamp(timestamp),
        }
        for id_, flow_run_id, task_run_id, type_, name, message, timestamp in rows
    ]


def _log_params(rows: list[LogRow], to_timestamp: TimestampConverter) -> list[Params]:
    return [
        {
            "id": id_,
            "flow_run_id": flow_run_id,
            "task_run_id": task_run_id,
            "name": name,
            "level": level,
            "message": message,
            "timestamp": to_timestamp(timestamp),
        }
        for id_, flow_run_id, task_run_id, name, level, message, timestamp in rows
    ]
