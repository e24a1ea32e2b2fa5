"""Deleting runs with what belongs to them (the store has no foreign keys to cascade)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.schema import (
    flow_run_inputs,
    flow_runs,
    logs,
    state_details,
    states,
    task_runs,
)


def delete_flow_runs(connection: Connection, run_ids: sa.Select[Any]) -> int:
    """Delete the flow runs ``run_ids`` selects, their task runs, states, logs and inputs.

    Subflow runs are left in place. Returns how many flow runs were deleted.
    """
    id_list = list(connection.execute(run_ids).scalars())
    if not id_list:
        return 0
    task_ids = sa.select(task_runs.c.id).where(task_runs.c.flow_run_id.in_(id_list))
    for table in (logs, states):
        connection.execute(
            sa.delete(table).where(
                sa.or_(table.c.flow_run_id.in_(id_list), table.c.task_run_id.in_(task_ids))
            )
        )
    connection.execute(sa.delete(task_runs).where(task_runs.c.flow_run_id.in_(id_list)))
    for table in (flow_run_inputs, state_details):
        connection.execute(sa.delete(table).where(table.c.flow_run_id.in_(id_list)))
    connection.execute(sa.delete(flow_runs).where(flow_runs.c.id.in_(id_list)))
    return len(id_list)


def delete_task_run(connection: Connection, task_run_id: Any) -> bool:
    """Delete one task run with its states and logs; False if there was none."""
    for table in (logs, states):
        connection.execute(sa.delete(table).where(table.c.task_run_id == task_run_id))
    result = connection.execute(sa.delete(task_runs).where(task_runs.c.id == task_run_id))
    return bool(result.rowcount)
