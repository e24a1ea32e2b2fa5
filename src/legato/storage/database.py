"""SQLAlchemy engines and Alembic commands (the slow, read and admin side).

``create_engine(url)`` gives an engine whose SQLite connections come from
``legato.storage.sqlite.connect`` (same pragmas as the write path). The
migration commands behind ``legato server database ...`` are ``upgrade``,
``downgrade``, ``reset`` and ``current_revision``; the Alembic config is built
in code, so no alembic.ini is needed. Alembic is imported inside those
functions: it costs ~330 ms and reads never need it.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from legato.exceptions import StorageError
from legato.storage import sqlite

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


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def create_engine(url: str, *, is_migration: bool = False) -> Engine:
    """An engine for ``url``; SQLite connections get legato's pragmas.

    With ``is_migration``, every SQLite transaction starts with
    ``BEGIN IMMEDIATE`` so that concurrent upgrades queue for the write lock
    and the second one finds the work done.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url)
    if not parsed.database or parsed.database == ":memory:":
        raise StorageError(f"{url!r} is not a SQLite file URL; use 'sqlite:///path/to/legato.db'.")
    engine = sa.create_engine(url, creator=partial(sqlite.connect, Path(parsed.database)))
    if is_migration:
        sa.event.listen(engine, "begin", _begin_immediate)
    return engine


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


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
            config = alembic_config(url, connection)
            _check_known_revision(config, connection, url)
            logger.info("Running Alembic %s to %s on %s", command_name, revision, engine.url)
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
            f"The database {sa.make_url(url).render_as_string(hide_password=True)!r} is at "
            f"revision {current!r}, which this version of legato does not know: it was "
            "written by a newer legato. Upgrade legato, or point LEGATO_HOME elsewhere."
        ) from exc
