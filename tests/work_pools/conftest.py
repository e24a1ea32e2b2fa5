"""Fixtures for the work pool tests: a store on both databases, and every client.

- ``db_url`` / ``store``: a migrated SQLite file, then a PostgreSQL database
  (the orchestration service, called as the server and the embedded client
  call it);
- ``client``: ``embedded`` (a SQLite file in tmp_path), ``http`` (a
  ``SyncHttpClient`` on a real ``legato server start`` subprocess on SQLite)
  and ``http-postgresql`` (the same on PostgreSQL). The servers are shared by
  the session: tests name their pools and flows uniquely (``unique``).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pg  # type: ignore[import-not-found]  # tests/pg.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

from client_kinds import KINDS, async_client_factory, sync_client  # type: ignore[import-not-found]
from legato.orchestration.store import Store

db_url = pg.db_url
pg_database_url = pg.pg_database_url

CLIENT_KINDS = KINDS


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    made = Store(db_url)
    yield made
    made.close()


@pytest.fixture(scope="session")
def work_pool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("work-pool-server-home")) as process:
        yield process


@pytest.fixture(scope="session")
def work_pool_pg_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[ServerProcess]:
    env = {"LEGATO_DATABASE_URL": pg.fresh_database(postgres_url, prefix="workpools")}
    with running_server(tmp_path_factory.mktemp("work-pool-pg-server-home"), env) as process:
        yield process


def _server_for(kind: str, request: pytest.FixtureRequest) -> ServerProcess:
    name = "work_pool_pg_server" if kind == "http-postgresql" else "work_pool_server"
    server: ServerProcess = request.getfixturevalue(name)
    return server


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    path = tmp_path / "store" / "legato.db"
    with sync_client(kind, path, lambda: _server_for(kind, request)) as made:
        yield made


@pytest.fixture
def second_client(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Another client of the same kind on the same store (another process's view, say)."""
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
def server(kind: str, request: pytest.FixtureRequest) -> ServerProcess:
    """The server behind an HTTP ``client`` (skips the embedded case)."""
    if kind == "embedded":
        pytest.skip("needs a server")
    return _server_for(kind, request)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test uses (the servers' databases are shared)."""
    token = uuid.uuid4().hex[:10]
    return lambda prefix: f"{prefix}-{token}"
