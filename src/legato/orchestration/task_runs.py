"""Task runs: create (idempotent on flow run, task key and dynamic key), read,
filter, count, delete, and a flow run's graph."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import StateCreate, TaskRunCreate
from legato.client.schemas.filters import FlowFilter, FlowRunFilter, TaskRunFilter
from legato.client.schemas.sorting import TaskRunSort
from legato.orchestration import filters
from legato.orchestration._cascade import delete_task_run
from legato.orchestration._runs import latest_state, new_id, now, state_values, transition_values
from legato.orchestration.states import append_state
from legato.states import StateType
from legato.storage.queries._common import Row, fetch_all, fetch_one, page
from legato.storage.schema import states, task_runs

__all__ = [
    "count_task_runs",
    "create_task_run",
    "delete_task_run",
    "filter_task_runs",
    "read_flow_run_graph",
    "read_task_run",
]


def _select() -> sa.Select[Any]:
    """Task runs with their latest state's ``state_id`` and ``state_data``."""
    latest, on_latest = latest_state(states.c.task_run_id, task_runs.c.id)
    return sa.select(
        task_runs, latest.c.id.label("state_id"), latest.c.data.label("state_data")
    ).select_from(task_runs.outerjoin(latest, on_latest))


def read_task_run(connection: Connection, task_run_id: Any) -> Row | None:
    """One task run, None if there is none."""
    return fetch_one(connection, _select().where(task_runs.c.id == task_run_id))


def filter_task_runs(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    flow_run_filter: FlowRunFilter | None = None,
    task_run_filter: TaskRunFilter | None = None,
    sort: TaskRunSort | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Task runs matching every filter, in ``sort`` order (default: newest first)."""
    where = filters.task_run_where(flow_filter, flow_run_filter, task_run_filter)
    statement = _select().where(*where).order_by(*filters.task_run_order(sort))
    return fetch_all(connection, page(statement, limit, offset))


def count_task_runs(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    flow_run_filter: FlowRunFilter | None = None,
    task_run_filter: TaskRunFilter | None = None,
) -> int:
    """How many task runs match."""
    where = filters.task_run_where(flow_filter, flow_run_filter, task_run_filter)
    statement = sa.select(sa.func.count()).select_from(task_runs).where(*where)
    return int(connection.execute(statement).scalar_one())


def create_task_run(connection: Connection, task_run: TaskRunCreate) -> tuple[Row, bool]:
    """Create a task run in its first state (default: PENDING); and whether it is new.

    A task run with the same flow run, task key and dynamic key (or the same
    id) is returned as it is instead: creating is idempotent, as in Prefect.
    """
    existing = _find_existing(connection, task_run)
    if existing is not None:
        return existing, False
    state = task_run.state or StateCreate(type=StateType.PENDING)
    at = now()
    row = {
        "id": str(task_run.id) if task_run.id is not None else new_id(),
        "flow_run_id": task_run.flow_run_id,
        "name": task_run.name,
        "task_key": task_run.task_key,
        "dynamic_key": task_run.dynamic_key,
        "task_version": task_run.task_version,
        "cache_key": task_run.cache_key,
        "tags": list(task_run.tags),
        "task_inputs": {
            name: [item.model_dump(mode="json") for item in items]
            for name, items in task_run.task_inputs.items()
        },
        "run_count": 0,
        "start_time": None,
        "end_time": None,
        "expected_start_time": None,
        "total_run_time": 0.0,
        "created": at,
        **state_values(state.type, state.name, state.message, at),
        **transition_values(None, state.type, at, None),
    }
    connection.execute(sa.insert(task_runs).values(**row))
    append_state(connection, "task_run", row["id"], state, at)
    created = read_task_run(connection, row["id"])
    assert created is not None
    return created, True


def _find_existing(connection: Connection, task_run: TaskRunCreate) -> Row | None:
    if task_run.id is not None:
        found = read_task_run(connection, task_run.id)
        if found is not None:
            return found
    if task_run.flow_run_id is None:
        return None
    statement = _select().where(
        task_runs.c.flow_run_id == task_run.flow_run_id,
        task_runs.c.task_key == task_run.task_key,
        task_runs.c.dynamic_key == task_run.dynamic_key,
    )
    return fetch_one(connection, statement)


def read_flow_run_graph(connection: Connection, flow_run_id: Any) -> list[Row]:
    """Every task run of a flow run, oldest first (``task_inputs`` names the upstreams)."""
    statement = (
        _select()
        .where(task_runs.c.flow_run_id == flow_run_id)
        .order_by(task_runs.c.created, task_runs.c.id)
    )
    return fetch_all(connection, statement)
