"""SQLite connections for the embedded store: open, bootstrap, migrate, write.

Stdlib ``sqlite3`` only, so that the first flow run of a process (which may
create the database) stays far below 100 ms. Every legato connection to a
SQLite file is made by ``connect``:

- ``journal_mode=WAL``: readers never block the writer and vice versa;
- ``synchronous=NORMAL``: a commit survives a crash of the process (not
  necessarily a power cut), without an fsync per batch;
- a 60 s busy timeout, and ``BEGIN IMMEDIATE`` for every write, so that
  concurrent writers (threads or processes) queue for the lock instead of
  failing; ``run_write`` also retries a bounded number of times on "busy".

``open_database`` then makes sure the schema is at the Alembic head: a new
file is created from the checked-in snapshot ``sqlite_schema.sql`` and
stamped; a file at head costs one ``SELECT``; an older file is upgraded with
Alembic (imported only then).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import chain
from pathlib import Path
from typing import TypeVar

from legato.exceptions import ConfigurationError, StorageError

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "SNAPSHOT_PATH",
    "SchemaSnapshot",
    "canonical_order",
    "connect",
    "ensure_schema",
    "is_busy",
    "load_snapshot",
    "normalize_ddl",
    "open_database",
    "open_error",
    "parse_snapshot",
    "prepare_home",
    "read_revision",
    "render_snapshot",
    "run_write",
    "write_transaction",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 60.0
WRITE_ATTEMPTS = 5
SNAPSHOT_PATH = Path(__file__).with_name("sqlite_schema.sql")
_REVISION_PREFIX = "-- alembic_revision: "
_STATEMENT_END = ";\n\n"
_TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
_FIX_HOME = "set LEGATO_HOME to a writable directory"


def _null(value: None) -> None:
    return None


# sqlite3 binds str, int and float directly, but looks every other value up in
# its adapter registry, and for None (no adapter) then probes the __adapt__ and
# __conform__ protocols, raising and clearing an AttributeError each time:
# ~0.3 µs a None on CPython 3.11, ~9 per task run recorded. With an adapter
# registered, a None costs one registry lookup and binds NULL exactly as before;
# so this changes nothing but speed, for every sqlite3 user in the process.
sqlite3.register_adapter(type(None), _null)


@dataclass(frozen=True, slots=True)
class SchemaSnapshot:
    """The DDL of the Alembic head, as SQLite stores it, and that head's revision."""

    revision: str
    statements: tuple[str, ...]


def prepare_home(home: Path) -> None:
    """Create ``home`` if needed; raise ConfigurationError if it cannot hold a database."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ConfigurationError(
            f"LEGATO_HOME {str(home)!r} is not a directory ({exc.strerror}: {exc.filename!r}). "
            f"Move that file away, or {_FIX_HOME}."
        ) from exc
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot create LEGATO_HOME {str(home)!r}: {exc.strerror}. Create it yourself, or {_FIX_HOME}."
        ) from exc
    if not os.access(home, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"LEGATO_HOME {str(home)!r} is not writable. Fix its permissions, or {_FIX_HOME}."
        )


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` (created if missing) with legato's settings; no schema work.

    The connection is in autocommit mode (``isolation_level=None``): writes go
    through ``write_transaction``. It may be used from any thread; callers that
    share it between threads must serialize its use.
    """
    prepare_home(path.parent)
    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise open_error(path, exc) from exc
    try:
        _configure(connection)
    except sqlite3.Error as exc:
        connection.close()
        raise open_error(path, exc) from exc
    return connection


def _configure(connection: sqlite3.Connection) -> None:
    # WAL is a property of the file, set once: asking first avoids the switch,
    # which can fail at once with "database is locked" (no busy wait) while
    # another connection writes.
    mode = _switch_to_wal(connection)
    if mode != "wal":
        logger.warning(
            "SQLite refused WAL mode (journal_mode=%s); concurrent writers will wait longer", mode
        )
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")


def _switch_to_wal(connection: sqlite3.Connection) -> str:
    """The file's journal mode, switched to WAL if it is not yet.

    The switch fails at once (SQLite's busy handler is not used for it) while
    another connection writes; that happens when several processes open a new
    file together, and the other one usually switches it first. So: look again
    and retry with back-off, for up to the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.005
    while True:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        if mode == "wal":
            return str(mode)
        try:
            (mode,) = connection.execute("PRAGMA journal_mode=WAL").fetchone()
            return str(mode)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def open_database(path: Path) -> sqlite3.Connection:
    """``connect`` to ``path`` and bring its schema to the Alembic head."""
    connection = connect(path)
    try:
        ensure_schema(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def ensure_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Bootstrap an empty database, or upgrade an old one; at head, one SELECT."""
    head = load_snapshot().revision
    try:
        revision = read_revision(connection)
        if revision == head:
            return
        if revision is None:
            revision = run_write(connection, _bootstrap)
    except sqlite3.Error as exc:
        raise open_error(path, exc) from exc
    if revision != head:
        _upgrade(path, revision)


def read_revision(connection: sqlite3.Connection) -> str | None:
    """The Alembic revision stamped in the database, None if it has none."""
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


def _bootstrap(connection: sqlite3.Connection) -> str | None:
    """Create the head schema from the snapshot (inside a write transaction).

    Returns the revision now stamped; None for a database that Alembic
    downgraded to base (left to Alembic, which knows its version table).
    """
    revision = read_revision(connection)  # another process may have been first
    if revision is not None:
        return revision
    tables = {name for (name,) in connection.execute(_TABLE_NAMES)}
    if tables == {"alembic_version"}:
        return None
    if tables:
        raise sqlite3.DatabaseError("file is a SQLite database without legato's tables")
    snapshot = load_snapshot()
    for statement in snapshot.statements:
        connection.execute(statement)
    connection.execute(
        "INSERT INTO alembic_version (version_num) VALUES (:revision)",
        {"revision": snapshot.revision},
    )
    logger.debug("Created a new legato database at revision %s", snapshot.revision)
    return snapshot.revision


def _upgrade(path: Path, revision: str | None) -> None:
    """The slow path: let Alembic take the file from ``revision`` to head."""
    from legato.storage import database  # SQLAlchemy + Alembic: only when needed

    logger.info("Upgrading the legato database %s from revision %s", path, revision)
    try:
        database.upgrade(database.sqlite_url(path))
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(
            f"Could not upgrade the legato database {str(path)!r} from revision {revision}: "
            f"{exc}. Keep a copy of the file, then move it aside to start afresh, "
            f"or {_FIX_HOME}."
        ) from exc


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back if anything fails."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.rollback()
        raise


def run_write(
    connection: sqlite3.Connection,
    work: Callable[[sqlite3.Connection], T],
    attempts: int = WRITE_ATTEMPTS,
) -> T:
    """Run ``work`` in a write transaction, retrying when the database stays busy.

    The busy timeout already waits for other writers; the retry covers the
    few cases where SQLite reports "busy" or "locked" without waiting.
    """
    for attempt in range(1, attempts + 1):
        try:
            with write_transaction(connection):
                return work(connection)
        except sqlite3.OperationalError as exc:
            if attempt == attempts or not is_busy(exc):
                raise
            logger.debug("SQLite busy (%s); retry %d of %d", exc, attempt, attempts - 1)
            time.sleep(min(0.01 * 2**attempt, 0.5))
    raise AssertionError("unreachable")  # pragma: no cover


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` means another connection holds the lock."""
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def open_error(path: Path, exc: sqlite3.Error) -> StorageError:
    """A StorageError naming ``path`` and the fix, for a file SQLite cannot use."""
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and not is_busy(exc):
        return StorageError(
            f"Cannot open the legato database {str(path)!r}: {message}. "
            f"Check that the file and its directory are readable and writable, or {_FIX_HOME}."
        )
    if isinstance(exc, sqlite3.OperationalError):
        return StorageError(f"The legato database {str(path)!r} stayed locked: {message}.")
    return StorageError(
        f"{str(path)!r} is not a usable legato database: {message}. "
        "Move it aside (or delete it, losing the runs it recorded) and legato will "
        f"create a new one, or {_FIX_HOME}."
    )


@cache
def load_snapshot() -> SchemaSnapshot:
    """The checked-in schema snapshot (read once per process)."""
    return parse_snapshot(SNAPSHOT_PATH.read_text(encoding="utf-8"))


def parse_snapshot(text: str) -> SchemaSnapshot:
    """Split ``sqlite_schema.sql`` into its revision and statements."""
    header, _, body = text.partition("\n\n")
    revisions = [
        line[len(_REVISION_PREFIX) :]
        for line in header.splitlines()
        if line.startswith(_REVISION_PREFIX)
    ]
    if len(revisions) != 1:
        raise StorageError(f"{SNAPSHOT_PATH} has no '{_REVISION_PREFIX}' line; regenerate it.")
    statements = tuple(s for s in (body.rstrip("\n") + "\n\n").split(_STATEMENT_END) if s.strip())
    return SchemaSnapshot(revision=revisions[0].strip(), statements=statements)


def render_snapshot(revision: str, statements: list[str]) -> str:
    """The text of ``sqlite_schema.sql`` for ``revision`` (see scripts/render_sqlite_schema.py)."""
    header = (
        "-- The legato SQLite schema at the Alembic head, as SQLite stores it.\n"
        "-- Generated by scripts/render_sqlite_schema.py: do not edit by hand.\n"
        f"{_REVISION_PREFIX}{revision}\n\n"
    )
    normalized = canonical_order([normalize_ddl(statement) for statement in statements])
    return header + "".join(statement + _STATEMENT_END for statement in normalized)


_INDEX = re.compile(r'CREATE (?:UNIQUE )?INDEX "?(\w+)"? ON "?(\w+)"?')


def canonical_order(statements: list[str]) -> list[str]:
    """Tables in creation order, each followed by its indexes in name order.

    Alembic's batch mode (a migration that rebuilds a SQLite table) creates
    the table's indexes again in no fixed order (it keeps them in a set), so
    ``sqlite_master`` order alone would change from one run to the next.
    """
    indexes: dict[str, list[tuple[str, str]]] = {}
    others: list[str] = []
    for statement in statements:
        match = _INDEX.match(statement)
        if match is None:
            others.append(statement)
        else:
            indexes.setdefault(match[2], []).append((match[1], statement))
    ordered: list[str] = []
    for statement in others:
        ordered.append(statement)
        table = re.match(r'CREATE TABLE "?(\w+)"?', statement)
        if table is not None:
            ordered += [ddl for _, ddl in sorted(indexes.pop(table[1], []))]
    return ordered + [ddl for _, ddl in sorted(chain.from_iterable(indexes.values()))]


def normalize_ddl(statement: str) -> str:
    """DDL without trailing spaces on its lines (SQLAlchemy leaves some).

    A table that a migration rebuilt is stored as ``CREATE TABLE "name"``:
    the quotes go, so it reads like the table of a new database.
    """
    lines = [line.rstrip() for line in statement.strip().splitlines()]
    if lines and lines[0].startswith('CREATE TABLE "'):
        lines[0] = lines[0].replace('"', "", 2)
    return "\n".join(lines)
