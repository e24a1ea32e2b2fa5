"""Cancellation fixtures: the same ``home`` as tests/pause (embedded store, or a real server)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pause"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _pause_helpers import Home  # type: ignore[import-not-found]
from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

from legato.client.embedded import EmbeddedClient
from legato.client.http import SyncHttpClient


@pytest.fixture(scope="session")
def cancel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("cancel-server-home")) as process:
        yield process


@pytest.fixture(params=["embedded", "http"])
def home(request: pytest.FixtureRequest, legato_home: Path) -> Iterator[Home]:
    if request.param == "embedded":
        client = EmbeddedClient(legato_home / "legato.db")
        env = {"LEGATO_HOME": str(legato_home)}
    else:
        server: ServerProcess = request.getfixturevalue("cancel_server")
        client = SyncHttpClient(server.api_url)
        env = {"LEGATO_HOME": str(legato_home), "LEGATO_API_URL": server.api_url}
    with client:
        yield Home(request.param, env, client)
