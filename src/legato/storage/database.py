"""Alembic commands (the slow, admin side), on SQLite and PostgreSQL alike.

The migration commands behind ``legato server database ...`` are ``upgrade``,
``downgrade``, ``reset``, ``current_revision`` and ``head_revision``; the
Alembic config is built in code, so no alembic.ini is needed. Alembic is
imported inside those functions: it costs ~330 ms and reads never need it.

A migration runs in one transaction that first takes a lock, so that two
processes upgrading one database at once queue and the second finds the work
done: ``BEGIN IMMEDIATE`` on SQLite, a transaction-level advisory lock on
PostgreSQL. ``create_engine`` is ``legato.storage.engine.create_store_engine``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection, Engine

from legato.exceptions import StorageError
from legato.storage.engine import create_store_engine, describe_url, sqlite_url

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_PATH",
    "alembic_config",
    "create_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "reset",
    "sqlite_url",
    "upgrade",
]

logger = logging.getLogger(__name__)

MIGRATIONS_PATH = Path(__file__).with_name("migrations")


# Any constant will do: the key of the advisory lock that migrations take.
_MIGRATION_LOCK_KEY = 0x6C6567_61746F  # "legato"


def create_engine(url: str, *, is_migration: bool = False) -> Engine:
    """An engine for ``url``; with ``is_migration``, SQLite transactions take the write lock."""
    return create_store_engine(url, is_writer=is_migration)


def _lock_for_migration(connection: Connection) -> None:
    """Make concurrent migrations of one database queue (SQLite: BEGIN IMMEDIATE did)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """The Alembic config for legato's migrations, built in code."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in legato's migrations."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:  # pragma: no cover - the migrations ship with the package
        raise StorageError(f"No migrations found in {MIGRATIONS_PATH}.")
    return head


def current_revision(url: str) -> str | None:
    """The revision a database is stamped with; None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` in one transaction."""
    _run("upgrade", url, revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"``: empty)."""
    _run("downgrade", url, revision)


def reset(url: str) -> None:
    """Drop every legato table and recreate them at head: all data is lost."""
    downgrade(url, "base")
    upgrade(url)


def _run(command_name: str, url: str, revision: str) -> None:
    from alembic import command

    engine = create_engine(url, is_migration=True)
    try:
        with engine.begin() as connection:
            _lock_for_migration(connection)
            config = alembic_config(url, connection)
            _check_known_revision(config, connection, url)
            logger.info("Running Alembic %s to %s on %s", command_name, revision, describe_url(url))
            getattr(command, command_name)(config, revision)
    finally:
        engine.dispose()


def _check_known_revision(config: Config, connection: Connection, url: str) -> None:
    """Refuse a database stamped by a newer legato (a revision we do not have)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return
    try:
        ScriptDirectory.from_config(config).get_revision(current)
    except CommandError as exc:
        raise StorageError(
            f"The database {describe_url(url)!r} is at revision {current!r}, which this "
            "version of legato does not know: it was written by a newer legato. Upgrade "
            "legato, or point LEGATO_HOME (or LEGATO_DATABASE_URL) elsewhere."
        ) from exc
