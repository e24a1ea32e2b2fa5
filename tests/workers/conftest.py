"""Worker fixtures: a store (embedded SQLite, or a real server shared by the session), a pool name.

The helpers (``Store``, ``wait_for``, the project's flows) are in ``_worker_support``.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]
from _worker_support import Store, make_store, stop_processes


@pytest.fixture(scope="session")
def worker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("worker-server-home")) as process:
        yield process


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store(request.param, request, tmp_path)
    yield made
    stop_processes(made)


@pytest.fixture
def server_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store("server", request, tmp_path)
    yield made
    stop_processes(made)


@pytest.fixture
def embedded_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store("embedded", request, tmp_path)
    yield made
    stop_processes(made)


@pytest.fixture
def pool_name() -> str:
    return f"pool-{uuid.uuid4().hex[:8]}"
