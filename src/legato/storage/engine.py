"""SQLAlchemy engines for the store: a SQLite file or a PostgreSQL database.

``store_url(settings)`` says where the store is (``database.url``, else the
embedded SQLite file), and ``create_store_engine(url)`` opens it:

- ``sqlite:///path``: connections come from ``legato.storage.sqlite.connect``
  (WAL, busy timeout, the same pragmas as the recorder's write path). That
  connection is in sqlite3's autocommit mode, so the engine emits ``BEGIN``
  itself when SQLAlchemy starts a transaction (``BEGIN IMMEDIATE`` with
  ``is_writer``: concurrent writers then queue for the lock at the start).
- ``postgresql+psycopg://`` (``postgresql://`` means the same): psycopg 3,
  a checked pool (``pool_pre_ping``), ``application_name=legato`` and a
  connect timeout. A connection that cannot be made raises StorageError
  naming the server, database and user (never the password) and the fix.

Anything else raises ConfigurationError; a missing psycopg names the extra to
install (``pip install 'legato[postgres]'``).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext

from legato.exceptions import ConfigurationError, StorageError
from legato.storage import sqlite

if TYPE_CHECKING:
    from legato.settings import Settings

__all__ = [
    "POSTGRES_CONNECT_ARGS",
    "POSTGRES_POOL_OPTIONS",
    "create_store_engine",
    "describe_url",
    "sqlite_url",
    "store_url",
]

logger = logging.getLogger(__name__)

_EXAMPLES = "'sqlite:////abs/path/legato.db' or 'postgresql+psycopg://user:password@host:5432/db'"
_INSTALL_POSTGRES = "pip install 'legato[postgres]'"

# Pool of a PostgreSQL engine: checked before use (a server restart or an idle
# timeout does not surface as an error), recycled every 30 min, and small: a
# legato process does one write at a time plus a few reads.
POSTGRES_POOL_OPTIONS: dict[str, Any] = {
    "pool_pre_ping": True,
    "pool_size": 5,
    "max_overflow": 10,
    "pool_recycle": 1800,
    "pool_timeout": 30,
}
# Named in pg_stat_activity; an unreachable host fails after 10 s, not libpq's
# default of waiting forever.
POSTGRES_CONNECT_ARGS: dict[str, Any] = {"application_name": "legato", "connect_timeout": 10}


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def store_url(settings: Settings) -> str:
    """Where runs are kept: ``database.url`` if set, else the embedded SQLite file."""
    if settings.database.url:
        return settings.database.url
    return sqlite_url(settings.database_path)


def describe_url(url: str | URL) -> str:
    """``url`` with its password masked, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable URL>"


def create_store_engine(url: str, *, is_writer: bool = False, **kwargs: Any) -> Engine:
    """An engine for the store at ``url``; ``kwargs`` go to ``sqlalchemy.create_engine``.

    With ``is_writer``, every SQLite transaction starts with ``BEGIN
    IMMEDIATE`` (it takes the write lock at once, so concurrent writers queue
    instead of failing); PostgreSQL needs no such thing.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, is_writer, kwargs)
    if backend in ("postgresql", "postgres"):  # postgres://: the spelling of some hosts
        return _postgres_engine(parsed, kwargs)
    raise ConfigurationError(
        f"LEGATO_DATABASE_URL={describe_url(parsed)!r} names the database {backend!r}, "
        f"which legato does not support. Use {_EXAMPLES}, or unset it for the embedded "
        "SQLite file."
    )


def _parse(url: str) -> URL:
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(
            f"LEGATO_DATABASE_URL is not a database URL ({exc}). Set it like {_EXAMPLES}."
        ) from exc


def _sqlite_engine(url: URL, is_writer: bool, kwargs: dict[str, Any]) -> Engine:
    if url.get_driver_name() != "pysqlite":
        raise ConfigurationError(
            f"LEGATO_DATABASE_URL={describe_url(url)!r} uses the driver "
            f"{url.get_driver_name()!r}; legato opens SQLite files with the standard "
            "library. Write it as 'sqlite:////abs/path/legato.db'."
        )
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise StorageError(
            f"{describe_url(url)!r} is not a SQLite file URL; use 'sqlite:///path/to/legato.db'."
        )
    connect = partial(sqlite.connect, Path(url.database))
    engine = sa.create_engine(url, creator=connect, **kwargs)
    begin = _begin_immediate if is_writer else _begin_deferred
    sa.event.listen(engine, "begin", begin)
    return engine


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _postgres_engine(url: URL, kwargs: dict[str, Any]) -> Engine:
    # No driver named means psycopg 3 here (SQLAlchemy alone would pick psycopg2).
    if "+" in url.drivername and url.get_driver_name() != "psycopg":
        raise ConfigurationError(
            f"LEGATO_DATABASE_URL={describe_url(url)!r} uses the driver "
            f"{url.get_driver_name()!r}; legato talks to PostgreSQL through psycopg 3. "
            f"Write it as 'postgresql+psycopg://...' (and {_INSTALL_POSTGRES})."
        )
    url = url.set(drivername="postgresql+psycopg")
    if importlib.util.find_spec("psycopg") is None:
        raise ConfigurationError(
            f"LEGATO_DATABASE_URL={describe_url(url)!r} needs psycopg (PostgreSQL's driver), "
            f"which is not installed. Install it: {_INSTALL_POSTGRES}"
        )
    options = {**POSTGRES_POOL_OPTIONS, **kwargs}
    options["connect_args"] = {**POSTGRES_CONNECT_ARGS, **kwargs.get("connect_args", {})}
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "handle_error", partial(_connection_error, url))
    return engine


def _connection_error(url: URL, context: ExceptionContext) -> BaseException | None:
    """A StorageError instead of psycopg's OperationalError when no connection can be made."""
    import psycopg

    original = context.original_exception
    if context.connection is not None or context.is_pre_ping:
        return None
    if not isinstance(original, psycopg.OperationalError):
        return None
    host = url.host or "the local socket"
    port = url.port or 5432
    return StorageError(
        f"Cannot connect to the PostgreSQL database {url.database!r} at {host}:{port} "
        f"as user {url.username!r} ({describe_url(url)}): {_reason(original)}. "
        "Check that the server is running and reachable from here, and the user, password "
        "and database name in LEGATO_DATABASE_URL; or unset LEGATO_DATABASE_URL to use the "
        "embedded SQLite file."
    )


def _reason(exc: BaseException) -> str:
    """libpq's reason, without the "connection to server at ... failed:" we say already."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return "no reason given"
    reason = lines[0].rsplit("failed: ", 1)[-1].strip().removeprefix("FATAL:")
    return " ".join(reason.split())
