"""Fixtures for the storage tests: real SQLite files in tmp_path, real PostgreSQL databases.

``db_url`` runs a test on a migrated SQLite file and on a fresh PostgreSQL
database (tests/pg.py); ``store`` is an engine on it.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import namedtuple
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pg
from legato.client.embedded import EmbeddedClient
from legato.storage.records import (
    FLOW_RUN_FIELDS,
    TASK_RUN_FIELDS,
    LogRow,
    RecordBatch,
    StateRow,
)

# Fixtures from tests/pg.py: a fresh PostgreSQL database; the same test on SQLite and on it.
pg_database_url = pg.pg_database_url
db_url = pg.db_url

# Run rows are tuples in field order (records.py); named tuples are such tuples,
# and keep the tests readable: ``run.id``, ``run._replace(state_type=...)``.
FlowRunRecord = namedtuple("FlowRunRecord", FLOW_RUN_FIELDS)  # type: ignore[misc]
TaskRunRecord = namedtuple("TaskRunRecord", TASK_RUN_FIELDS)  # type: ignore[misc]


class RecordFactory:
    """Builds records the way the engine does; times strictly increase."""

    def __init__(self) -> None:
        self._clock = itertools.count()
        self.start = time.time()

    def now(self) -> float:
        return self.start + next(self._clock) * 0.001

    def flow(self, name: str = "etl") -> tuple[str, str]:
        return (str(uuid.uuid5(uuid.NAMESPACE_URL, f"legato-flow:{name}")), name)

    def flow_run(self, flow: tuple[str, str] | None = None, **overrides: Any) -> Any:
        now = self.now()
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "flow_id": (flow or self.flow())[0],
            "name": "happy-otter",
            "flow_version": "1",
            "parameters": '{"x": 1}',
            "tags": '["nightly"]',
            "run_count": 1,
            "parent_flow_run_id": None,
            "parent_task_run_id": None,
            "state_type": "RUNNING",
            "state_name": "Running",
            "state_message": None,
            "state_timestamp": now,
            "expected_start_time": now,
            "start_time": now,
            "end_time": None,
            "total_run_time": 0.0,
            "created": now,
            "updated": now,
        }
        row.update(overrides)
        return FlowRunRecord(**row)

    def task_run(self, flow_run_id: str | None, **overrides: Any) -> Any:
        now = self.now()
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "flow_run_id": flow_run_id,
            "name": "add-0",
            "task_key": "add-abc",
            "dynamic_key": "0",
            "task_version": None,
            "cache_key": None,
            "tags": "[]",
            "task_inputs": "{}",
            "run_count": 1,
            "state_type": "COMPLETED",
            "state_name": "Completed",
            "state_message": None,
            "state_timestamp": now,
            "expected_start_time": now,
            "start_time": now,
            "end_time": now,
            "total_run_time": 0.001,
            "created": now,
            "updated": now,
        }
        row.update(overrides)
        return TaskRunRecord(**row)

    def state(
        self, flow_run_id: str | None = None, task_run_id: str | None = None, type_: str = "RUNNING"
    ) -> StateRow:
        name = type_.capitalize()
        return (str(uuid.uuid4()), flow_run_id, task_run_id, type_, name, None, self.now(), None)

    def log(
        self, flow_run_id: str | None = None, task_run_id: str | None = None, message: str = "hi"
    ) -> LogRow:
        return (
            str(uuid.uuid4()),
            flow_run_id,
            task_run_id,
            "legato.flow_runs",
            20,
            message,
            self.now(),
        )

    def flow_run_batch(self, task_runs: int = 2) -> tuple[RecordBatch, Any]:
        """A flow run with ``task_runs`` task runs, a state each and a log each."""
        flow = self.flow()
        run = self.flow_run(flow)
        batch = RecordBatch(flows=[flow], flow_runs=[run])
        batch.states.append(self.state(flow_run_id=run.id))
        batch.logs.append(self.log(flow_run_id=run.id))
        for _ in range(task_runs):
            task_run = self.task_run(run.id)
            batch.task_runs.append(task_run)
            batch.states.append(self.state(task_run_id=task_run.id, type_="COMPLETED"))
            batch.logs.append(self.log(run.id, task_run.id))
        return batch, run


@pytest.fixture
def factory() -> RecordFactory:
    return RecordFactory()


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "legato.db"


@pytest.fixture
def client(database_path: Path) -> Iterator[EmbeddedClient]:
    with EmbeddedClient(database_path) as embedded:
        yield embedded


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    """A SQLAlchemy engine on ``db_url`` (SQLite: transactions take the write lock)."""
    from legato.storage.engine import create_store_engine

    engine = create_store_engine(db_url, is_writer=True)
    yield engine
    engine.dispose()
