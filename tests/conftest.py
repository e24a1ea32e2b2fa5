"""Fixtures shared by every test: an isolated LEGATO_HOME per test, a PostgreSQL server."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import pg  # tests/pg.py: a throwaway PostgreSQL server and its databases
from legato.engine import recorder
from legato.settings import temporary_settings
from locking.redis_server import redis_server  # noqa: F401  (session fixture: a real redis-server)


def in_ci() -> bool:
    """True on CI, where a missing service fails a test instead of skipping it."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def legato_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh LEGATO_HOME for this test, for this process and its children."""
    home = tmp_path / "legato-home"
    monkeypatch.setenv("LEGATO_HOME", str(home))
    monkeypatch.delenv("LEGATO_PROFILE", raising=False)
    monkeypatch.delenv("LEGATO_API_URL", raising=False)
    with temporary_settings({"LEGATO_HOME": str(home)}):
        yield home
        recorder.close_all()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session (one per xdist worker), started on first use.

    Skips the test when PostgreSQL is not installed, fails it on CI. For a
    fresh database per test, import ``pg_database_url`` or ``db_url`` from
    ``pg`` into a conftest.
    """
    with pg.postgres_for_tests(is_required=in_ci()) as url:
        yield url


@pytest.fixture(autouse=True)
def _caplog_sees_legato(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let ``caplog`` see legato's records after legato's logging was configured.

    Configuring it (any earlier flow run in the same worker) stops the
    ``legato`` logger from propagating to the root, where caplog listens.
    """
    legato_logger = logging.getLogger("legato")
    if "caplog" not in request.fixturenames or legato_logger.propagate:
        yield
        return
    handler = request.getfixturevalue("caplog").handler
    legato_logger.addHandler(handler)
    try:
        yield
    finally:
        legato_logger.removeHandler(handler)
