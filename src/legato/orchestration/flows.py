"""Flows: get-or-create by name, read, filter, count, delete.

A flow's id is derived from its name (``flow_id_for``, the engine's rule), so
every process, embedded or behind a server, agrees on it without asking.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.filters import FlowFilter, FlowRunFilter, TaskRunFilter
from legato.client.schemas.sorting import FlowSort
from legato.engine.flow_engine import flow_id_for
from legato.orchestration import filters
from legato.orchestration._cascade import delete_flow_runs
from legato.storage.queries._common import Row, fetch_all, fetch_one, page
from legato.storage.schema import deployments, flow_runs, flows

__all__ = [
    "count_flows",
    "delete_flow",
    "filter_flows",
    "get_or_create_flow",
    "read_flow",
    "read_flow_by_name",
]


def get_or_create_flow(connection: Connection, name: str) -> tuple[Row, bool]:
    """The flow named ``name``, created if needed; and whether it was created."""
    flow_id = str(flow_id_for(name))
    existing = read_flow(connection, flow_id)
    if existing is not None:
        return existing, False
    now = time.time()
    connection.execute(sa.insert(flows).values(id=flow_id, name=name, created=now, updated=now))
    row = read_flow(connection, flow_id)
    assert row is not None
    return row, True


_READ_FLOW = sa.select(flows).where(flows.c.id == sa.bindparam("flow_id"))


def read_flow(connection: Connection, flow_id: Any) -> Row | None:
    """One flow by id, None if there is none."""
    row = connection.execute(_READ_FLOW, {"flow_id": flow_id}).mappings().first()
    return None if row is None else dict(row)


def read_flow_by_name(connection: Connection, name: str) -> Row | None:
    """One flow by name, None if there is none."""
    return fetch_one(connection, sa.select(flows).where(flows.c.name == name))


def _where(
    flow_filter: FlowFilter | None,
    flow_run_filter: FlowRunFilter | None,
    task_run_filter: TaskRunFilter | None,
) -> list[sa.ColumnElement[bool]]:
    conditions = filters.flow_conditions(flow_filter)
    if flow_run_filter is not None or task_run_filter is not None:
        run_conditions = filters.flow_run_where(None, flow_run_filter, task_run_filter)
        if run_conditions:
            matching = sa.select(flow_runs.c.flow_id).where(*run_conditions)
            conditions.append(flows.c.id.in_(matching))
    return conditions


def filter_flows(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    flow_run_filter: FlowRunFilter | None = None,
    task_run_filter: TaskRunFilter | None = None,
    sort: FlowSort | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Flows matching the filters (a flow matches when one of its runs does)."""
    statement = (
        sa.select(flows)
        .where(*_where(flow_filter, flow_run_filter, task_run_filter))
        .order_by(*filters.flow_order(sort))
    )
    return fetch_all(connection, page(statement, limit, offset))


def count_flows(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    flow_run_filter: FlowRunFilter | None = None,
    task_run_filter: TaskRunFilter | None = None,
) -> int:
    """How many flows match."""
    statement = (
        sa.select(sa.func.count())
        .select_from(flows)
        .where(*_where(flow_filter, flow_run_filter, task_run_filter))
    )
    return int(connection.execute(statement).scalar_one())


def delete_flow(connection: Connection, flow_id: Any) -> bool:
    """Delete a flow with its flow runs (and theirs: task runs, states, logs) and deployments."""
    delete_flow_runs(connection, sa.select(flow_runs.c.id).where(flow_runs.c.flow_id == flow_id))
    # Their schedules go with them (foreign key, ON DELETE CASCADE).
    connection.execute(sa.delete(deployments).where(deployments.c.flow_id == flow_id))
    return bool(connection.execute(sa.delete(flows).where(flows.c.id == flow_id)).rowcount)
