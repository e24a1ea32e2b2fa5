"""Concurrency slots of work queues and pools: how many runs may start now.

A run holds a slot of its queue and of its pool from the moment a worker
claims it (PENDING) until it ends: runs PENDING, RUNNING or CANCELLING count
against ``concurrency_limit`` (None: no limit). Two places use this:

- ``work_pool_runs.get_scheduled_flow_runs`` hands a worker no more runs than
  there are free slots;
- ``states.set_run_state`` refuses a claim (SCHEDULED -> PENDING) when the
  run's queue or pool is full (``claim_refusal``). It locks the queue's and
  the pool's rows first (``FOR UPDATE`` on PostgreSQL; SQLite serializes
  writers), so that claims racing for the last slot take turns and the limit
  holds even when several workers polled at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.queries._common import Row, fetch_one
from legato.storage.schema import flow_runs, work_pools, work_queues

__all__ = [
    "ACTIVE_STATE_TYPES",
    "active_runs_by_queue",
    "active_runs_in_pool",
    "claim_refusal",
    "free_slots",
]

ACTIVE_STATE_TYPES: Final = ("PENDING", "RUNNING", "CANCELLING")
"""The state types of runs that hold a slot of their queue and pool."""


def active_runs_by_queue(connection: Connection, queue_ids: Sequence[Any]) -> dict[str, int]:
    """How many runs hold a slot, per queue id (queues with none are left out)."""
    if not queue_ids:
        return {}
    statement = (
        sa.select(flow_runs.c.work_queue_id, sa.func.count())
        .where(
            flow_runs.c.work_queue_id.in_(list(queue_ids)),
            flow_runs.c.state_type.in_(ACTIVE_STATE_TYPES),
        )
        .group_by(flow_runs.c.work_queue_id)
    )
    return {str(queue_id): int(count) for queue_id, count in connection.execute(statement)}


def active_runs_in_pool(connection: Connection, pool_id: Any) -> int:
    """How many runs hold a slot of the pool (in any of its queues)."""
    queue_ids = sa.select(work_queues.c.id).where(work_queues.c.work_pool_id == pool_id)
    statement = sa.select(sa.func.count()).where(
        flow_runs.c.work_queue_id.in_(queue_ids),
        flow_runs.c.state_type.in_(ACTIVE_STATE_TYPES),
    )
    return int(connection.execute(statement).scalar_one())


def free_slots(limit: int | None, active: int) -> float:
    """Slots left under ``limit`` (infinite without one)."""
    return float("inf") if limit is None else max(0, limit - active)


def _limits(connection: Connection, queue_id: Any, *, lock: bool) -> Row | None:
    """The queue's and its pool's names and limits (rows locked with ``lock``)."""
    queue_statement = sa.select(
        work_queues.c.id,
        work_queues.c.name,
        work_queues.c.concurrency_limit,
        work_queues.c.work_pool_id,
    ).where(work_queues.c.id == queue_id)
    queue = fetch_one(connection, queue_statement.with_for_update() if lock else queue_statement)
    if queue is None:
        return None
    pool_statement = sa.select(work_pools.c.name, work_pools.c.concurrency_limit).where(
        work_pools.c.id == queue["work_pool_id"]
    )
    pool = fetch_one(connection, pool_statement.with_for_update() if lock else pool_statement)
    if pool is None:  # pragma: no cover - a queue always has its pool (foreign key)
        return None
    return {**queue, "pool_name": pool["name"], "pool_limit": pool["concurrency_limit"]}


def claim_refusal(connection: Connection, run: Row) -> str | None:
    """Why the run may not be claimed now (its queue or pool is full), None if it may.

    ``run`` is the run's row, locked by the caller. Runs outside any queue
    (served runs, runs of deleted queues) have no limits.
    """
    queue_id = run.get("work_queue_id")
    if queue_id is None:
        return None
    limits = _limits(connection, queue_id, lock=False)
    if limits is None or (limits["concurrency_limit"] is None and limits["pool_limit"] is None):
        return None
    limits = _limits(connection, queue_id, lock=True)  # take turns with other claims
    if limits is None:  # pragma: no cover - deleted in between
        return None
    where = f"work queue {limits['name']!r} of pool {limits['pool_name']!r}"
    if limits["concurrency_limit"] is not None:
        active = active_runs_by_queue(connection, [queue_id]).get(str(queue_id), 0)
        if active >= limits["concurrency_limit"]:
            return _full(where, active, limits["concurrency_limit"])
    if limits["pool_limit"] is not None:
        active = active_runs_in_pool(connection, limits["work_pool_id"])
        if active >= limits["pool_limit"]:
            return _full(f"work pool {limits['pool_name']!r}", active, limits["pool_limit"])
    return None


def _full(where: str, active: int, limit: int) -> str:
    return (
        f"The {where} is at its concurrency limit ({active} of {limit} runs are Pending, "
        "Running or Cancelling); the run stays Scheduled until a slot frees up."
    )
