"""The embedded client: runs recorded straight into a local SQLite file.

Writes (``record``, ``delete_flow_run``) go through one stdlib ``sqlite3``
connection guarded by a lock, so the recorder thread and the flow's thread can
share the client. Reads go through a SQLAlchemy engine created on the first
read: SQLAlchemy is imported then, never on the path of a flow run.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from legato.client.base import Row
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, StorageError
from legato.storage import writes
from legato.storage.records import RecordBatch
from legato.storage.sqlite import open_database

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["EmbeddedClient"]

T = TypeVar("T")


class EmbeddedClient:
    """A ``Client`` over the SQLite file at ``database_path``.

    Opening creates the file (and its directory) if needed and brings the
    schema to head; it raises ConfigurationError or StorageError with the path
    and the fix when that is impossible.
    """

    def __init__(self, database_path: Path) -> None:
        self.database_path = Path(database_path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = open_database(self.database_path)
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        return f"EmbeddedClient({str(self.database_path)!r})"

    def __enter__(self) -> EmbeddedClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes -------------------------------------------------------------

    def record(self, batch: RecordBatch) -> None:
        """Write one batch of runs, states and logs in a single transaction."""
        if batch:
            self._write(lambda connection: writes.write_batch(connection, batch))

    def delete_flow_run(self, flow_run_id: str) -> None:
        """Delete a flow run with its task runs, states and logs; raises ObjectNotFound."""
        if not self._write(lambda connection: writes.delete_flow_run(connection, flow_run_id)):
            raise _not_found("flow run", flow_run_id)

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._connection is None:
                raise StorageError(f"{self!r} is closed; create a new client.")
            try:
                return work(self._connection)
            except sqlite3.Error as exc:
                raise StorageError(
                    f"Could not write to the legato database {str(self.database_path)!r}: {exc}"
                ) from exc

    # -- reads --------------------------------------------------------------

    def read_flows(
        self, *, name: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Row]:
        """Flows, newest first; ``name`` filters by substring."""
        from legato.storage import queries

        return self._read(lambda c: queries.read_flows(c, name=name, limit=limit, offset=offset))

    def read_flow_runs(
        self,
        *,
        flow_name: str | None = None,
        state_types: Sequence[str] | None = None,
        state_names: Sequence[str] | None = None,
        parent_flow_run_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        """Flow runs, newest first, each with a ``flow_name`` key."""
        from legato.storage import queries

        return self._read(
            lambda c: queries.read_flow_runs(
                c,
                flow_name=flow_name,
                state_types=state_types,
                state_names=state_names,
                parent_flow_run_id=parent_flow_run_id,
                limit=limit,
                offset=offset,
            )
        )

    def read_flow_run(self, flow_run_id: str) -> Row:
        """One flow run (with ``flow_name``); raises ObjectNotFound."""
        from legato.storage import queries

        row = self._read(lambda c: queries.read_flow_run(c, flow_run_id))
        if row is None:
            raise _not_found("flow run", flow_run_id)
        return row

    def count_flow_runs(
        self, *, flow_name: str | None = None, state_types: Sequence[str] | None = None
    ) -> int:
        """How many flow runs match."""
        from legato.storage import queries

        return self._read(
            lambda c: queries.count_flow_runs(c, flow_name=flow_name, state_types=state_types)
        )

    def read_task_runs(
        self,
        *,
        flow_run_id: str | None = None,
        name: str | None = None,
        state_types: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Row]:
        """Task runs, newest first; ``name`` filters by substring."""
        from legato.storage import queries

        return self._read(
            lambda c: queries.read_task_runs(
                c,
                flow_run_id=flow_run_id,
                name=name,
                state_types=state_types,
                limit=limit,
                offset=offset,
            )
        )

    def read_task_run(self, task_run_id: str) -> Row:
        """One task run; raises ObjectNotFound."""
        from legato.storage import queries

        row = self._read(lambda c: queries.read_task_run(c, task_run_id))
        if row is None:
            raise _not_found("task run", task_run_id)
        return row

    def read_states(
        self, *, flow_run_id: str | None = None, task_run_id: str | None = None
    ) -> list[Row]:
        """The state history of one run, oldest first."""
        from legato.storage import queries

        return self._read(
            lambda c: queries.read_states(c, flow_run_id=flow_run_id, task_run_id=task_run_id)
        )

    def read_logs(
        self,
        *,
        flow_run_id: str | None = None,
        task_run_id: str | None = None,
        after: float | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        """Log rows, oldest first; ``after`` (POSIX seconds) for following."""
        from legato.storage import queries

        return self._read(
            lambda c: queries.read_logs(
                c, flow_run_id=flow_run_id, task_run_id=task_run_id, after=after, limit=limit
            )
        )

    # -- saved blocks ---------------------------------------------------------

    def save_block_document(
        self, block_type_slug: str, name: str, data: dict[str, Any], overwrite: bool = False
    ) -> None:
        """Save ``data`` as ``block_type_slug/name``; ObjectAlreadyExists unless ``overwrite``."""
        from legato.storage.queries import blocks

        saved = self._read(
            lambda c: blocks.save_block_document(c, block_type_slug, name, data, overwrite=overwrite),
            write=True,
        )
        if not saved:
            raise ObjectAlreadyExists(
                f"A {block_type_slug!r} block named {name!r} exists already. "
                "Pass overwrite=True to replace it, or choose another name."
            )

    def read_block_document(self, block_type_slug: str, name: str) -> dict[str, Any]:
        """The data saved as ``block_type_slug/name``; raises ObjectNotFound."""
        from legato.storage.queries import blocks

        row = self._read(lambda c: blocks.read_block_document(c, block_type_slug, name))
        if row is None:
            raise ObjectNotFound(
                f"No {block_type_slug!r} block named {name!r} in this database. "
                "Save one first (e.g. LocalFileSystem(basepath=...).save(name)), or check LEGATO_HOME."
            )
        data: dict[str, Any] = row["data"]
        return data

    def read_block_documents(self, block_type_slug: str | None = None) -> list[Row]:
        """Saved blocks (rows with block_type_slug, name, data), by type and name."""
        from legato.storage.queries import blocks

        return self._read(
            lambda c: blocks.read_block_documents(c, block_type_slug=block_type_slug, limit=10_000)
        )

    def delete_block_document(self, block_type_slug: str, name: str) -> None:
        """Delete a saved block; raises ObjectNotFound."""
        from legato.storage.queries import blocks

        if not self._read(
            lambda c: blocks.delete_block_document(c, block_type_slug, name), write=True
        ):
            raise ObjectNotFound(f"No {block_type_slug!r} block named {name!r} to delete.")

    def _read(self, query: Callable[[Connection], T], write: bool = False) -> T:
        from sqlalchemy.exc import DBAPIError

        engine = self._read_engine()
        try:
            if write:
                with engine.begin() as connection:
                    return query(connection)
            with engine.connect() as connection:
                return query(connection)
        except DBAPIError as exc:
            raise StorageError(
                f"Could not read the legato database {str(self.database_path)!r}: {exc.orig}"
            ) from exc

    def _read_engine(self) -> Engine:
        with self._lock:
            if self._connection is None:
                raise StorageError(f"{self!r} is closed; create a new client.")
            if self._engine is None:
                from legato.storage import database  # SQLAlchemy: read side only

                self._engine = database.create_engine(database.sqlite_url(self.database_path))
            return self._engine

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        """Release the connection and the read engine; idempotent."""
        with self._lock:
            connection, self._connection = self._connection, None
            engine, self._engine = self._engine, None
        if connection is not None:
            connection.close()
        if engine is not None:
            engine.dispose()


def _not_found(kind: str, object_id: str) -> ObjectNotFound:
    return ObjectNotFound(
        f"No {kind} with id {object_id!r} in this database. Check the id, or LEGATO_HOME."
    )
