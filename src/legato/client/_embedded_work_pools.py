"""``EmbeddedClient``'s work pool, work queue and worker methods (a mixin it inherits).

Each method calls the orchestration service (``legato.orchestration.work_pools``,
``work_queues``, ``workers``, ``work_pool_runs``) in one read or write
transaction of the client's store, as the REST routes do; the HTTP clients
offer the same methods (``client._ops_work_pools``), and one contract suite
runs on both.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from legato.exceptions import ObjectNotFound, ParameterError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from legato.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from legato.client.schemas.filters import WorkerFilter, WorkPoolFilter, WorkQueueFilter
    from legato.client.schemas.objects import (
        Worker,
        WorkerFlowRunResponse,
        WorkPool,
        WorkQueue,
    )

__all__ = [
    "WORK_QUEUE_UPDATE_FIELDS",
    "WorkPoolsMixin",
    "heartbeat_interval",
    "poll_wait",
    "require_pool_name",
    "work_queue_update",
]

T = TypeVar("T")

WORK_QUEUE_UPDATE_FIELDS = frozenset(
    {"name", "description", "is_paused", "concurrency_limit", "priority"}
)
"""What ``update_work_queue(id, **fields)`` may change."""


def work_queue_update(fields: dict[str, Any]) -> Any:
    """``update_work_queue``'s keyword arguments as a ``WorkQueueUpdate`` (both clients)."""
    from legato.client.schemas.actions import WorkQueueUpdate

    unknown = sorted(set(fields) - WORK_QUEUE_UPDATE_FIELDS)
    if unknown or not fields:
        raise ParameterError(
            f"update_work_queue takes {', '.join(sorted(WORK_QUEUE_UPDATE_FIELDS))}; "
            + (f"not {', '.join(unknown)}." if unknown else "none was given.")
        )
    return WorkQueueUpdate(**fields)


def heartbeat_interval(seconds: float | None) -> int | None:
    """A heartbeat interval as the whole seconds the store keeps (rounded up, at least 1)."""
    return None if seconds is None else max(1, math.ceil(seconds))


MAX_POLL_WAIT_SECONDS = 25.0
"""The longest a poll for scheduled runs may wait (under the HTTP clients' 30 s read timeout)."""
_EMBEDDED_RECHECK_SECONDS = 0.1


def poll_wait(wait_seconds: float) -> float:
    """``wait_seconds`` of a poll for scheduled runs, checked: 0 to ``MAX_POLL_WAIT_SECONDS``."""
    if not 0.0 <= wait_seconds <= MAX_POLL_WAIT_SECONDS:
        raise ParameterError(
            f"wait_seconds={wait_seconds} is out of range: a poll waits 0 to "
            f"{MAX_POLL_WAIT_SECONDS:g} seconds for a run (poll again to wait longer)."
        )
    return float(wait_seconds)


def require_pool_name(work_pool_name: str | None, what: str) -> str:
    """``work_pool_name``, which ``what`` needs (legato has no implicit default pool)."""
    if work_pool_name is None:
        raise ParameterError(
            f"{what} needs work_pool_name: the work pool the queue belongs to "
            "(legato has no default pool; create one with `legato work-pool create NAME "
            "--type process`)."
        )
    return work_pool_name


class WorkPoolsMixin:
    """Work pools, their queues and workers, over the embedded client's store."""

    if TYPE_CHECKING:

        def _read(self, query: Callable[[Connection], T], write: bool = False) -> T: ...

    # -- work pools -------------------------------------------------------------

    def create_work_pool(self, work_pool: WorkPoolCreate, overwrite: bool = False) -> WorkPool:
        """Create a work pool (with its ``default`` queue); ObjectAlreadyExists unless
        ``overwrite``, which updates the existing pool instead."""
        from legato.client.schemas.objects import WorkPool
        from legato.orchestration import work_pools

        row = self._read(
            lambda c: work_pools.create_work_pool(c, work_pool, overwrite=overwrite), write=True
        )
        return WorkPool.model_validate(row)

    def read_work_pool(self, work_pool_name: str) -> WorkPool:
        """One work pool with its current status; raises ObjectNotFound."""
        from legato.client.schemas.objects import WorkPool
        from legato.orchestration import work_pools

        row = self._read(lambda c: work_pools.require_work_pool(c, work_pool_name))
        return WorkPool.model_validate(row)

    def read_work_pools(
        self,
        limit: int | None = None,
        offset: int = 0,
        work_pool_filter: WorkPoolFilter | None = None,
    ) -> list[WorkPool]:
        """Work pools by name (all of them unless ``limit``)."""
        from legato.client.schemas.objects import WorkPool
        from legato.orchestration import work_pools

        rows = self._read(
            lambda c: work_pools.filter_work_pools(
                c, work_pool_filter, limit=_limit(limit), offset=offset
            )
        )
        return [WorkPool.model_validate(row) for row in rows]

    def update_work_pool(self, work_pool_name: str, work_pool: WorkPoolUpdate) -> None:
        """Change a work pool (the fields set in ``work_pool``); raises ObjectNotFound."""
        from legato.orchestration import work_pools

        row = self._read(
            lambda c: work_pools.update_work_pool(c, work_pool_name, work_pool), write=True
        )
        if row is None:
            raise work_pools.work_pool_not_found(work_pool_name)

    def delete_work_pool(self, work_pool_name: str) -> None:
        """Delete a work pool with its queues and workers; raises ObjectNotFound."""
        from legato.orchestration import work_pools

        if not self._read(lambda c: work_pools.delete_work_pool(c, work_pool_name), write=True):
            raise work_pools.work_pool_not_found(work_pool_name)

    # -- work queues ------------------------------------------------------------

    def create_work_queue(
        self,
        name: str,
        work_pool_name: str | None = None,
        description: str | None = None,
        concurrency_limit: int | None = None,
        priority: int | None = None,
        *,
        is_paused: bool = False,
    ) -> WorkQueue:
        """Create a queue in a work pool (default priority: after its other queues)."""
        from legato.client.schemas.actions import WorkQueueCreate
        from legato.client.schemas.objects import WorkQueue
        from legato.orchestration import work_queues

        pool_name = require_pool_name(work_pool_name, "create_work_queue")
        body = WorkQueueCreate(
            name=name,
            description=description or "",
            is_paused=is_paused,
            concurrency_limit=concurrency_limit,
            priority=priority,
        )
        row = self._read(lambda c: work_queues.create_work_queue(c, pool_name, body), write=True)
        return WorkQueue.model_validate(row)

    def read_work_queue(self, id: Any) -> WorkQueue:
        """One work queue by id; raises ObjectNotFound."""
        from legato.client.schemas.objects import WorkQueue
        from legato.orchestration import work_queues

        target = _uuid_or_none(id)
        row = (
            None if target is None else self._read(lambda c: work_queues.read_work_queue(c, target))
        )
        if row is None:
            raise _queue_not_found(id)
        return WorkQueue.model_validate(row)

    def read_work_queue_by_name(self, name: str, work_pool_name: str | None = None) -> WorkQueue:
        """A queue by name, in ``work_pool_name`` (or the only pool that has one so named)."""
        from legato.client.schemas.objects import WorkQueue
        from legato.orchestration import work_queues

        row = self._read(lambda c: work_queues.read_work_queue_by_name(c, name, work_pool_name))
        if row is None:
            where = "any work pool" if work_pool_name is None else f"work pool {work_pool_name!r}"
            raise ObjectNotFound(
                f"No work queue named {name!r} in {where}. List the queues with "
                "`legato work-queue ls`."
            )
        return WorkQueue.model_validate(row)

    def read_work_queues(
        self,
        work_pool_name: str | None = None,
        work_queue_filter: WorkQueueFilter | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WorkQueue]:
        """Queues of one pool (or of every pool), by pool, priority and name."""
        from legato.client.schemas.objects import WorkQueue
        from legato.orchestration import work_queues

        rows = self._read(
            lambda c: work_queues.filter_work_queues(
                c, work_pool_name, work_queue_filter, limit=_limit(limit), offset=offset
            )
        )
        return [WorkQueue.model_validate(row) for row in rows]

    def update_work_queue(self, id: Any, /, **fields: Any) -> None:
        """Change a queue: ``name``, ``description``, ``is_paused``, ``concurrency_limit``
        (None clears it) or ``priority``; raises ObjectNotFound."""
        from legato.orchestration import work_queues

        update = work_queue_update(fields)
        target = _uuid_or_none(id)
        if target is None or (
            self._read(lambda c: work_queues.update_work_queue(c, target, update), write=True)
            is None
        ):
            raise _queue_not_found(id)

    def delete_work_queue_by_id(self, id: Any) -> None:
        """Delete a queue (not a pool's default queue); raises ObjectNotFound."""
        from legato.orchestration import work_queues

        target = _uuid_or_none(id)
        if target is None or not self._read(
            lambda c: work_queues.delete_work_queue(c, target), write=True
        ):
            raise _queue_not_found(id)

    # -- workers ----------------------------------------------------------------

    def send_worker_heartbeat(
        self,
        work_pool_name: str,
        worker_name: str,
        heartbeat_interval_seconds: float | None = None,
    ) -> None:
        """Record that the worker is alive (creating it on its first heartbeat)."""
        from legato.orchestration import workers

        interval = heartbeat_interval(heartbeat_interval_seconds)
        self._read(
            lambda c: workers.send_worker_heartbeat(c, work_pool_name, worker_name, interval),
            write=True,
        )

    def read_workers_for_work_pool(
        self,
        work_pool_name: str,
        worker_filter: WorkerFilter | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[Worker]:
        """A pool's workers, most recent heartbeat first; raises ObjectNotFound."""
        from legato.client.schemas.objects import Worker
        from legato.orchestration import workers

        rows = self._read(
            lambda c: workers.filter_workers(
                c, work_pool_name, worker_filter, limit=_limit(limit), offset=offset or 0
            )
        )
        return [Worker.model_validate(row) for row in rows]

    def get_scheduled_flow_runs_for_work_pool(
        self,
        work_pool_name: str,
        work_queue_names: Sequence[str] | None = None,
        scheduled_before: dt.datetime | None = None,
        limit: int | None = None,
        wait_seconds: float = 0.0,
    ) -> list[WorkerFlowRunResponse]:
        """The Scheduled runs a worker of the pool may start now, in the order to start them.

        By queue priority, then expected start time, within the queues' and the
        pool's concurrency limits; nothing from a paused pool or queue. Claim
        each with ``set_flow_run_state(id, Pending())`` and start it only on ACCEPT.
        With ``wait_seconds`` (legato; at most 25), when no run is ready, waits
        up to that long for one (a long poll) before returning an empty list.
        """
        from legato.client.schemas.objects import FlowRun, WorkerFlowRunResponse
        from legato.orchestration import work_pool_runs

        deadline = time.monotonic() + poll_wait(wait_seconds)
        names = None if work_queue_names is None else list(work_queue_names)
        while True:
            items = self._read(
                lambda c: work_pool_runs.get_scheduled_flow_runs(
                    c,
                    work_pool_name,
                    work_queue_names=names,
                    scheduled_before=scheduled_before,
                    limit=limit,
                ),
                write=True,
            )
            remaining = deadline - time.monotonic()
            if items or remaining <= 0:
                break
            # Other processes write this file: look again now and then.
            time.sleep(min(remaining, _EMBEDDED_RECHECK_SECONDS))
        return [
            WorkerFlowRunResponse(
                work_pool_id=item["work_pool_id"],
                work_queue_id=item["work_queue_id"],
                flow_run=FlowRun.from_row(item["flow_run"]),
            )
            for item in items
        ]


_LIMITLESS = 2**31 - 1


def _limit(limit: int | None) -> int:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    return _LIMITLESS if limit is None else limit


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


def _queue_not_found(queue_id: Any) -> ObjectNotFound:
    return ObjectNotFound(
        f"No work queue with id {str(queue_id)!r}. List the queues with `legato work-queue ls`."
    )
