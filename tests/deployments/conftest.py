"""Fixtures for the deployment tests: a store on SQLite and on PostgreSQL, flows, deployments.

``store`` is a ``Store`` on a migrated database (``db_url``: a SQLite file,
then a fresh PostgreSQL database); ``deploy`` creates a deployment through
the orchestration functions (the code both clients and the server call).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pg
from legato.client.schemas.actions import DeploymentCreate, DeploymentScheduleCreate, WorkPoolCreate
from legato.orchestration import deployments, flows, work_pools
from legato.orchestration.store import Store

pg_database_url = pg.pg_database_url
db_url = pg.db_url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    made = Store(db_url)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def flow_id(store: Store) -> str:
    row, _ = store.write(lambda c: flows.get_or_create_flow(c, "etl"))
    return str(row["id"])


def as_schedule_creates(schedules: Any) -> list[DeploymentScheduleCreate] | None:
    if schedules is None:
        return None
    made = []
    for item in schedules:
        if isinstance(item, dict):
            item = DeploymentScheduleCreate(**item)
        elif not isinstance(item, DeploymentScheduleCreate):
            item = DeploymentScheduleCreate.from_schedule(item)
        made.append(item)
    return made


Deploy = Callable[..., dict[str, Any]]


@pytest.fixture
def deploy(store: Store, flow_id: str) -> Deploy:
    """``deploy(name, **fields)``: create (or replace) a deployment of the flow 'etl'."""

    def make(name: str = "nightly", **fields: Any) -> dict[str, Any]:
        if "schedules" in fields:
            fields["schedules"] = as_schedule_creates(fields["schedules"])
        body = DeploymentCreate(name=name, flow_id=fields.pop("flow_id", flow_id), **fields)
        row, _ = store.write(lambda c: deployments.create_deployment(c, body))
        return row

    return make


@pytest.fixture
def make_pool(store: Store) -> Callable[[str], dict[str, Any]]:
    def make(name: str) -> dict[str, Any]:
        return store.write(lambda c: work_pools.create_work_pool(c, WorkPoolCreate(name=name)))

    return make


# -- real servers and the four clients ------------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]  # noqa: E402

from client_kinds import KINDS, async_client_factory, sync_client  # type: ignore[import-not-found]  # noqa: E402

# The servers' services run often, with a short grace: the scheduler and late-runs
# tests wait (bounded) for what they do.
SERVICES_ENV = {
    "LEGATO_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "0.5",
    "LEGATO_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS": "0.5",
    "LEGATO_SERVER_SERVICES_LATE_RUNS_GRACE_SECONDS": "1",
}


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("deployments-server"), SERVICES_ENV) as process:
        yield process


@pytest.fixture(scope="session")
def postgres_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[ServerProcess]:
    env = {**SERVICES_ENV, "LEGATO_DATABASE_URL": pg.fresh_database(postgres_url)}
    with running_server(tmp_path_factory.mktemp("deployments-pg-server"), env) as process:
        yield process


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """A real ``legato server start`` on each database (shared by the session)."""
    name = "postgres_server" if request.param == "postgresql" else "sqlite_server"
    found: ServerProcess = request.getfixturevalue(name)
    return found


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    """An httpx client on the server's API (paths relative to /api)."""
    with httpx.Client(base_url=server.api_url + "/", timeout=30) as client:
        yield client


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _server_for(kind: str, request: pytest.FixtureRequest) -> ServerProcess:
    name = "postgres_server" if kind == "http-postgresql" else "sqlite_server"
    found: ServerProcess = request.getfixturevalue(name)
    return found


@pytest.fixture
def client(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The embedded client (a SQLite file) and the HTTP client (on SQLite and on PostgreSQL)."""
    path = tmp_path / "client" / "legato.db"
    with sync_client(kind, path, lambda: _server_for(kind, request)) as made:
        yield made


@pytest.fixture
def make_async_client(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[], Any]:
    """Makes the async twin of ``client`` (inside the test's event loop)."""
    path = tmp_path / "client" / "legato.db"
    return async_client_factory(kind, path, lambda: _server_for(kind, request))


@pytest.fixture
def flow_name() -> str:
    """A flow name no other test uses (the servers' databases are shared)."""
    return f"flow-{uuid.uuid4().hex[:12]}"
