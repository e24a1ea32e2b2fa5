"""The server's database: brought to the schema's head at startup, checked by /api/ready.

A database at head costs one query at startup. Alembic (about a third of a
second to import) runs only when the revision differs; a new SQLite file is
created from the schema snapshot, as the embedded client does.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from legato.orchestration.store import Store
from legato.storage import sqlite
from legato.storage.engine import describe_url

__all__ = ["ensure_schema", "head_revision", "schema_revision"]

logger = logging.getLogger(__name__)


def head_revision() -> str:
    """The newest schema revision this legato knows (from the checked-in snapshot)."""
    return sqlite.load_snapshot().revision


def schema_revision(store: Store) -> str | None:
    """The revision the database is stamped with; None when it has no version table."""

    def read(connection: sa.Connection) -> str | None:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        value = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        return None if value is None else str(value)

    return store.read(read)


def ensure_schema(url: str) -> None:
    """Create or upgrade the database at ``url`` when its schema is not at head."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        # Creates the file from the snapshot, or upgrades it; at head: one SELECT.
        sqlite.open_database(Path(parsed.database)).close()
        return
    store = Store(url)
    try:
        revision = schema_revision(store)
    finally:
        store.close()
    head = head_revision()
    if revision == head:
        return
    from legato.storage import database  # Alembic: only when there is work to do

    logger.info(
        "Upgrading the legato database %s from revision %s to %s",
        describe_url(url),
        revision,
        head,
    )
    database.upgrade(url)
