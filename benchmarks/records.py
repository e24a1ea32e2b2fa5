"""Watch an engine's database for finished run records.

Both engines record runs in SQLite by default: legato writes
``LEGATO_HOME/legato.db`` itself (or its server does, with ``LEGATO_API_URL``
set); Prefect's API server (ephemeral, or started by a server case) writes
``PREFECT_HOME/prefect.db`` from events the client sends it. Either may do so
after the flow call has returned, so a case also measures the time until every
run it started is in the database, in a terminal state. The database is opened
read-only and each poll is its own short read transaction (WAL mode: the
writer is never blocked).

When ``BENCH_DATABASE_URL`` names a PostgreSQL database (the server cases'
PostgreSQL variants), the same query runs over a connection to it: psycopg in
legato's virtualenv, asyncpg (Prefect's own driver) in Prefect's. Only the
standard library is imported at module level.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _count_sql(store: Store) -> str:
    # Literal state names (a fixed list): they compare as text in SQLite and
    # cast to Prefect's enum type in PostgreSQL.
    terminal = ", ".join(f"'{state}'" for state in TERMINAL)
    return (
        f"SELECT (SELECT count(*) FROM {store.flow_runs} WHERE state_type IN ({terminal})),"
        f" (SELECT count(*) FROM {store.task_runs} WHERE state_type IN ({terminal}))"
    )


class PostgresCounter:
    """Runs the count query on a PostgreSQL database (psycopg, else asyncpg)."""

    def __init__(self, url: str, sql: str) -> None:
        _, _, rest = url.partition("://")
        self.dsn = f"postgresql://{rest}"  # libpq form: no SQLAlchemy driver suffix
        self.sql = sql
        self._conn: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def counts(self) -> Counts:
        try:
            import psycopg
        except ImportError:
            return self._counts_asyncpg()
        if self._conn is None:
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        flows, tasks = self._conn.execute(self.sql).fetchone()
        return Counts(int(flows), int(tasks))

    def _counts_asyncpg(self) -> Counts:
        import asyncpg

        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        if self._conn is None:
            self._conn = self._loop.run_until_complete(asyncpg.connect(self.dsn, timeout=10))
        row = self._loop.run_until_complete(self._conn.fetchrow(self.sql))
        return Counts(int(row[0]), int(row[1]))

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                if self._loop is not None:
                    self._loop.run_until_complete(self._conn.close())
                else:
                    self._conn.close()
            self._conn = None
        if self._loop is not None:
            self._loop.close()
            self._loop = None


class RecordWatch:
    """Counts finished flow and task runs in the engine's database."""

    def __init__(self, engine: str, database_url: str | None = None) -> None:
        self.store = STORES[engine]
        self.path = Path(os.environ[self.store.home_var]) / self.store.filename
        self._db: sqlite3.Connection | None = None
        self._sql = _count_sql(self.store)
        self._pg = PostgresCounter(database_url, self._sql) if database_url else None

    def counts(self) -> Counts:
        if self._pg is not None:
            try:
                return self._pg.counts()
            except Exception:  # tables not created yet, or a dropped connection: retry later
                self._pg.close()
                return Counts(0, 0)
        try:
            if self._db is None:
                if not self.path.exists():
                    return Counts(0, 0)
                self._db = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, isolation_level=None, timeout=5
                )
            flows, tasks = self._db.execute(self._sql).fetchone()
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
        if self._pg is not None:
            self._pg.close()
        if self._db is not None:
            self._db.close()
            self._db = None
