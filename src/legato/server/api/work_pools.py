"""/api/work_pools and /api/work_queues: pools, their queues and workers, and the
scheduled runs a worker polls for (Prefect 3's routes and shapes).

Pools and a pool's queues are addressed by name (``/work_pools/{name}``,
``/work_pools/{name}/queues/{queue_name}``); ``/work_queues/{id}`` addresses a
queue by id. 404 for an unknown pool or queue, 409 for a name that is taken,
422 for a value refused (a name with '/', a negative limit, a job template
without ``job_configuration``...).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import Field
from sqlalchemy.engine import Connection

from legato.client._embedded_work_pools import MAX_POLL_WAIT_SECONDS
from legato.client.schemas.actions import (
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from legato.client.schemas.filters import WorkerFilter, WorkPoolFilter, WorkQueueFilter
from legato.client.schemas.objects import (
    FlowRun,
    Worker,
    WorkerFlowRunResponse,
    WorkPool,
    WorkQueue,
)
from legato.exceptions import ObjectNotFound
from legato.orchestration import work_pool_runs, work_pools, work_queues, workers
from legato.orchestration.store import Store, write_generation
from legato.server.api._common import Body, Limit, Offset, StoreDependency, run_store_work

router = APIRouter(prefix="/work_pools", tags=["Work pools"])

RECHECK_SECONDS = 1.0
WATCH_SECONDS = 0.02
queues_router = APIRouter(prefix="/work_queues", tags=["Work queues"])

Responses = dict[int | str, dict[str, Any]]

_POOL_NOT_FOUND: Responses = {404: {"description": "No work pool has this name"}}
_QUEUE_NOT_FOUND: Responses = {404: {"description": "No such work pool, or no such queue in it"}}
_TAKEN: Responses = {409: {"description": "The name is taken"}}


class WorkPoolFilterBody(Body):
    work_pools: WorkPoolFilter | None = None
    limit: Limit = 200
    offset: Offset = 0


class WorkQueueFilterBody(Body):
    work_queues: WorkQueueFilter | None = None
    limit: Limit = 200
    offset: Offset = 0


class WorkerFilterBody(Body):
    workers: WorkerFilter | None = None
    limit: Limit = 200
    offset: Offset = 0


class WorkerHeartbeatBody(Body):
    name: str = Field(description="The worker's name (unique within the pool)")
    heartbeat_interval_seconds: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Seconds between the worker's heartbeats"
    )


class ScheduledRunsBody(Body):
    work_queue_names: list[str] | None = Field(
        default=None, description="Only these queues of the pool (default: all)"
    )
    scheduled_before: dt.datetime | None = None
    scheduled_after: dt.datetime | None = None
    limit: int | None = Field(default=None, ge=0, le=2**31 - 1)
    wait_seconds: float = Field(
        default=0.0,
        ge=0.0,
        le=MAX_POLL_WAIT_SECONDS,
        description="legato: when no run is ready, wait up to this long for one (a long poll)",
    )


def _queue_not_found(pool_name: str, queue_name: str) -> ObjectNotFound:
    return ObjectNotFound(f"Work pool {pool_name!r} has no queue named {queue_name!r}.")


# -- work pools ---------------------------------------------------------------------


@router.post("/", status_code=status.HTTP_201_CREATED, responses=_TAKEN)
def create_work_pool(body: WorkPoolCreate, store: StoreDependency) -> WorkPool:
    """Create a work pool with its ``default`` queue; 409 when the name is taken."""
    return WorkPool.model_validate(store.write(lambda c: work_pools.create_work_pool(c, body)))


@router.post("/filter")
def read_work_pools(
    store: StoreDependency, body: WorkPoolFilterBody | None = None
) -> list[WorkPool]:
    """Work pools matching the filter, by name, one page."""
    body = body or WorkPoolFilterBody()
    rows = store.read(
        lambda c: work_pools.filter_work_pools(
            c, body.work_pools, limit=body.limit, offset=body.offset
        )
    )
    return [WorkPool.model_validate(row) for row in rows]


@router.get("/{name}", responses=_POOL_NOT_FOUND)
def read_work_pool(name: str, store: StoreDependency) -> WorkPool:
    """One work pool, with its status now."""
    return WorkPool.model_validate(store.read(lambda c: work_pools.require_work_pool(c, name)))


@router.patch("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_POOL_NOT_FOUND)
def update_work_pool(name: str, body: WorkPoolUpdate, store: StoreDependency) -> None:
    """Change a work pool (fields left out keep their value)."""
    if store.write(lambda c: work_pools.update_work_pool(c, name, body)) is None:
        raise work_pools.work_pool_not_found(name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_POOL_NOT_FOUND)
def delete_work_pool(name: str, store: StoreDependency) -> None:
    """Delete a work pool with its queues and workers."""
    if not store.write(lambda c: work_pools.delete_work_pool(c, name)):
        raise work_pools.work_pool_not_found(name)


@router.post(
    "/{name}/get_scheduled_flow_runs",
    response_model=list[WorkerFlowRunResponse],
    responses=_POOL_NOT_FOUND,
)
async def get_scheduled_flow_runs(
    name: str, store: StoreDependency, body: ScheduledRunsBody | None = None
) -> Response:
    """The Scheduled runs a worker may start now: by queue priority, then expected start
    time, within the concurrency limits; nothing from a paused pool or queue."""
    body = body or ScheduledRunsBody()
    items = await _scheduled_runs(store, name, body)
    responses = [
        WorkerFlowRunResponse(
            work_pool_id=item["work_pool_id"],
            work_queue_id=item["work_queue_id"],
            flow_run=FlowRun.from_row(item["flow_run"]),
        ).model_dump(mode="json")
        for item in items
    ]
    # Serialized here: FastAPI would validate the models against themselves again.
    return Response(json.dumps(responses), media_type="application/json")


async def _scheduled_runs(store: Store, name: str, body: ScheduledRunsBody) -> list[Any]:
    """The pool's ready runs; with ``wait_seconds``, waits for some to be ready (a long poll).

    While waiting it looks again as soon as this process commits a write (a run
    created or rescheduled through this server, or by its scheduler), and at
    least every ``RECHECK_SECONDS`` for writes by other processes.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + body.wait_seconds
    while True:
        generation = write_generation()
        items = await run_store_work(
            store,
            lambda: store.write(
                lambda c: work_pool_runs.get_scheduled_flow_runs(
                    c,
                    name,
                    work_queue_names=body.work_queue_names,
                    scheduled_before=body.scheduled_before,
                    scheduled_after=body.scheduled_after,
                    limit=body.limit,
                ),
                quiet=True,
            ),
        )
        remaining = deadline - loop.time()
        if items or remaining <= 0:
            return items
        until = loop.time() + min(remaining, RECHECK_SECONDS)
        while write_generation() == generation and loop.time() < until:
            await asyncio.sleep(WATCH_SECONDS)


# -- workers ------------------------------------------------------------------------


@router.post(
    "/{name}/workers/heartbeat",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_POOL_NOT_FOUND,
)
async def worker_heartbeat(name: str, body: WorkerHeartbeatBody, store: StoreDependency) -> None:
    """Record that a worker of the pool is alive (its first heartbeat creates it)."""
    await run_store_work(
        store,
        lambda: store.write(
            lambda c: workers.send_worker_heartbeat(
                c, name, body.name, body.heartbeat_interval_seconds
            )
        ),
    )


@router.post("/{name}/workers/filter", responses=_POOL_NOT_FOUND)
def read_workers(
    name: str, store: StoreDependency, body: WorkerFilterBody | None = None
) -> list[Worker]:
    """The pool's workers, most recent heartbeat first."""
    body = body or WorkerFilterBody()
    rows = store.read(
        lambda c: workers.filter_workers(
            c, name, body.workers, limit=body.limit, offset=body.offset
        )
    )
    return [Worker.model_validate(row) for row in rows]


# -- a pool's queues ------------------------------------------------------------------


@router.post(
    "/{name}/queues",
    status_code=status.HTTP_201_CREATED,
    responses={**_POOL_NOT_FOUND, **_TAKEN},
)
def create_work_queue(name: str, body: WorkQueueCreate, store: StoreDependency) -> WorkQueue:
    """Create a queue in the pool; 409 when the pool has one of that name."""
    row = store.write(lambda c: work_queues.create_work_queue(c, name, body))
    return WorkQueue.model_validate(row)


# The same, with a trailing slash (Prefect's clients send either).
router.add_api_route(
    "/{name}/queues/",
    create_work_queue,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    responses={**_POOL_NOT_FOUND, **_TAKEN},
    include_in_schema=False,
)


@router.post("/{name}/queues/filter", responses=_POOL_NOT_FOUND)
def read_pool_work_queues(
    name: str, store: StoreDependency, body: WorkQueueFilterBody | None = None
) -> list[WorkQueue]:
    """The pool's queues, by priority then name."""
    body = body or WorkQueueFilterBody()
    rows = store.read(
        lambda c: work_queues.filter_work_queues(
            c, name, body.work_queues, limit=body.limit, offset=body.offset
        )
    )
    return [WorkQueue.model_validate(row) for row in rows]


@router.get("/{name}/queues/{queue_name}", responses=_QUEUE_NOT_FOUND)
def read_pool_work_queue(name: str, queue_name: str, store: StoreDependency) -> WorkQueue:
    """One queue of the pool."""
    row = store.read(lambda c: work_queues.read_work_queue_by_name(c, queue_name, name))
    if row is None:
        raise _queue_not_found(name, queue_name)
    return WorkQueue.model_validate(row)


@router.patch(
    "/{name}/queues/{queue_name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_QUEUE_NOT_FOUND, **_TAKEN},
)
def update_pool_work_queue(
    name: str, queue_name: str, body: WorkQueueUpdate, store: StoreDependency
) -> None:
    """Change a queue of the pool (fields left out keep their value)."""

    def work(connection: Connection) -> bool:
        queue = work_queues.read_work_queue_by_name(connection, queue_name, name)
        if queue is None:
            return False
        return work_queues.update_work_queue(connection, queue["id"], body) is not None

    if not store.write(work):
        raise _queue_not_found(name, queue_name)


@router.delete(
    "/{name}/queues/{queue_name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_QUEUE_NOT_FOUND,
)
def delete_pool_work_queue(name: str, queue_name: str, store: StoreDependency) -> None:
    """Delete a queue of the pool (not its default queue: 422)."""

    def work(connection: Connection) -> bool:
        queue = work_queues.read_work_queue_by_name(connection, queue_name, name)
        return queue is not None and work_queues.delete_work_queue(connection, queue["id"])

    if not store.write(work):
        raise _queue_not_found(name, queue_name)


# -- queues by id, and across pools ---------------------------------------------------

_ID_NOT_FOUND: Responses = {404: {"description": "No work queue has this id"}}


def _no_queue(queue_id: uuid.UUID) -> ObjectNotFound:
    return ObjectNotFound(f"No work queue with id '{queue_id}'.")


@queues_router.post("/filter")
def read_work_queues(
    store: StoreDependency, body: WorkQueueFilterBody | None = None
) -> list[WorkQueue]:
    """Queues of every pool, by pool, priority and name."""
    body = body or WorkQueueFilterBody()
    rows = store.read(
        lambda c: work_queues.filter_work_queues(
            c, None, body.work_queues, limit=body.limit, offset=body.offset
        )
    )
    return [WorkQueue.model_validate(row) for row in rows]


@queues_router.get(
    "/name/{name}",
    responses={404: {"description": "No pool has a queue of this name"}},
)
def read_work_queue_by_name(name: str, store: StoreDependency) -> WorkQueue:
    """The queue of this name, when one pool has one (422 when several do)."""
    row = store.read(lambda c: work_queues.read_work_queue_by_name(c, name))
    if row is None:
        raise ObjectNotFound(f"No work pool has a queue named {name!r}.")
    return WorkQueue.model_validate(row)


@queues_router.get("/{id}", responses=_ID_NOT_FOUND)
def read_work_queue(id: uuid.UUID, store: StoreDependency) -> WorkQueue:
    """One queue by id."""
    row = store.read(lambda c: work_queues.read_work_queue(c, id))
    if row is None:
        raise _no_queue(id)
    return WorkQueue.model_validate(row)


@queues_router.patch(
    "/{id}", status_code=status.HTTP_204_NO_CONTENT, responses={**_ID_NOT_FOUND, **_TAKEN}
)
def update_work_queue(id: uuid.UUID, body: WorkQueueUpdate, store: StoreDependency) -> None:
    """Change a queue (fields left out keep their value)."""
    if store.write(lambda c: work_queues.update_work_queue(c, id, body)) is None:
        raise _no_queue(id)


@queues_router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ID_NOT_FOUND)
def delete_work_queue(id: uuid.UUID, store: StoreDependency) -> None:
    """Delete a queue (not a pool's default queue: 422)."""
    if not store.write(lambda c: work_queues.delete_work_queue(c, id)):
        raise _no_queue(id)
