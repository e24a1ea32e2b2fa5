"""A real ``legato server start`` in a subprocess, for the server and client tests.

``running_server(home, env)`` starts ``legato server start --port 0`` with its
own LEGATO_HOME, reads the URL it prints, waits (bounded) until
``/api/health`` answers, yields a ``ServerProcess``, and stops the process
(SIGTERM, then SIGKILL after a bounded wait) at the end.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_SECONDS = 60.0
AUTH_STRING = "admin:s3cret-passw0rd"  # the auth server's LEGATO_SERVER_API_AUTH_STRING
_URL_PREFIX = "export LEGATO_API_URL="
_LAUNCH = "import sys; from legato.cli.app import main; sys.argv[0] = 'legato'; main()"


@dataclass(frozen=True)
class ServerProcess:
    api_url: str  # http://127.0.0.1:<port>/api
    home: Path
    process: subprocess.Popen[str]
    started_in_seconds: float  # from launch to the first healthy answer

    @property
    def url(self) -> str:
        return self.api_url.removesuffix("/api")


def _server_env(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("LEGATO_")}
    env.update({"LEGATO_HOME": str(home), "PYTHONUNBUFFERED": "1", **extra})
    return env


def _read_lines(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


@contextmanager
def running_server(
    home: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """``legato server start`` on a free port, healthy, stopped at the end."""
    launched = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "server", "start", "--port", "0", "--log-level", "warning"],
        env=_server_env(home, extra_env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        api_url = _wait_for_url(process, lines)
        started = _wait_for_health(process, api_url) - launched
        yield ServerProcess(api_url, home, process, started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_url(process: subprocess.Popen[str], lines: queue.Queue[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if line.startswith(_URL_PREFIX):
            return line[len(_URL_PREFIX) :].strip()
        if process.poll() is not None and lines.empty():
            break
    raise RuntimeError(f"legato server start printed no URL:\n{''.join(seen)}")


def _wait_for_health(process: subprocess.Popen[str], api_url: str) -> float:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"legato server exited with {process.returncode}")
            try:
                if client.get(f"{api_url}/health").status_code == 200:
                    return time.perf_counter()
            except httpx.TransportError:
                pass
            time.sleep(0.02)  # polling a port: nothing to wait on
    raise RuntimeError(f"{api_url}/health did not answer in {START_TIMEOUT_SECONDS} s")
