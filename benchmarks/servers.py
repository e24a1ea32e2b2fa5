"""The engines' API servers as subprocesses, for the server cases (child side).

A server case calls :func:`serve` in its child process. That starts the
engine's own server command on a free loopback port::

    legato:  <venv>/bin/legato server start --host 127.0.0.1 --port P
    prefect: <venv>/bin/prefect server start --host 127.0.0.1 --port P

with the child's home (``LEGATO_HOME`` / ``PREFECT_HOME``, so the server
writes the database that ``records.py`` watches) and, when the driver gives
one in ``BENCH_DATABASE_URL``, a PostgreSQL database
(``LEGATO_DATABASE_URL`` / ``PREFECT_API_DATABASE_CONNECTION_URL``). It
waits for ``/api/health`` (bounded; a failure names the server's log and
quotes its tail), then points this process's client at the server
(``LEGATO_API_URL`` / ``PREFECT_API_URL``) before the engine is imported.

The server runs in the child's process group, so the driver's kill of that
group on a timeout ends it too; normally :func:`stop_all` (called by
``child.py`` and at exit) stops it: SIGTERM, then SIGKILL for it and its
descendants after a grace period. :func:`start_helper` starts another
long-lived process next to the server (the deployment cases' worker), which
:func:`stop_all` stops the same way, before the server.

Standard library only: this module runs in both engines' virtualenvs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HOME_VARS = {"legato": "LEGATO_HOME", "prefect": "PREFECT_HOME"}
API_URL_VARS = {"legato": "LEGATO_API_URL", "prefect": "PREFECT_API_URL"}
DATABASE_URL_VARS = {
    "legato": "LEGATO_DATABASE_URL",
    "prefect": "PREFECT_API_DATABASE_CONNECTION_URL",
}
# Prefect's first start on an empty PostgreSQL database runs all its migrations.
STARTUP_TIMEOUT_S = {"legato": 60.0, "prefect": 300.0}
STOP_GRACE_S = 15.0
PORT_ATTEMPTS = 3


class ServerError(RuntimeError):
    """The server did not start, or did not answer its health check in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for(engine: str, url: str) -> str:
    """``url`` (``postgresql+psycopg://...``) with the driver the engine's server uses."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        return url
    driver = "asyncpg" if engine == "prefect" else "psycopg"
    return f"postgresql+{driver}://{rest}"


# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[19])


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB (0 if it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- servers


def _tail(path: Path, lines: int = 12, chars: int = 1000) -> str:
    """The end of the server's log (short enough for the child's error message)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    tail = "\n".join(text.strip().splitlines()[-lines:])
    return (tail if len(tail) <= chars else "..." + tail[-chars:]) or "(empty log)"


@dataclass
class Server:
    engine: str
    url: str  # http://127.0.0.1:P/api
    proc: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float = 0.0  # from the command's start to the first healthy answer
    database: str = "sqlite"
    stop_grace_s: float = STOP_GRACE_S
    _family: dict[int, int] = field(default_factory=dict)  # pid -> start time

    def pids(self) -> list[int]:
        """The server process and its live descendants."""
        if self.proc.poll() is not None:
            return []
        return [self.proc.pid, *descendants(self.proc.pid)]

    def rss_mb(self) -> float:
        """The sum of VmRSS over the server process and its descendants, in MB (MiB)."""
        return sum(rss_kib(pid) for pid in self.pids()) / 1024

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM; after ``grace`` seconds SIGKILL the server and whatever it started."""
        grace = self.stop_grace_s if grace is None else grace
        for pid in self.pids():
            stat = _stat(pid)
            if stat is not None:
                self._family[pid] = stat[1]
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        for pid, started in self._family.items():
            stat = _stat(pid)
            if stat is not None and stat[1] == started:  # the same process, not a reused pid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


def _command(engine: str, port: int) -> list[str]:
    # The engine's console script, next to this virtualenv's interpreter.
    script = Path(sys.executable).parent / engine
    command = [str(script), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    if engine == "prefect":
        command += ["--no-ui", "--analytics-off"]
    return command


def _server_env(engine: str, home: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.pop(API_URL_VARS[engine], None)  # the server is not a client of itself
    env[HOME_VARS[engine]] = str(home)
    if database_url:
        env[DATABASE_URL_VARS[engine]] = database_url_for(engine, database_url)
    if engine == "prefect":
        env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        env["PREFECT_SERVER_UI_ENABLED"] = "false"
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200 and response.read().strip() == b"true")
    except (OSError, urllib.error.URLError, ValueError):
        return False


def start_server(
    engine: str,
    home: Path,
    log_path: Path,
    database_url: str | None = None,
    timeout: float | None = None,
) -> Server:
    """Start ``engine``'s server on a free port and wait until ``/api/health`` answers."""
    timeout = STARTUP_TIMEOUT_S[engine] if timeout is None else timeout
    env = _server_env(engine, home, database_url)
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        url = f"http://127.0.0.1:{port}/api"
        start = time.monotonic()
        with open(log_path, "ab") as log:
            log.write(f"--- {' '.join(_command(engine, port))}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                _command(engine, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=home,
            )
        server = Server(
            engine, url, proc, log_path, database="postgresql" if database_url else "sqlite"
        )
        pause = 0.05
        while True:
            if _healthy(url):
                server.startup_s = time.monotonic() - start
                return server
            code = proc.poll()
            if code is not None:
                tail = _tail(log_path)
                lost_port = "address already in use" in tail.lower() or "errno 98" in tail.lower()
                if lost_port and attempt < PORT_ATTEMPTS:
                    break  # another process took the free port first: try another one
                raise ServerError(
                    f"{engine} server exited with {code} before {url}/health answered "
                    f"(log {log_path}):\n{tail}"
                )
            if time.monotonic() - start > timeout:
                server.stop(grace=5)
                raise ServerError(
                    f"{engine} server did not answer {url}/health within {timeout:.0f} s "
                    f"(log {log_path}):\n{_tail(log_path)}"
                )
            time.sleep(pause)
            pause = min(pause * 1.5, 0.5)
    raise AssertionError("unreachable")  # pragma: no cover


_running: list[Server] = []


def serve() -> Server:
    """This child's server (started on the first call), with the client pointed at it.

    Call it before the engine is imported: both engines read their API URL
    from the environment when their settings load.
    """
    for running in _running:
        if running.url:  # the server, not a helper process
            return running
    engine = os.environ["BENCH_ENGINE"]
    home = Path(os.environ[HOME_VARS[engine]])
    log_path = home.parent / f"{home.name.removesuffix('.home')}.server.log"
    server = start_server(engine, home, log_path, os.environ.get("BENCH_DATABASE_URL") or None)
    _running.append(server)
    os.environ[API_URL_VARS[engine]] = server.url
    return server


def start_helper(
    command: list[str],
    log_path: Path,
    cwd: Path,
    env: dict[str, str],
    stop_grace_s: float = 10.0,
) -> Server:
    """Start a long-lived helper of this child's server (e.g. a worker), logging to ``log_path``.

    It is stopped like the server (SIGTERM, then SIGKILL for it and its
    descendants) by :func:`stop_all`, before the server.
    """
    with open(log_path, "ab") as log:
        log.write(f"--- {' '.join(command)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
    helper = Server(os.environ.get("BENCH_ENGINE", ""), "", proc, log_path)
    helper.stop_grace_s = stop_grace_s
    _running.append(helper)
    return helper


def tail(path: Path) -> str:
    """The end of a helper's log, for an error message."""
    return _tail(path)


def stop_all() -> None:
    while _running:
        _running.pop().stop()


atexit.register(stop_all)
