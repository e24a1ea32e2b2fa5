"""Helpers of the worker tests: a project's flows, a store (embedded or a server), worker subprocesses.

A store is ``embedded`` (a SQLite file under a temporary LEGATO_HOME, shared
by the test, the worker and its flow processes) or ``server`` (a real
``legato server start`` subprocess on SQLite, shared by the session; tests
name their pools and flows uniquely).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from legato.client.embedded import EmbeddedClient
from legato.client.http import SyncHttpClient
from legato.client.schemas.actions import WorkPoolCreate
from legato.workers.process import ProcessWorker

LAUNCH = "import sys; from legato.cli.app import main; sys.argv[0] = 'legato'; main()"
FINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})

FLOWS = """
import os
import signal
import sys
import time
from pathlib import Path

from legato import flow, runtime


@flow(log_prints=False)
def greet(name: str, n: int = 1) -> str:
    print(f"GREETING {name} x{n} from {runtime.deployment.name} (run {runtime.flow_run.id})")
    print(f"deployment_id={runtime.flow_run.deployment_id} id={runtime.deployment.id}")
    print(f"deployment_parameters={runtime.deployment.parameters}")
    print(f"scheduled={runtime.flow_run.scheduled_start_time.isoformat()}")
    return name * n


@flow
def trivial() -> int:
    return 1


@flow
def fails():
    raise ValueError("the data is wrong")


@flow
def dies():
    sys.stdout.flush()
    os._exit(3)


def _mark_cancelled(flow, flow_run, state):
    Path(os.environ["MARKER_DIR"], f"cancelled-{flow_run.id}").write_text(state.type.value)


@flow(on_cancellation=[_mark_cancelled])
def slow(ignore_sigterm: bool = False):
    if ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Path(os.environ["MARKER_DIR"], f"started-{runtime.flow_run.id}").write_text("yes")
    for _ in range(1200):
        time.sleep(0.05)
"""


@dataclass
class Store:
    """Where runs are recorded, seen from the test and from the worker subprocesses."""

    kind: str
    home: Path
    api_url: str | None
    project: Path
    markers: Path
    server_home: Path | None = None  # the server's LEGATO_HOME (its SQLite file), if any
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def client(self) -> Any:
        if self.api_url:
            return SyncHttpClient(self.api_url)
        return EmbeddedClient(self.home / "legato.db")

    def env(self, **extra: str) -> dict[str, str]:
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith("LEGATO_")
        }
        environment.update(
            {
                "LEGATO_HOME": str(self.home),
                "LEGATO_API_URL": self.api_url or "",
                "LEGATO_WORKER_QUERY_SECONDS": "0.2",
                "LEGATO_WORKER_HEARTBEAT_SECONDS": "2",
                "MARKER_DIR": str(self.markers),
                "PYTHONUNBUFFERED": "1",
            }
        )
        environment.update(extra)
        return environment

    def legato(self, *arguments: str, **extra_env: str) -> subprocess.Popen[str]:
        """``legato ARGS...`` as a subprocess (stdout and stderr captured, separately)."""
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, *arguments],
            env=self.env(**extra_env),
            cwd=self.project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def run_worker(
        self, *arguments: str, timeout: float = 90, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        """``legato worker start ARGS... --run-once`` to its end."""
        process = self.legato("worker", "start", *arguments, "--run-once", **extra_env)
        stdout, stderr = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def deploy(
        self, client: Any, flow: str, pool: str, entrypoint: str | None = None, **options: Any
    ) -> uuid.UUID:
        """A deployment of ``flows.py:<flow>`` on ``pool`` (the pool is created if needed)."""
        try:
            client.read_work_pool(pool)
        except Exception:
            client.create_work_pool(
                WorkPoolCreate(
                    name=pool,
                    type="process",
                    base_job_template=ProcessWorker.default_base_job_template(),
                )
            )
        flow_id = client.create_flow_from_name(flow.replace("_", "-"))
        return client.create_deployment(  # type: ignore[no-any-return]
            flow_id,
            f"{flow}-{uuid.uuid4().hex[:6]}",
            entrypoint=entrypoint or f"flows.py:{flow}",
            path=str(self.project),
            work_pool_name=pool,
            **options,
        )


def wait_for(
    condition: Callable[[], Any], timeout: float = 60, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll ``condition`` until it is truthy (bounded); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")


def state_of(client: Any, run_id: Any) -> str:
    run = client.read_flow_run(run_id)
    return str(run.state.type) if run.state is not None else ""


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    project = tmp_path / "project"
    project.mkdir()
    (project / "flows.py").write_text(textwrap.dedent(FLOWS))
    markers = tmp_path / "markers"
    markers.mkdir()
    if kind == "server":
        server = request.getfixturevalue("worker_server")
        return Store(
            "server", tmp_path / "worker-home", server.api_url, project, markers, server.home
        )
    return Store("embedded", tmp_path / "home", None, project, markers)


def stop_processes(store: Store) -> None:
    for process in store.processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
