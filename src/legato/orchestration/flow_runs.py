"""Flow runs: create, read, filter, count, update, delete, and their task-run graph."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import FlowRunCreate, FlowRunUpdate, StateCreate
from legato.client.schemas.filters import FlowFilter, FlowRunFilter, TaskRunFilter
from legato.client.schemas.sorting import FlowRunSort
from legato.engine.names import generate_run_name
from legato.exceptions import ObjectNotFound, ParameterError
from legato.orchestration import filters
from legato.orchestration._cascade import delete_flow_runs
from legato.orchestration._runs import latest_state, new_id, now, state_values, transition_values
from legato.orchestration.flows import read_flow
from legato.orchestration.states import append_state
from legato.orchestration.work_pools import insert_unique
from legato.orchestration.work_queues import resolve_work_queue
from legato.states import StateType
from legato.storage.queries._common import Row, fetch_all, fetch_one, page
from legato.storage.schema import flow_runs, flows, state_details, states, task_runs
from legato.storage.types import Timestamp, to_datetime

__all__ = [
    "count_flow_runs",
    "create_flow_run",
    "delete_flow_run",
    "filter_flow_runs",
    "create_or_read_flow_run",
    "read_flow_run",
    "select_flow_runs",
    "update_flow_run",
]


def _select() -> sa.Select[Any]:
    """Flow runs with ``flow_name`` and their latest state's ``state_id``, ``state_data``
    and ``state_details``."""
    latest, on_latest = latest_state(states.c.flow_run_id, flow_runs.c.id)
    joined = (
        flow_runs.outerjoin(flows, flows.c.id == flow_runs.c.flow_id)
        .outerjoin(latest, on_latest)
        .outerjoin(state_details, state_details.c.state_id == latest.c.id)
    )
    return sa.select(
        flow_runs,
        flows.c.name.label("flow_name"),
        latest.c.id.label("state_id"),
        latest.c.data.label("state_data"),
        state_details.c.details.label("state_details"),
    ).select_from(joined)


def select_flow_runs() -> sa.Select[Any]:
    """The statement every flow run read starts from (``read_flow_run``'s columns)."""
    return _select()


@cache
def _read_one() -> sa.Select[Any]:
    # Built once: SQLAlchemy then reuses its compiled form (building and
    # compiling a statement costs more than running it on SQLite).
    return _select().where(flow_runs.c.id == sa.bindparam("flow_run_id"))


_INSERT_FLOW_RUN = sa.insert(flow_runs)


def read_flow_run(connection: Connection, flow_run_id: Any) -> Row | None:
    """One flow run, None if there is none."""
    row = connection.execute(_read_one(), {"flow_run_id": flow_run_id}).mappings().first()
    return None if row is None else dict(row)


def filter_flow_runs(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    flow_run_filter: FlowRunFilter | None = None,
    task_run_filter: TaskRunFilter | None = None,
    sort: FlowRunSort | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Flow runs matching every filter, in ``sort`` order (default: newest first)."""
    where = filters.flow_run_where(flow_filter, flow_run_filter, task_run_filter)
    statement = _select().where(*where).order_by(*filters.flow_run_order(sort))
    return fetch_all(connection, page(statement, limit, offset))


def count_flow_runs(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    flow_run_filter: FlowRunFilter | None = None,
    task_run_filter: TaskRunFilter | None = None,
) -> int:
    """How many flow runs match."""
    where = filters.flow_run_where(flow_filter, flow_run_filter, task_run_filter)
    statement = (
        sa.select(sa.func.count())
        .select_from(flow_runs.outerjoin(flows, flows.c.id == flow_runs.c.flow_id))
        .where(*where)
    )
    return int(connection.execute(statement).scalar_one())


def create_flow_run(
    connection: Connection,
    flow_run: FlowRunCreate,
    *,
    deployment_version: str | None = None,
    auto_scheduled: bool = False,
) -> Row:
    """Create a flow run of an existing flow in its first state (default: PENDING).

    With an ``idempotency_key`` that a run of the flow has already, that run
    is returned instead (``create_or_read_flow_run`` says which happened).
    Raises ObjectNotFound when the flow (or the work pool) does not exist.
    """
    row, _ = create_or_read_flow_run(
        connection, flow_run, deployment_version=deployment_version, auto_scheduled=auto_scheduled
    )
    return row


def create_or_read_flow_run(
    connection: Connection,
    flow_run: FlowRunCreate,
    *,
    deployment_version: str | None = None,
    auto_scheduled: bool = False,
) -> tuple[Row, bool]:
    """``create_flow_run``, and whether the run was created (False: its idempotency key's run).

    A run placed in a work pool (``work_pool_name``) goes to its queue
    ``work_queue_name`` (created if needed) or the pool's default queue.
    """
    flow = read_flow(connection, flow_run.flow_id)
    if flow is None:
        raise ObjectNotFound(
            f"No flow with id '{flow_run.flow_id}'. Create the flow first (POST /api/flows/)."
        )
    key = flow_run.idempotency_key
    if key is not None:
        existing = _read_by_idempotency_key(connection, flow_run.flow_id, key)
        if existing is not None:
            return existing, False
    state = flow_run.state or StateCreate(type=StateType.PENDING)
    at = now()
    row = {
        **_new_row(connection, flow_run, state, at),
        **_placement(connection, flow_run, at),
        "deployment_version": deployment_version,
        "auto_scheduled": auto_scheduled,
    }
    if key is None:
        connection.execute(_INSERT_FLOW_RUN, row)
    else:
        try:
            insert_unique(connection, sa.insert(flow_runs).values(row), _KeyTaken)
        except _KeyTaken:  # another writer created it since the read above
            existing = _read_by_idempotency_key(connection, flow_run.flow_id, key)
            if existing is None:  # pragma: no cover - the unique index says it exists
                raise
            return existing, False
    state_row = append_state(connection, "flow_run", row["id"], state, at)
    return _as_read(row, flow["name"], state_row), True


class _KeyTaken(Exception):
    """A run of this flow with this idempotency key exists (a concurrent create)."""


def _new_row(
    connection: Connection, flow_run: FlowRunCreate, state: StateCreate, at: float
) -> dict[str, Any]:
    """The run's columns from the request (placement aside) and its first state."""
    scheduled = state.state_details.scheduled_time
    return {
        "id": new_id(),
        "flow_id": flow_run.flow_id,
        "name": flow_run.name or generate_run_name(),
        "flow_version": flow_run.flow_version,
        "parameters": to_jsonable_python(flow_run.parameters, fallback=repr),
        "tags": list(flow_run.tags),
        "run_count": 0,
        "parent_flow_run_id": _parent_flow_run_id(connection, flow_run.parent_task_run_id),
        "parent_task_run_id": flow_run.parent_task_run_id,
        "start_time": None,
        "end_time": None,
        "expected_start_time": None,
        "total_run_time": 0.0,
        "created": at,
        "deployment_id": flow_run.deployment_id,
        "idempotency_key": flow_run.idempotency_key,
        "job_variables": to_jsonable_python(flow_run.job_variables or {}, fallback=repr),
        "infrastructure_pid": None,
        **state_values(state.type, state.name, state.message, at),
        **transition_values(
            None, state.type, at, None if scheduled is None else scheduled.timestamp()
        ),
    }


def _placement(connection: Connection, flow_run: FlowRunCreate, at: float) -> dict[str, Any]:
    """The run's work pool and queue columns: the queue resolved (made if needed)."""
    if flow_run.work_pool_name is None:
        if flow_run.work_queue_name is not None:
            raise ParameterError(
                f"work_queue_name={flow_run.work_queue_name!r} needs the work pool it belongs "
                "to: pass work_pool_name too."
            )
        return {"work_pool_name": None, "work_queue_name": None, "work_queue_id": None}
    queue = resolve_work_queue(connection, flow_run.work_pool_name, flow_run.work_queue_name, at)
    return {
        "work_pool_name": flow_run.work_pool_name,
        "work_queue_name": queue["name"],
        "work_queue_id": queue["id"],
    }


def _read_by_idempotency_key(connection: Connection, flow_id: Any, key: str) -> Row | None:
    statement = _select().where(flow_runs.c.flow_id == flow_id, flow_runs.c.idempotency_key == key)
    return fetch_one(connection, statement)


_TIMESTAMPS = tuple(
    column.name for column in flow_runs.columns if isinstance(column.type, Timestamp)
)
_IDS = (
    "id",
    "flow_id",
    "parent_flow_run_id",
    "parent_task_run_id",
    "deployment_id",
    "work_queue_id",
)


def _as_read(row: dict[str, Any], flow_name: str, state_row: Row) -> Row:
    """The new run as ``read_flow_run`` gives it, made from what was inserted (no read)."""
    read = {column.name: row.get(column.name) for column in flow_runs.columns}
    for name in _TIMESTAMPS:
        value = read[name]
        if value is not None:
            read[name] = to_datetime(value)
    for name in _IDS:
        if read[name] is not None:
            read[name] = str(read[name]).lower()
    read["flow_name"] = flow_name
    read["state_id"] = state_row["id"]
    read["state_data"] = state_row["data"]
    read["state_details"] = state_row["state_details"]
    return read


def _parent_flow_run_id(connection: Connection, parent_task_run_id: Any) -> Any:
    if parent_task_run_id is None:
        return None
    statement = sa.select(task_runs.c.flow_run_id).where(task_runs.c.id == parent_task_run_id)
    return connection.execute(statement).scalar_one_or_none()


_UPDATABLE = {"name", "flow_version", "parameters", "tags", "infrastructure_pid", "job_variables"}


def update_flow_run(connection: Connection, flow_run_id: Any, update: FlowRunUpdate) -> bool:
    """Change a flow run's name, version, parameters, tags, infrastructure pid or job
    variables; False if it does not exist."""
    values: dict[str, Any] = {
        key: value
        for key, value in update.model_dump(include=_UPDATABLE, exclude_unset=True).items()
        if value is not None
    }
    for key in ("parameters", "job_variables"):
        if key in values:
            values[key] = to_jsonable_python(values[key], fallback=repr)
    values["updated"] = now()
    result = connection.execute(
        sa.update(flow_runs).where(flow_runs.c.id == flow_run_id).values(**values)
    )
    return bool(result.rowcount)


def delete_flow_run(connection: Connection, flow_run_id: Any) -> bool:
    """Delete a flow run with its task runs, states and logs; False if it does not exist."""
    run_ids = sa.select(flow_runs.c.id).where(flow_runs.c.id == flow_run_id)
    return delete_flow_runs(connection, run_ids) > 0
