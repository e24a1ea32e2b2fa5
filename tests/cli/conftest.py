"""CLI fixtures: a fresh LEGATO_HOME, an ``invoke`` that acts like a new process, a seeded store."""

from __future__ import annotations

import contextvars
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from legato.cli.app import app
from legato.client.embedded import EmbeddedClient
from legato.settings import clear_settings_cache
from legato.storage.records import FLOW_RUN_FIELDS, TASK_RUN_FIELDS, RecordBatch

Invoke = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty LEGATO_HOME; no LEGATO_* variable of the outer environment leaks in."""
    for name in list(os.environ):
        if name.startswith("LEGATO_"):
            monkeypatch.delenv(name)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return tmp_path / "home"


@pytest.fixture
def invoke(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """Run ``legato ARGS...`` in-process, as a new process would: settings loaded afresh
    from the environment (LEGATO_HOME=home), outside any outer temporary_settings block."""
    monkeypatch.setenv("LEGATO_HOME", str(home))
    # A wide terminal, so assertions on table cells don't depend on how rich folds them.
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str, **kwargs: Any) -> Result:
        clear_settings_cache()
        return contextvars.Context().run(runner.invoke, app, list(args), **kwargs)

    yield run
    clear_settings_cache()


def new_id() -> str:
    return str(uuid.uuid4())


def run_row(fields: tuple[str, ...], **values: Any) -> tuple[Any, ...]:
    """A run record: a tuple in ``fields`` order; ``updated`` defaults to ``created``."""
    row: dict[str, Any] = dict.fromkeys(fields)
    row.update(parameters="{}", tags="[]", run_count=1, total_run_time=0.0, created=time.time())
    if "task_inputs" in fields:
        row.update(task_inputs="{}", task_key="k", dynamic_key="0")
    row.update(values)
    if row["updated"] is None:
        row["updated"] = row["created"]
    return tuple(row[name] for name in fields)


class Store:
    """What the ``store`` fixture recorded: ids to look up."""

    def __init__(self, home: Path) -> None:
        self.client = EmbeddedClient(home / "legato.db")
        self.etl_flow, self.report_flow = new_id(), new_id()
        self.completed, self.failed, self.running = new_id(), new_id(), new_id()
        self.tasks = [new_id(), new_id(), new_id()]
        self.start = time.time() - 100

    def record(self, batch: RecordBatch) -> None:
        self.client.record(batch)

    def seed(self) -> None:
        at = self.start
        batch = RecordBatch(flows=[(self.etl_flow, "etl"), (self.report_flow, "report")])
        runs = [
            (self.completed, self.etl_flow, "brave-otter", "COMPLETED", "Completed", at),
            (self.failed, self.etl_flow, "calm-heron", "FAILED", "Failed", at + 10),
            (self.running, self.report_flow, "quick-lynx", "RUNNING", "Running", at + 20),
        ]
        for run_id, flow_id, name, state_type, state_name, start in runs:
            batch.flow_runs.append(
                run_row(
                    FLOW_RUN_FIELDS,
                    id=run_id,
                    flow_id=flow_id,
                    name=name,
                    state_type=state_type,
                    state_name=state_name,
                    state_timestamp=start,
                    start_time=start,
                    total_run_time=1.5,
                    created=start,
                )
            )
        for task_id, run_id, state_type in zip(
            self.tasks,
            [self.completed, self.completed, self.failed],
            ["COMPLETED", "COMPLETED", "FAILED"],
            strict=True,
        ):
            batch.task_runs.append(
                run_row(
                    TASK_RUN_FIELDS,
                    id=task_id,
                    flow_run_id=run_id,
                    name=f"task-{task_id[:4]}",
                    state_type=state_type,
                    state_name=state_type.title(),
                    created=at,
                )
            )
        for offset, (state_type, name) in enumerate(
            [("PENDING", "Pending"), ("RUNNING", "Running"), ("COMPLETED", "Completed")]
        ):
            batch.states.append(
                (new_id(), self.completed, None, state_type, name, None, at + offset, None)
            )
        for number in range(5):
            self.log(batch, self.completed, f"line {number}", at + number / 10)
        self.record(batch)

    def log(
        self, batch: RecordBatch, run_id: str, message: str, at: float, level: int = 20
    ) -> None:
        batch.logs.append((new_id(), run_id, None, "legato.flow_runs", level, message, at))


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    seeded = Store(home)
    seeded.seed()
    yield seeded
    seeded.client.close()
