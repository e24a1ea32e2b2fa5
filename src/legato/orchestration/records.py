"""The recorder's batches: runs upserted, states and logs appended, in one transaction.

The engine is the authority on the runs it executes: its batches are written
as they are, not through the transition table. Writing a batch twice changes
nothing (see docs/storage.md), so a client may retry one after an unclear
failure. The SQL lives in ``legato.storage.batches`` (SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from legato.storage.batches import write_batch
from legato.storage.records import RecordBatch

__all__ = ["record_batch"]


def record_batch(connection: Connection, batch: RecordBatch) -> None:
    """Write ``batch`` on ``connection`` (inside the caller's transaction)."""
    write_batch(connection, batch)
