"""Reads of what happened to runs: state history and logs, oldest first."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.queries._common import Row, equals, fetch_all, page
from legato.storage.schema import logs, states


def read_states(
    connection: Connection, *, flow_run_id: str | None = None, task_run_id: str | None = None
) -> list[Row]:
    """The state history of a run, oldest first; give at least one of the ids."""
    if flow_run_id is None and task_run_id is None:
        raise ValueError("read_states needs a flow_run_id or a task_run_id")
    statement = (
        sa.select(states)
        .where(
            *equals(states.c.flow_run_id, flow_run_id), *equals(states.c.task_run_id, task_run_id)
        )
        .order_by(states.c.timestamp, states.c.id)
    )
    return fetch_all(connection, statement)


def read_logs(
    connection: Connection,
    *,
    flow_run_id: str | None = None,
    task_run_id: str | None = None,
    after: float | datetime | None = None,
    limit: int = 1000,
) -> list[Row]:
    """Logs, oldest first; ``after`` (POSIX seconds or a datetime, exclusive) for following.

    Exclusive to the microsecond, as reads show times: passing a row's own
    ``timestamp`` never returns that row again.
    """
    filters = [*equals(logs.c.flow_run_id, flow_run_id), *equals(logs.c.task_run_id, task_run_id)]
    if after is not None:
        filters.append(logs.c.timestamp > after)
    statement = sa.select(logs).where(*filters).order_by(logs.c.timestamp, logs.c.id)
    return fetch_all(connection, page(statement, limit, 0))
