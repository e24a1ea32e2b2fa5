"""Fixtures for the limit tests: one store in three homes, and worker processes.

``store`` is parametrized over ``embedded`` (the SQLite file of the test's
LEGATO_HOME), ``server-sqlite`` and ``server-postgresql`` (a real ``legato
server start`` subprocess each, shared by the session: tests name their
limits uniquely). Inside a test the current settings point at that store, so
``get_client()``, flows and ``legato.concurrency`` all use it; ``store.env``
points worker processes at it. ``workers`` starts ``_limit_worker.py``
processes and kills whatever is left at the end.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import pg  # type: ignore[import-not-found]  # tests/pg.py
from legato.client import get_client
from legato.engine import tag_limits
from legato.settings import temporary_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

STORES = ["embedded", "server-sqlite", "server-postgresql"]
WORKER = Path(__file__).with_name("_limit_worker.py")
WAIT_SECONDS = 60.0


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("limits-sqlite-server")) as process:
        yield process


@pytest.fixture(scope="session")
def postgres_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[ServerProcess]:
    env = {"LEGATO_DATABASE_URL": pg.fresh_database(postgres_url)}
    with running_server(tmp_path_factory.mktemp("limits-pg-server"), env) as process:
        yield process


@dataclass
class Store:
    kind: str
    env: dict[str, str] = field(default_factory=dict)  # for worker processes


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, legato_home: Path) -> Iterator[Store]:
    kind = str(request.param)
    env = {"LEGATO_HOME": str(legato_home)}
    tag_limits.limited_tags.forget()
    if kind == "embedded":
        yield Store(kind, env)
        return
    fixture = "sqlite_server" if kind == "server-sqlite" else "postgres_server"
    server: ServerProcess = request.getfixturevalue(fixture)
    with temporary_settings({"LEGATO_API_URL": server.api_url}):
        yield Store(kind, {**env, "LEGATO_API_URL": server.api_url})


@pytest.fixture
def client(store: Store) -> Iterator[Any]:
    with get_client(sync_client=True) as made:
        yield made


@pytest.fixture
def name() -> str:
    """A limit or tag name no other test uses (the servers are shared)."""
    return f"lim-{uuid.uuid4().hex[:10]}"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def concurrency_logs() -> Iterator[list[logging.LogRecord]]:
    """Records of the ``legato.concurrency`` loggers (caplog misses them once legato's
    logging is set up: ``legato`` does not propagate to the root then)."""
    logger = logging.getLogger("legato.concurrency")
    handler = _Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class Workers:
    """``_limit_worker.py`` processes; their output goes to files (a full pipe would block)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen[str]] = []
        self.logs: list[Path] = []

    def start(self, env: Mapping[str, str], *args: str) -> subprocess.Popen[str]:
        log = self.folder / f"worker-{len(self.processes)}.log"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
        child_env.update(env)
        child_env["LEGATO_LOGGING_LEVEL"] = "WARNING"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [sys.executable, str(WORKER), *args],
                env=child_env,
                stdin=subprocess.PIPE,
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def output(self, process: subprocess.Popen[str]) -> str:
        return self.logs[self.processes.index(process)].read_text()

    def wait_for_line(self, process: subprocess.Popen[str], line: str) -> None:
        """Until ``process`` printed ``line`` (bounded; fails with its output if it died)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if line in self.output(process).splitlines():
                return
            if process.poll() is not None:
                break
            time.sleep(0.02)  # polling a file: nothing to wait on
        pytest.fail(f"worker never printed {line!r}:\n{self.output(process)[-3000:]}")

    def send(self, process: subprocess.Popen[str], line: str) -> None:
        assert process.stdin is not None
        process.stdin.write(line + "\n")
        process.stdin.flush()

    def finish(self, process: subprocess.Popen[str]) -> str:
        """Wait for ``process`` to exit 0 (bounded); its output."""
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"worker did not finish:\n{self.output(process)[-3000:]}")
        output = self.output(process)
        assert process.returncode == 0, output[-3000:]
        return output

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)
            if process.stdin is not None:
                process.stdin.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    made = Workers(tmp_path)
    try:
        yield made
    finally:
        made.stop_all()
