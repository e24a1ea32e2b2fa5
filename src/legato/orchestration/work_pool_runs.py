"""What a worker gets when it polls its pool: the scheduled runs it may start now.

``get_scheduled_flow_runs`` gives the Scheduled runs of the pool's unpaused
queues (all of them, or those named), queue by queue in priority order (1
first, then by name), each queue's runs by expected start time; never more
than the free slots of each queue and of the pool (``work_slots``: runs
Pending, Running or Cancelling hold one), nor more than ``limit``. A paused
pool gives nothing. Polling marks the polled queues' ``last_polled`` (which
keeps them, and the pool, READY).

The worker then claims each run by proposing PENDING (``set_flow_run_state``)
and starts it only on ACCEPT: the claim is a compare-and-set on the run's
state, and is refused while the run's queue or pool is full, so a run
starts once however many workers poll the pool.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.orchestration import _runs, work_slots
from legato.orchestration.deployment_concurrency import mark_deployments_polled
from legato.orchestration.flow_runs import select_flow_runs
from legato.orchestration.work_pools import mark_work_pool_ready, require_work_pool
from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, fetch_all
from legato.storage.schema import flow_runs, work_queues

__all__ = ["get_scheduled_flow_runs"]

Moment = dt.datetime | float


def _polled_queues(
    connection: Connection, pool_id: Any, names: Sequence[str] | None, at: float
) -> list[Row]:
    """The pool's queues (those named, if any), by priority then name; marked polled at ``at``."""
    condition = [work_queues.c.work_pool_id == pool_id]
    if names is not None:
        condition.append(work_queues.c.name.in_(list(names)))
    queues = fetch_all(
        connection,
        sa.select(work_queues)
        .where(*condition)
        .order_by(work_queues.c.priority, bytewise(work_queues.c.name)),
    )
    if queues:
        connection.execute(
            sa.update(work_queues)
            .where(work_queues.c.id.in_([queue["id"] for queue in queues]))
            .values(last_polled=at)
        )
    return queues


def _scheduled_runs(
    connection: Connection,
    queue_id: Any,
    before: Moment | None,
    after: Moment | None,
    count: int | None,
) -> list[Row]:
    c = flow_runs.c
    conditions = [c.work_queue_id == queue_id, c.state_type == "SCHEDULED"]
    if before is not None:
        conditions.append(c.expected_start_time <= before)
    if after is not None:
        conditions.append(c.expected_start_time >= after)
    statement = (
        select_flow_runs()
        .where(*conditions)
        .order_by(c.expected_start_time.asc().nulls_last(), c.id)
        .limit(count)
    )
    return fetch_all(connection, statement)


def get_scheduled_flow_runs(
    connection: Connection,
    work_pool_name: str,
    *,
    work_queue_names: Sequence[str] | None = None,
    scheduled_before: Moment | None = None,
    scheduled_after: Moment | None = None,
    limit: int | None = None,
    now: float | None = None,
) -> list[Row]:
    """The runs a worker of the pool may start (see the module doc), in the order to start them.

    Each item is ``{"work_pool_id", "work_queue_id", "flow_run"}`` (the run
    as ``read_flow_run`` gives it). ObjectNotFound for an unknown pool;
    queue names the pool does not have are skipped. Runs a write transaction.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    at = _runs.now() if now is None else now
    pool = require_work_pool(connection, work_pool_name, at)
    queues = _polled_queues(connection, pool["id"], work_queue_names, at)
    if pool["is_paused"]:
        return []
    mark_work_pool_ready(connection, pool["id"], at)
    mark_deployments_polled(connection, work_pool_name=pool["name"], at=at)
    bounds = _Bounds(scheduled_before, scheduled_after, math.inf if limit is None else limit)
    return _take_runs(
        connection, pool, [queue for queue in queues if not queue["is_paused"]], bounds
    )


@dataclass(frozen=True, slots=True)
class _Bounds:
    before: Moment | None
    after: Moment | None
    limit: float


def _take_runs(connection: Connection, pool: Row, queues: list[Row], bounds: _Bounds) -> list[Row]:
    """Each queue's due runs in turn, within the free slots of the queue and the pool."""
    active = work_slots.active_runs_by_queue(connection, [queue["id"] for queue in queues])
    pool_free = work_slots.free_slots(
        pool["concurrency_limit"], work_slots.active_runs_in_pool(connection, pool["id"])
    )
    found: list[Row] = []
    for queue in queues:
        queue_free = work_slots.free_slots(queue["concurrency_limit"], active.get(queue["id"], 0))
        count = min(queue_free, pool_free, bounds.limit - len(found))
        if count <= 0:
            continue
        runs = _scheduled_runs(
            connection,
            queue["id"],
            bounds.before,
            bounds.after,
            None if math.isinf(count) else int(count),
        )
        pool_free -= len(runs)
        found += [
            {"work_pool_id": pool["id"], "work_queue_id": queue["id"], "flow_run": run}
            for run in runs
        ]
    return found
