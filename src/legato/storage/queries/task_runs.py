"""Reads of task runs."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.queries._common import Row, contains, equals, fetch_all, fetch_one, is_in, page
from legato.storage.schema import task_runs


def read_task_runs(
    connection: Connection,
    *,
    flow_run_id: str | None = None,
    name: str | None = None,
    state_types: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Task runs, newest first; ``name`` filters by substring, ignoring case."""
    statement = (
        sa.select(task_runs)
        .where(
            *equals(task_runs.c.flow_run_id, flow_run_id),
            *contains(task_runs.c.name, name),
            *is_in(task_runs.c.state_type, state_types),
        )
        .order_by(task_runs.c.created.desc(), task_runs.c.id.desc())
    )
    return fetch_all(connection, page(statement, limit, offset))


def read_task_run(connection: Connection, task_run_id: str) -> Row | None:
    """One task run, None if there is no such id."""
    return fetch_one(connection, sa.select(task_runs).where(task_runs.c.id == task_run_id))
