"""Fixtures shared by every test: an isolated LEGATO_HOME per test, a PostgreSQL server."""

from __future__ import annotations

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
