"""A throwaway ``redis-server`` on a free loopback port, for tests.

    with running_redis_server() as (host, port):
        ...

The server keeps nothing on disk and stops when the block ends. The session
fixture ``redis_server`` wraps it: without ``redis-server`` on PATH (or the
``redis`` package) it skips the test, or fails it on CI. Any test folder can
use the fixture by importing it into its conftest (``tests/`` is on sys.path)::

    from locking.redis_server import redis_server  # noqa: F401
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0


class RedisServerNotFound(RuntimeError):
    """``redis-server`` is not on PATH."""


def find_redis_server() -> str | None:
    """The path of the ``redis-server`` executable, or None."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _wait_until_ready(server: subprocess.Popen[bytes], port: int) -> bool:
    """True once the server answers PING; False if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        if _answers_ping(port):
            return True
        time.sleep(0.02)
    return False


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@contextlib.contextmanager
def running_redis_server(attempts: int = 3) -> Iterator[tuple[str, int]]:
    """Yield ``(host, port)`` of a fresh server; retries on a port taken meanwhile."""
    executable = find_redis_server()
    if executable is None:
        raise RedisServerNotFound("redis-server is not on PATH (apt-get install redis-server)")
    output = b""
    for _ in range(attempts):
        port = _free_port()
        with tempfile.TemporaryFile() as log:
            server = subprocess.Popen(
                [
                    executable,
                    "--port",
                    str(port),
                    "--bind",
                    HOST,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                if _wait_until_ready(server, port):
                    yield HOST, port
                    return
            finally:
                _stop(server)
            log.seek(0)
            output = log.read()
    raise RuntimeError(f"redis-server did not start after {attempts} attempts: {output[-500:]!r}")


def _in_ci(config: pytest.Config) -> bool:
    """``in_ci()`` of tests/conftest.py. Every conftest module is named 'conftest',
    so it is fetched from pytest's registry rather than imported."""
    root_conftest = config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    if root_conftest is None:
        raise RuntimeError("tests/conftest.py is not loaded; run pytest from the project root")
    return bool(root_conftest.in_ci())


def _skip_or_fail(config: pytest.Config, reason: str) -> None:
    if _in_ci(config):
        pytest.fail(f"{reason} (required on CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server(pytestconfig: pytest.Config) -> Iterator[tuple[str, int]]:
    """``(host, port)`` of a redis-server that runs for the whole test session."""
    if find_redis_server() is None:
        _skip_or_fail(
            pytestconfig,
            "redis-server is not on PATH; install it (apt-get install redis-server) "
            "to run the Redis tests",
        )
    if importlib.util.find_spec("redis") is None:
        _skip_or_fail(pytestconfig, "the redis package is missing: pip install -e '.[dev]'")
    with running_redis_server() as address:
        yield address
