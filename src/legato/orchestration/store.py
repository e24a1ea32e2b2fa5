"""``Store``: one database (SQLite file or PostgreSQL), read and written in transactions.

Every orchestration function takes an open ``Connection``; ``Store.read`` and
``Store.write`` give it one. On SQLite a write transaction starts with
``BEGIN IMMEDIATE`` (concurrent writers queue for the lock instead of failing
half-way), reads use deferred transactions on a second engine; PostgreSQL
needs one engine for both. Nothing else here depends on the dialect.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from legato.exceptions import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["Store", "write_generation"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


_write_generation = 0


def write_generation() -> int:
    """How many writes this process's stores have committed: a change means "look again".

    Long polls (a worker waiting for scheduled runs) compare it instead of
    querying the database over and over.
    """
    return _write_generation


class Store:
    """The database at ``url``; engines are created on first use and shared by threads."""

    def __init__(self, url: str, *, name: str | None = None) -> None:
        self.url = url
        self._name = name
        self._lock = threading.Lock()
        self._reader: Engine | None = None
        self._writer: Engine | None = None
        self._closed = False

    def __repr__(self) -> str:
        from legato.storage.engine import describe_url

        return f"Store({describe_url(self.url)!r})"

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engines()[0].dialect.name

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` on a connection for reading."""
        reader, _ = self._engines()
        with self._errors("read"), reader.connect() as connection:
            return work(connection)

    def write(self, work: Callable[[Connection], T], *, quiet: bool = False) -> T:
        """Run ``work`` in one write transaction: committed if it returns, rolled back if not.

        A committed write advances ``write_generation()`` unless ``quiet``
        (a worker's poll is a write, but it changes nothing another poll waits for).
        """
        global _write_generation
        _, writer = self._engines()
        with self._errors("write"), writer.begin() as connection:
            result = work(connection)
        if not quiet:
            _write_generation += 1
        return result

    def close(self) -> None:
        """Dispose of the engines; idempotent."""
        with self._lock:
            self._closed = True
            engines = [engine for engine in {self._reader, self._writer} if engine is not None]
            self._reader = self._writer = None
        for engine in engines:
            engine.dispose()

    def _engines(self) -> tuple[Engine, Engine]:
        with self._lock:
            if self._closed:
                raise StorageError(f"{self!r} is closed; create a new client.")
            if self._reader is None or self._writer is None:
                self._reader, self._writer = _create_engines(self.url)
            return self._reader, self._writer

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """A driver error as a StorageError naming the database (the cause is kept)."""
        from sqlalchemy.exc import DBAPIError

        try:
            yield
        except DBAPIError as exc:
            from legato.storage.engine import describe_url

            name = self._name or describe_url(self.url)
            raise StorageError(
                f"Could not {what} the legato database {name!r}: {exc.orig}"
            ) from exc


def _create_engines(url: str) -> tuple[Engine, Engine]:
    from legato.storage.engine import create_store_engine

    reader = create_store_engine(url)
    if reader.dialect.name != "sqlite":
        return reader, reader
    return reader, create_store_engine(url, is_writer=True)
