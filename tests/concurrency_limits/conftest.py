"""Fixtures for the concurrency-limit service tests: a real store, SQLite then PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pg  # type: ignore[import-not-found]  # tests/pg.py
from legato.orchestration.store import Store

pg_database_url = pg.pg_database_url
db_url = pg.db_url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The store at ``db_url`` (a migrated SQLite file, then a PostgreSQL database)."""
    opened = Store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def write(store: Store) -> Callable[[Callable[[Any], Any]], Any]:
    """Run one function in one write transaction, as the clients and routes do."""
    return store.write
