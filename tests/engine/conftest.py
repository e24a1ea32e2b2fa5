"""Helpers for the engine tests: read what legato recorded, straight from SQLite.

The root ``tests/conftest.py`` gives every test a fresh ``LEGATO_HOME`` and the
``legato_home`` fixture (a Path). The engine writes to
``$LEGATO_HOME/legato.db``; these helpers read that file with the standard
library only, so the tests do not depend on legato's own storage code.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

# Columns that hold JSON text in the run tables.
_JSON_COLUMNS = {"parameters", "tags", "task_inputs"}
# Timestamp columns; storage may keep them as UTC text, the helpers give POSIX seconds.
_TIME_COLUMNS = {
    "timestamp",
    "state_timestamp",
    "expected_start_time",
    "start_time",
    "end_time",
    "created",
    "updated",
}

# Final state types of a run (Prefect 3's TERMINAL_STATES).
FINAL_TYPES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _to_posix(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS & out.keys():
        if isinstance(out[key], str):
            out[key] = json.loads(out[key])
    for key in _TIME_COLUMNS & out.keys():
        out[key] = _to_posix(out[key])
    return out


class Recorded:
    """Read-only view of one legato database file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        assert self.path.exists(), f"nothing was recorded: {self.path} does not exist"
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.row_factory = sqlite3.Row
            return [_decode(row) for row in conn.execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.query(sql, params)
        return next(iter(rows[0].values())) if rows else None

    # -- flows and flow runs -------------------------------------------------

    def flow_runs(self, flow_name: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT fr.*, f.name AS flow_name FROM flow_runs fr "
            "LEFT JOIN flows f ON f.id = fr.flow_id"
        )
        if flow_name is None:
            return self.query(sql + " ORDER BY fr.created, fr.rowid")
        return self.query(sql + " WHERE f.name = ? ORDER BY fr.created, fr.rowid", (flow_name,))

    def flow_run(self, flow_run_id: Any) -> dict[str, Any]:
        rows = self.query(
            "SELECT fr.*, f.name AS flow_name FROM flow_runs fr "
            "LEFT JOIN flows f ON f.id = fr.flow_id WHERE fr.id = ?",
            (str(flow_run_id),),
        )
        assert rows, f"flow run {flow_run_id} was not recorded"
        return rows[0]

    def only_flow_run(self, flow_name: str | None = None) -> dict[str, Any]:
        rows = self.flow_runs(flow_name)
        assert len(rows) == 1, f"expected one flow run, found {len(rows)}: {rows}"
        return rows[0]

    # -- task runs -----------------------------------------------------------

    def task_runs(
        self, flow_run_id: Any = None, *, name_prefix: str | None = None
    ) -> list[dict[str, Any]]:
        clauses, params = [], []
        if flow_run_id is not None:
            clauses.append("flow_run_id = ?")
            params.append(str(flow_run_id))
        if name_prefix is not None:
            clauses.append("name LIKE ?")
            params.append(name_prefix + "%")
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return self.query(f"SELECT * FROM task_runs{where} ORDER BY created, rowid", tuple(params))

    def task_run(self, task_run_id: Any) -> dict[str, Any]:
        rows = self.query("SELECT * FROM task_runs WHERE id = ?", (str(task_run_id),))
        assert rows, f"task run {task_run_id} was not recorded"
        return rows[0]

    def only_task_run(self) -> dict[str, Any]:
        rows = self.task_runs()
        assert len(rows) == 1, f"expected one task run, found {len(rows)}: {rows}"
        return rows[0]

    # -- state history and logs ----------------------------------------------

    def states(self, *, flow_run_id: Any = None, task_run_id: Any = None) -> list[dict[str, Any]]:
        """The state history of one run, in timestamp order (oldest first)."""
        if task_run_id is not None:
            return self.query(
                "SELECT * FROM states WHERE task_run_id = ? ORDER BY timestamp, rowid",
                (str(task_run_id),),
            )
        assert flow_run_id is not None
        return self.query(
            "SELECT * FROM states WHERE flow_run_id = ? AND task_run_id IS NULL "
            "ORDER BY timestamp, rowid",
            (str(flow_run_id),),
        )

    def state_types(self, **run: Any) -> list[str]:
        return [row["type"] for row in self.states(**run)]

    def state_names(self, **run: Any) -> list[str]:
        return [row["name"] for row in self.states(**run)]

    def logs(self, *, flow_run_id: Any = None, task_run_id: Any = None) -> list[dict[str, Any]]:
        clauses, params = [], []
        if flow_run_id is not None:
            clauses.append("flow_run_id = ?")
            params.append(str(flow_run_id))
        if task_run_id is not None:
            clauses.append("task_run_id = ?")
            params.append(str(task_run_id))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return self.query(f"SELECT * FROM logs{where} ORDER BY timestamp, rowid", tuple(params))

    def log_messages(self, **run: Any) -> list[str]:
        return [row["message"] for row in self.logs(**run)]


@pytest.fixture
def recorded(legato_home: Path) -> Recorded:
    """What the engine recorded in this test's ``$LEGATO_HOME/legato.db``.

    Rows are dicts; JSON columns are decoded and timestamps are POSIX seconds.
    """
    return Recorded(legato_home / "legato.db")


class ListHandler(logging.Handler):
    """Keeps every record it sees, thread-safely."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.records.append(record)

    def messages(self) -> list[str]:
        with self._lock:
            return [r.getMessage() for r in self.records]


@pytest.fixture
def legato_records() -> Iterator[ListHandler]:
    """Log records that reach the ``legato`` logger (run loggers live under it)."""
    handler = ListHandler()
    logger = logging.getLogger("legato")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
