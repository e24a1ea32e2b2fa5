"""A deployment's concurrency limit, checked when one of its runs is claimed; and its polls.

``deployment_slot_refusal(connection, run)`` says whether a run of a
deployment may start now: its deployment's runs that are PENDING, RUNNING or
CANCELLING (this one left out) count against ``concurrency_limit``. It locks
the deployment's row for the caller's transaction (PostgreSQL; SQLite's
write lock already serializes), so two workers claiming runs of one
deployment at once cannot both pass the check. What a refused run does is
the deployment's ``collision_strategy``: ``ENQUEUE`` (stay scheduled, try
again later; the default) or ``CANCEL_NEW`` (end Cancelled). The claim
(``SCHEDULED -> PENDING``) calls it; this module does not change states.

``mark_deployments_polled`` records that a worker or serve process polled
for a deployment's runs (``last_polled``: the deployment is READY for a
minute after); ``get_scheduled_flow_runs_for_deployments`` is a serve
process's poll (the due Scheduled runs of its deployments, which it marks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.orchestration._runs import now
from legato.states import StateType
from legato.storage.queries._common import Row, fetch_all, fetch_one
from legato.storage.schema import deployments, flow_runs

__all__ = [
    "ACTIVE_STATES",
    "SlotRefusal",
    "deployment_slot_refusal",
    "get_scheduled_flow_runs_for_deployments",
    "mark_deployments_polled",
]

ACTIVE_STATES = (StateType.PENDING.value, StateType.RUNNING.value, StateType.CANCELLING.value)
"""The states of a deployment's runs that hold one of its concurrency slots."""


class SlotRefusal(NamedTuple):
    """Why a run may not start now, and what its deployment says to do about it."""

    collision_strategy: str  # "ENQUEUE" or "CANCEL_NEW"
    reason: str


def deployment_slot_refusal(connection: Connection, run: Mapping[str, Any]) -> SlotRefusal | None:
    """None when ``run`` may start (no deployment, no limit, or a free slot); else why not."""
    if run.get("deployment_id") is None:
        return None
    statement = (
        sa.select(
            deployments.c.name, deployments.c.concurrency_limit, deployments.c.collision_strategy
        )
        .where(deployments.c.id == run["deployment_id"])
        .with_for_update()
    )
    deployment = fetch_one(connection, statement)
    if deployment is None or deployment["concurrency_limit"] is None:
        return None
    active = connection.execute(
        sa.select(sa.func.count()).where(
            flow_runs.c.deployment_id == run["deployment_id"],
            flow_runs.c.state_type.in_(ACTIVE_STATES),
            flow_runs.c.id != run["id"],
        )
    ).scalar_one()
    limit = deployment["concurrency_limit"]
    if active < limit:
        return None
    return SlotRefusal(
        deployment["collision_strategy"] or "ENQUEUE",
        f"Deployment {deployment['name']!r} has {active} run(s) active, its concurrency "
        f"limit is {limit}.",
    )


def mark_deployments_polled(
    connection: Connection,
    *,
    work_pool_name: str | None = None,
    deployment_ids: Sequence[Any] | None = None,
    at: float | None = None,
) -> int:
    """Set ``last_polled`` of a pool's deployments, or of these deployments; how many."""
    if work_pool_name is None and deployment_ids is None:
        return 0
    conditions = []
    if work_pool_name is not None:
        conditions.append(deployments.c.work_pool_name == work_pool_name)
    if deployment_ids is not None:
        conditions.append(deployments.c.id.in_(list(deployment_ids)))
    at = now() if at is None else at
    # Workers poll every second: rewrite a mark only when it is a few seconds off.
    last = deployments.c.last_polled
    stale = sa.or_(last.is_(None), last < at - 5, last > at)
    result = connection.execute(
        sa.update(deployments).where(*conditions, stale).values(last_polled=at)
    )
    return int(result.rowcount)


def get_scheduled_flow_runs_for_deployments(
    connection: Connection,
    deployment_ids: Sequence[Any],
    scheduled_before: dt.datetime | float | None = None,
    limit: int | None = None,
) -> list[Row]:
    """The Scheduled runs of these deployments due by ``scheduled_before``, earliest first
    (at most ``limit``); the deployments are marked polled (READY)."""
    from legato.orchestration.flow_runs import select_flow_runs

    ids = [str(value) for value in deployment_ids]
    if not ids:
        return []
    mark_deployments_polled(connection, deployment_ids=ids)
    c = flow_runs.c
    conditions = [c.deployment_id.in_(ids), c.state_type == StateType.SCHEDULED.value]
    if scheduled_before is not None:
        conditions.append(c.expected_start_time <= scheduled_before)
    statement = (
        select_flow_runs()
        .where(*conditions)
        .order_by(c.expected_start_time.asc().nulls_last(), c.id)
        .limit(limit)
    )
    return fetch_all(connection, statement)
