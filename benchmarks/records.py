"""Watch an engine's database for finished run records (standard library only).

Both engines record runs in SQLite: legato writes ``LEGATO_HOME/legato.db``
itself; Prefect's ephemeral API server writes ``PREFECT_HOME/prefect.db``
from events the client sends it. Either may do so after the flow call has
returned, so a case also measures the time until every run it started is in
the database, in a terminal state. The database is opened read-only and each
poll is its own short read transaction (WAL mode: the writer is never blocked).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

TERMINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


@dataclass(frozen=True)
class Store:
    home_var: str
    filename: str
    flow_runs: str
    task_runs: str


STORES = {
    "legato": Store("LEGATO_HOME", "legato.db", "flow_runs", "task_runs"),
    "prefect": Store("PREFECT_HOME", "prefect.db", "flow_run", "task_run"),
}


@dataclass(frozen=True)
class Counts:
    flow_runs: int
    task_runs: int

    def covers(self, other: Counts) -> bool:
        return self.flow_runs >= other.flow_runs and self.task_runs >= other.task_runs

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.flow_runs + other.flow_runs, self.task_runs + other.task_runs)


class RecordWatch:
    """Counts finished flow and task runs in the engine's database."""

    def __init__(self, engine: str) -> None:
        self.store = STORES[engine]
        self.path = Path(os.environ[self.store.home_var]) / self.store.filename
        self._db: sqlite3.Connection | None = None
        marks = ", ".join("?" * len(TERMINAL))
        self._sql = (
            f"SELECT (SELECT count(*) FROM {self.store.flow_runs} WHERE state_type IN ({marks})),"
            f" (SELECT count(*) FROM {self.store.task_runs} WHERE state_type IN ({marks}))"
        )

    def counts(self) -> Counts:
        try:
            if self._db is None:
                if not self.path.exists():
                    return Counts(0, 0)
                self._db = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, isolation_level=None, timeout=5
                )
            flows, tasks = self._db.execute(self._sql, TERMINAL * 2).fetchone()
            return Counts(int(flows), int(tasks))
        except sqlite3.OperationalError:  # schema not there yet, or busy
            self.close()
            return Counts(0, 0)

    def wait_for(self, wanted: Counts, timeout: float) -> float | None:
        """Block until ``counts()`` covers ``wanted``; return the perf_counter time, or None."""
        deadline = time.perf_counter() + timeout
        pause = 0.0005
        while True:
            if self.counts().covers(wanted):
                return time.perf_counter()
            if time.perf_counter() > deadline:
                return None
            time.sleep(pause)
            pause = min(pause * 1.5, 0.02)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
