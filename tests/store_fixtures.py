"""Fixtures on the store of a test's LEGATO_HOME, three ways (artifact and variable tests).

- ``connection``: a SQLAlchemy connection for the service functions
  (``legato.orchestration.*``), in autocommit mode;
- ``embedded_client``: the client the public API uses (a contract suite may
  parametrize it over the HTTP client later);
- ``invoke``: ``legato ARGS...`` in-process, as a new process would run it.

A folder's conftest imports the fixtures it wants from here.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Connection
from typer.testing import CliRunner, Result

from legato.cli.app import app
from legato.client.embedded import EmbeddedClient
from legato.settings import clear_settings_cache
from legato.storage import database, sqlite

Invoke = Callable[..., Result]


@pytest.fixture
def database_path(legato_home: Path) -> Path:
    return legato_home / "legato.db"


@pytest.fixture
def embedded_client(database_path: Path) -> Iterator[EmbeddedClient]:
    with EmbeddedClient(database_path) as client:
        yield client


@pytest.fixture
def connection(database_path: Path) -> Iterator[Connection]:
    sqlite.open_database(database_path).close()
    engine = database.create_engine(database.sqlite_url(database_path))
    try:
        with engine.connect() as open_connection:
            yield open_connection
    finally:
        engine.dispose()


@pytest.fixture
def invoke(legato_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """Run the CLI with settings loaded afresh from the environment (LEGATO_HOME=legato_home)."""
    for name in list(os.environ):
        if name.startswith("LEGATO_") and name != "LEGATO_HOME":
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str, **kwargs: Any) -> Result:
        clear_settings_cache()
        return contextvars.Context().run(runner.invoke, app, list(args), **kwargs)

    yield run
    clear_settings_cache()
