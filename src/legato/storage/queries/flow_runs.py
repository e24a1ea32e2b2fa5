"""Reads of flow runs, each with its flow's name as ``flow_name``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.queries._common import Row, equals, fetch_all, fetch_one, is_in, page
from legato.storage.schema import flow_runs, flows

_WITH_FLOW = flow_runs.outerjoin(flows, flows.c.id == flow_runs.c.flow_id)


def _select() -> sa.Select[Any]:
    return sa.select(flow_runs, flows.c.name.label("flow_name")).select_from(_WITH_FLOW)


def _filters(
    flow_name: str | None,
    state_types: Sequence[str] | None,
    state_names: Sequence[str] | None = None,
    parent_flow_run_id: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    return [
        *equals(flows.c.name, flow_name),
        *is_in(flow_runs.c.state_type, state_types),
        *is_in(flow_runs.c.state_name, state_names),
        *equals(flow_runs.c.parent_flow_run_id, parent_flow_run_id),
    ]


def read_flow_runs(
    connection: Connection,
    *,
    flow_name: str | None = None,
    state_types: Sequence[str] | None = None,
    state_names: Sequence[str] | None = None,
    parent_flow_run_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Flow runs, newest first; ``flow_name`` matches exactly."""
    statement = (
        _select()
        .where(*_filters(flow_name, state_types, state_names, parent_flow_run_id))
        .order_by(flow_runs.c.created.desc(), flow_runs.c.id.desc())
    )
    return fetch_all(connection, page(statement, limit, offset))


def read_flow_run(connection: Connection, flow_run_id: str) -> Row | None:
    """One flow run, None if there is no such id."""
    return fetch_one(connection, _select().where(flow_runs.c.id == flow_run_id))


def count_flow_runs(
    connection: Connection,
    *,
    flow_name: str | None = None,
    state_types: Sequence[str] | None = None,
) -> int:
    """How many flow runs match."""
    statement = (
        sa.select(sa.func.count()).select_from(_WITH_FLOW).where(*_filters(flow_name, state_types))
    )
    return int(connection.execute(statement).scalar_one())
