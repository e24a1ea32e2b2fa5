"""Fixtures for the artifact tests: the store of this test's LEGATO_HOME (see store_fixtures)."""

from __future__ import annotations

from store_fixtures import (  # noqa: F401  (fixtures)
    Invoke,
    connection,
    database_path,
    embedded_client,
    invoke,
)
