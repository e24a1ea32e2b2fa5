"""Client fixtures: the same tests on the embedded client and on the HTTP client.

``client`` is parametrized over ``embedded`` (a SQLite file in tmp_path),
``http`` (a ``SyncHttpClient`` on a real ``legato server start`` subprocess
on SQLite) and ``http-postgresql`` (the same on a PostgreSQL database). The
servers are shared by the session: tests name their flows uniquely rather
than expecting an empty database.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import pg  # type: ignore[import-not-found]  # tests/pg.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

from client_kinds import KINDS, async_client_factory, sync_client  # type: ignore[import-not-found]


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("client-server-home")) as process:
        yield process


@pytest.fixture(scope="session")
def postgres_http_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[ServerProcess]:
    env = {"LEGATO_DATABASE_URL": pg.fresh_database(postgres_url)}
    with running_server(tmp_path_factory.mktemp("client-pg-server-home"), env) as process:
        yield process


def _server_for(kind: str, request: pytest.FixtureRequest) -> ServerProcess:
    name = "postgres_http_server" if kind == "http-postgresql" else "http_server"
    server: ServerProcess = request.getfixturevalue(name)
    return server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    path = tmp_path / "store" / "legato.db"
    with sync_client(kind, path, lambda: _server_for(kind, request)) as made:
        yield made


@pytest.fixture
def make_async_client(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[], Any]:
    """Makes the async twin of ``client`` (inside the test's event loop)."""
    path = tmp_path / "store" / "legato.db"
    return async_client_factory(kind, path, lambda: _server_for(kind, request))


@pytest.fixture
def flow_name() -> str:
    """A flow name no other test uses (the HTTP server's database is shared)."""
    return f"flow-{uuid.uuid4().hex[:12]}"


# -- a scripted HTTP stub, for failures a real server cannot be made to give on cue ----


class Stub:
    """Answers each request with the next scripted (status, headers, body); counts them."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], object]] = []
        self.requests: list[tuple[str, str, float]] = []
        self.headers: list[dict[str, str]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stub.requests.append((self.command, self.path, time.monotonic()))
                stub.headers.append(dict(self.headers.items()))
                status, headers, body = stub.script.pop(0) if stub.script else (200, {}, True)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    script = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), script.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script, f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
