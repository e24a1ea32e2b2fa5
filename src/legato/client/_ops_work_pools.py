"""The HTTP clients' work pool, work queue and worker methods, as sans-IO operations.

Like ``client._operations``: each operation yields ``Request``s and returns
the method's result; ``SyncHttpClient`` and ``AsyncHttpClient`` drive them.
The signatures are those of ``EmbeddedClient`` (``client._embedded_work_pools``).
Pool and queue names travel in URL paths, percent-encoded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from legato.client._embedded_work_pools import (
    heartbeat_interval,
    poll_wait,
    require_pool_name,
    work_queue_update,
)
from legato.client._operations import Operation, Request, Session, _dump, _id, _paged
from legato.client.schemas.actions import (
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueueCreate,
)
from legato.client.schemas.filters import WorkerFilter, WorkPoolFilter, WorkQueueFilter
from legato.client.schemas.objects import Worker, WorkerFlowRunResponse, WorkPool, WorkQueue
from legato.exceptions import ObjectAlreadyExists

__all__ = [
    "create_work_pool",
    "create_work_queue",
    "delete_work_pool",
    "delete_work_queue_by_id",
    "get_scheduled_flow_runs_for_work_pool",
    "read_work_pool",
    "read_work_pools",
    "read_work_queue",
    "read_work_queue_by_name",
    "read_work_queues",
    "read_workers_for_work_pool",
    "send_worker_heartbeat",
    "update_work_pool",
    "update_work_queue",
]

_ALL = 2**31 - 1  # "no limit": page until a short page


def _pool_path(work_pool_name: str) -> str:
    return f"/work_pools/{quote(work_pool_name, safe='')}"


def _limit(limit: int | None) -> int:
    return _ALL if limit is None else limit


# -- work pools -------------------------------------------------------------------


def create_work_pool(
    session: Session, work_pool: WorkPoolCreate, overwrite: bool = False
) -> Operation[WorkPool]:
    """Create a work pool (with its ``default`` queue); ObjectAlreadyExists unless
    ``overwrite``, which updates the existing pool instead."""
    try:
        response = yield Request(
            "POST", "/work_pools/", json=work_pool.model_dump(mode="json"), is_idempotent=False
        )
    except ObjectAlreadyExists:
        if not overwrite:
            raise
        existing = yield from read_work_pool(session, work_pool.name)
        if existing.type != work_pool.type:
            from legato.exceptions import ParameterError

            raise ParameterError(
                f"Work pool {work_pool.name!r} has type {existing.type!r}, not "
                f"{work_pool.type!r}: a pool's type cannot change. Delete the pool first, "
                "or create one with another name."
            ) from None
        update = WorkPoolUpdate(
            description=work_pool.description,
            is_paused=work_pool.is_paused,
            base_job_template=work_pool.base_job_template,
            concurrency_limit=work_pool.concurrency_limit,
        )
        yield from update_work_pool(session, work_pool.name, update)
        return (yield from read_work_pool(session, work_pool.name))
    return WorkPool.model_validate(response.json())


def read_work_pool(session: Session, work_pool_name: str) -> Operation[WorkPool]:
    """One work pool with its current status; raises ObjectNotFound."""
    response = yield Request("GET", _pool_path(work_pool_name))
    return WorkPool.model_validate(response.json())


def read_work_pools(
    session: Session,
    limit: int | None = None,
    offset: int = 0,
    work_pool_filter: WorkPoolFilter | None = None,
) -> Operation[list[WorkPool]]:
    """Work pools by name (all of them unless ``limit``)."""
    body = {"work_pools": _dump(work_pool_filter)}
    return (
        yield from _paged(
            "/work_pools/filter", body, _limit(limit), offset, WorkPool.model_validate
        )
    )


def update_work_pool(
    session: Session, work_pool_name: str, work_pool: WorkPoolUpdate
) -> Operation[None]:
    """Change a work pool (the fields set in ``work_pool``); raises ObjectNotFound."""
    yield Request("PATCH", _pool_path(work_pool_name), json=_dump(work_pool))


def delete_work_pool(session: Session, work_pool_name: str) -> Operation[None]:
    """Delete a work pool with its queues and workers; raises ObjectNotFound."""
    yield Request("DELETE", _pool_path(work_pool_name))


# -- work queues ------------------------------------------------------------------


def create_work_queue(
    session: Session,
    name: str,
    work_pool_name: str | None = None,
    description: str | None = None,
    concurrency_limit: int | None = None,
    priority: int | None = None,
    *,
    is_paused: bool = False,
) -> Operation[WorkQueue]:
    """Create a queue in a work pool (default priority: after its other queues)."""
    pool_name = require_pool_name(work_pool_name, "create_work_queue")
    body = WorkQueueCreate(
        name=name,
        description=description or "",
        is_paused=is_paused,
        concurrency_limit=concurrency_limit,
        priority=priority,
    )
    response = yield Request(
        "POST",
        f"{_pool_path(pool_name)}/queues",
        json=body.model_dump(mode="json"),
        is_idempotent=False,
    )
    return WorkQueue.model_validate(response.json())


def read_work_queue(session: Session, id: Any) -> Operation[WorkQueue]:
    """One work queue by id; raises ObjectNotFound."""
    response = yield Request("GET", f"/work_queues/{_id(id, 'work queue')}")
    return WorkQueue.model_validate(response.json())


def read_work_queue_by_name(
    session: Session, name: str, work_pool_name: str | None = None
) -> Operation[WorkQueue]:
    """A queue by name, in ``work_pool_name`` (or the only pool that has one so named)."""
    if work_pool_name is None:
        path = f"/work_queues/name/{quote(name, safe='')}"
    else:
        path = f"{_pool_path(work_pool_name)}/queues/{quote(name, safe='')}"
    response = yield Request("GET", path)
    return WorkQueue.model_validate(response.json())


def read_work_queues(
    session: Session,
    work_pool_name: str | None = None,
    work_queue_filter: WorkQueueFilter | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Operation[list[WorkQueue]]:
    """Queues of one pool (or of every pool), by pool, priority and name."""
    path = (
        "/work_queues/filter"
        if work_pool_name is None
        else f"{_pool_path(work_pool_name)}/queues/filter"
    )
    body = {"work_queues": _dump(work_queue_filter)}
    return (yield from _paged(path, body, _limit(limit), offset, WorkQueue.model_validate))


def update_work_queue(session: Session, id: Any, /, **fields: Any) -> Operation[None]:
    """Change a queue: ``name``, ``description``, ``is_paused``, ``concurrency_limit``
    (None clears it) or ``priority``; raises ObjectNotFound."""
    update = work_queue_update(fields)
    yield Request("PATCH", f"/work_queues/{_id(id, 'work queue')}", json=_dump(update))


def delete_work_queue_by_id(session: Session, id: Any) -> Operation[None]:
    """Delete a queue (not a pool's default queue); raises ObjectNotFound."""
    yield Request("DELETE", f"/work_queues/{_id(id, 'work queue')}")


# -- workers ------------------------------------------------------------------------


def send_worker_heartbeat(
    session: Session,
    work_pool_name: str,
    worker_name: str,
    heartbeat_interval_seconds: float | None = None,
) -> Operation[None]:
    """Record that the worker is alive (creating it on its first heartbeat)."""
    body = {
        "name": worker_name,
        "heartbeat_interval_seconds": heartbeat_interval(heartbeat_interval_seconds),
    }
    yield Request("POST", f"{_pool_path(work_pool_name)}/workers/heartbeat", json=body)


def read_workers_for_work_pool(
    session: Session,
    work_pool_name: str,
    worker_filter: WorkerFilter | None = None,
    offset: int | None = None,
    limit: int | None = None,
) -> Operation[list[Worker]]:
    """A pool's workers, most recent heartbeat first; raises ObjectNotFound."""
    path = f"{_pool_path(work_pool_name)}/workers/filter"
    body = {"workers": _dump(worker_filter)}
    return (yield from _paged(path, body, _limit(limit), offset or 0, Worker.model_validate))


def get_scheduled_flow_runs_for_work_pool(
    session: Session,
    work_pool_name: str,
    work_queue_names: Sequence[str] | None = None,
    scheduled_before: dt.datetime | None = None,
    limit: int | None = None,
    wait_seconds: float = 0.0,
) -> Operation[list[WorkerFlowRunResponse]]:
    """The Scheduled runs a worker of the pool may start now, in the order to start them.

    By queue priority, then expected start time, within the queues' and the
    pool's concurrency limits; nothing from a paused pool or queue. Claim
    each with ``set_flow_run_state(id, Pending())`` and start it only on ACCEPT.
    With ``wait_seconds`` (legato; at most 25), when no run is ready, the
    server waits up to that long for one (a long poll) before answering [].
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    wait = poll_wait(wait_seconds)
    body: dict[str, Any] = {
        "work_queue_names": None if work_queue_names is None else list(work_queue_names),
        "scheduled_before": None if scheduled_before is None else scheduled_before.isoformat(),
        "limit": limit,
    }
    if wait:
        body["wait_seconds"] = wait
    # Polling marks the queues polled: a write, but sending it twice does no harm.
    response = yield Request(
        "POST", f"{_pool_path(work_pool_name)}/get_scheduled_flow_runs", json=body
    )
    return [WorkerFlowRunResponse.model_validate(item) for item in response.json()]
