"""Server fixtures: real ``legato server start`` subprocesses, one per session.

``server`` is parametrized over the two stores: the SQLite file of its
LEGATO_HOME, and a PostgreSQL database (an empty one: the server migrates it
at startup), so every route test runs on both.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from _server_process import AUTH_STRING, ServerProcess, running_server

import pg  # type: ignore[import-not-found]  # tests/pg.py


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {}
    if request.param == "postgresql":
        env["LEGATO_DATABASE_URL"] = pg.empty_database(request.getfixturevalue("postgres_url"))
    with running_server(tmp_path_factory.mktemp("server-home"), env) as process:
        yield process


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("auth-server-home")
    with running_server(home, {"LEGATO_SERVER_API_AUTH_STRING": AUTH_STRING}) as process:
        yield process


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    """An httpx client on the server's API (paths relative to /api)."""
    with httpx.Client(base_url=server.api_url + "/", timeout=30) as client:
        yield client
