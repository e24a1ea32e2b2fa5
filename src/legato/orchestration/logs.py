"""Run logs: write a list of lines, read them back through a ``LogFilter``."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import LogCreate
from legato.client.schemas.filters import LogFilter
from legato.client.schemas.sorting import LogSort
from legato.orchestration import filters
from legato.orchestration._runs import new_id
from legato.storage.queries._common import Row, fetch_all, page
from legato.storage.schema import logs

__all__ = ["create_logs", "filter_logs"]


def create_logs(connection: Connection, lines: Sequence[LogCreate]) -> int:
    """Append log lines (each gets a new id); returns how many were written."""
    if not lines:
        return 0
    rows = [
        {
            "id": new_id(),
            "flow_run_id": line.flow_run_id,
            "task_run_id": line.task_run_id,
            "name": line.name,
            "level": line.level,
            "message": line.message,
            "timestamp": line.timestamp,
        }
        for line in lines
    ]
    connection.execute(sa.insert(logs), rows)
    return len(rows)


def filter_logs(
    connection: Connection,
    *,
    log_filter: LogFilter | None = None,
    sort: LogSort | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Row]:
    """Log lines matching ``log_filter``; oldest first unless ``sort`` says otherwise."""
    statement = (
        sa.select(logs)
        .where(*filters.log_conditions(log_filter))
        .order_by(*filters.log_order(sort))
    )
    return fetch_all(connection, page(statement, limit, offset))
