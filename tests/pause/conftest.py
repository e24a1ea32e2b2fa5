"""Pause fixtures: flows recording into the embedded store or into a real server.

``home`` is parametrized over ``embedded`` (the test's LEGATO_HOME) and
``http`` (a real ``legato server start`` subprocess on SQLite, shared by the
session): flow subprocesses record there, and the test resumes them through
``home.client``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pause_helpers import Home, server_tests_path

import pg  # type: ignore[import-not-found]  # tests/pg.py

sys.path.insert(0, str(server_tests_path()))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

from legato.client.embedded import EmbeddedClient
from legato.client.http import SyncHttpClient


@pytest.fixture(scope="session")
def pause_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("pause-server-home")) as process:
        yield process


@pytest.fixture(scope="session")
def pg_pause_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[ServerProcess]:
    env = {"LEGATO_DATABASE_URL": pg.fresh_database(postgres_url)}
    with running_server(tmp_path_factory.mktemp("pause-pg-server-home"), env) as process:
        yield process


@pytest.fixture(params=["embedded", "http", "http-postgresql"])
def store_client(request: pytest.FixtureRequest, legato_home: Path) -> Iterator[object]:
    """A client on each kind of store (no flow subprocesses: the store contract only)."""
    if request.param == "embedded":
        client: object = EmbeddedClient(legato_home / "legato.db")
    else:
        name = "pause_server" if request.param == "http" else "pg_pause_server"
        server: ServerProcess = request.getfixturevalue(name)
        client = SyncHttpClient(server.api_url)
    with client:  # type: ignore[attr-defined]
        yield client


@pytest.fixture(params=["embedded", "http"])
def home(request: pytest.FixtureRequest, legato_home: Path) -> Iterator[Home]:
    if request.param == "embedded":
        client = EmbeddedClient(legato_home / "legato.db")
        env = {"LEGATO_HOME": str(legato_home)}
    else:
        server: ServerProcess = request.getfixturevalue("pause_server")
        client = SyncHttpClient(server.api_url)
        env = {"LEGATO_HOME": str(legato_home), "LEGATO_API_URL": server.api_url}
    with client:
        yield Home(request.param, env, client)
