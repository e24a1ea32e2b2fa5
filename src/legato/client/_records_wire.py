"""A recorder batch as ``POST /records/batch`` bodies (standard library only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from legato.storage.records import RecordBatch

__all__ = ["RECORDS_PATH", "ROWS_PER_RECORDS_REQUEST", "record_bodies"]

RECORDS_PATH = "/records/batch"
ROWS_PER_RECORDS_REQUEST = 50_000
"""Rows per ``POST /records/batch`` (the server's most); larger batches are split in order."""
_BATCH_TABLES = ("flows", "flow_runs", "task_runs", "states", "logs")


def record_bodies(batch: RecordBatch) -> Iterator[bytes]:
    """The JSON bodies that carry ``batch``, in order (one unless it is very large)."""
    for chunk in _record_chunks(batch):
        yield json.dumps(chunk, separators=(",", ":")).encode()


def _record_chunks(batch: RecordBatch) -> Iterator[dict[str, list[Any]]]:
    chunk: dict[str, list[Any]] = {}
    size = 0
    for table in _BATCH_TABLES:
        rows = getattr(batch, table)
        start = 0
        while start < len(rows):
            room = ROWS_PER_RECORDS_REQUEST - size
            part = rows[start : start + room]
            chunk.setdefault(table, []).extend(part)
            size += len(part)
            start += len(part)
            if size >= ROWS_PER_RECORDS_REQUEST:
                yield chunk
                chunk, size = {}, 0
    if size:
        yield chunk
