"""A worker whose server goes away: it backs off, logs one line, and carries on when it is back."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from _worker_support import LAUNCH, state_of, wait_for

from legato.client.http import SyncHttpClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_on(port: int, home: Path) -> Iterator[str]:
    """``legato server start --port PORT`` with ``home``; healthy; stopped at the end."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("LEGATO_")}
    env.update({"LEGATO_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LAUNCH,
            "server",
            "start",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        with httpx.Client(timeout=2) as http:

            def healthy() -> bool:
                assert process.poll() is None, "the server exited"
                try:
                    return http.get(f"{url}/health").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(healthy, timeout=60, interval=0.05, what="the server to answer")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


class Lines:
    """A subprocess's stderr lines, read in a thread, searchable while it runs."""

    def __init__(self, stream) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line)

    def count(self, text: str) -> int:
        while not self._queue.empty():
            self.seen.append(self._queue.get_nowait())
        return sum(text in line for line in self.seen)


@pytest.mark.timeout(300)
def test_the_worker_survives_its_server_going_away_and_coming_back(
    embedded_store, pool_name, tmp_path
):
    store = embedded_store  # its project and processes, pointed at a server of this test's own
    port, home = free_port(), tmp_path / "outage-server-home"
    store.api_url = f"http://127.0.0.1:{port}/api"
    with server_on(port, home):
        worker = store.legato(
            "worker",
            "start",
            "--pool",
            pool_name,
            "--type",
            "process",
            LEGATO_WORKER_BACKOFF_MAX_SECONDS="0.5",
            LEGATO_LOGGING_LEVEL="DEBUG",
        )
        lines = Lines(worker.stderr)
        wait_for(lambda: lines.count("started, polling work pool"), what="the worker to start")

    # When the server is gone, the worker says so once and keeps trying.
    wait_for(lambda: lines.count("still failing") >= 3, what="the worker to retry")
    assert worker.poll() is None
    assert lines.count("cannot reach") == 1

    with server_on(port, home) as url:
        wait_for(lambda: lines.count("reached http://"), what="the worker to reconnect")
        with SyncHttpClient(url) as client:
            deployment_id = store.deploy(client, "trivial", pool_name)
            run = client.create_flow_run_from_deployment(deployment_id)
            wait_for(lambda: state_of(client, run.id) == "COMPLETED", what="the run to complete")
        assert worker.poll() is None
        assert lines.count("cannot reach") == 1
