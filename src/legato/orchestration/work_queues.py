"""Work queues: the queues of a work pool, each with a priority (1 is the highest)
and an optional concurrency limit.

Rows are plain dicts: the ``work_queues`` columns, the pool's name as
``work_pool_name``, and ``status`` computed at the time of the read. A queue
named by a run or a deployment that does not exist yet is created on demand
(``resolve_work_queue``), as Prefect 3 does; a pool that does not exist is an
ObjectNotFound naming the command that creates it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas._work_pools import validate_name
from legato.client.schemas.actions import WorkQueueCreate, WorkQueueUpdate
from legato.client.schemas.filters import WorkQueueFilter
from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.orchestration import _runs
from legato.orchestration._liveness import queue_status
from legato.orchestration.work_pools import (
    DEFAULT_QUEUE_NAME,
    insert_unique,
    require_work_pool,
)
from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, fetch_all, fetch_one, is_in, page
from legato.storage.schema import flow_runs, work_pools, work_queues

__all__ = [
    "create_work_queue",
    "delete_work_queue",
    "filter_work_queues",
    "read_work_queue",
    "read_work_queue_by_name",
    "resolve_work_queue",
    "update_work_queue",
]


def _now(now: float | None) -> float:
    return _runs.now() if now is None else now


def _select(now: float) -> sa.Select[Any]:
    return sa.select(
        work_queues,
        work_pools.c.name.label("work_pool_name"),
        queue_status(now).label("status"),
    ).select_from(work_queues.join(work_pools, work_pools.c.id == work_queues.c.work_pool_id))


def _order() -> list[Any]:
    return [
        bytewise(work_pools.c.name),
        work_queues.c.priority,
        bytewise(work_queues.c.name),
    ]


def read_work_queue(connection: Connection, queue_id: Any, now: float | None = None) -> Row | None:
    """One queue by id, None if there is none."""
    return fetch_one(connection, _select(_now(now)).where(work_queues.c.id == queue_id))


def read_work_queue_by_name(
    connection: Connection,
    name: str,
    work_pool_name: str | None = None,
    now: float | None = None,
) -> Row | None:
    """The queue ``name`` of a pool, None if the pool has none such.

    Without a pool: the one queue of that name in any pool (ParameterError
    if several pools have one). A pool that does not exist: ObjectNotFound.
    """
    at = _now(now)
    statement = _select(at).where(work_queues.c.name == name).order_by(*_order())
    if work_pool_name is not None:
        pool = require_work_pool(connection, work_pool_name, at)
        return fetch_one(connection, statement.where(work_queues.c.work_pool_id == pool["id"]))
    rows = fetch_all(connection, statement.limit(2))
    if len(rows) > 1:
        raise ParameterError(
            f"Several work pools have a queue named {name!r} (e.g. "
            f"{rows[0]['work_pool_name']!r} and {rows[1]['work_pool_name']!r}). "
            "Name the pool too (work_pool_name=..., `--pool`)."
        )
    return rows[0] if rows else None


def _conditions(model: WorkQueueFilter | None) -> list[sa.ColumnElement[bool]]:
    if model is None:
        return []
    conditions = []
    if model.id is not None:
        conditions += is_in(work_queues.c.id, model.id.any_)
    if model.name is not None:
        conditions += is_in(work_queues.c.name, model.name.any_)
        if model.name.startswith_ is not None:
            prefixes = [
                work_queues.c.name.startswith(prefix, autoescape=True)
                for prefix in model.name.startswith_
            ]
            conditions.append(sa.or_(sa.false(), *prefixes))
    if conditions and model.operator == "or_":
        return [sa.or_(*conditions)]
    return conditions


def filter_work_queues(
    connection: Connection,
    work_pool_name: str | None = None,
    work_queue_filter: WorkQueueFilter | None = None,
    *,
    limit: int = 200,
    offset: int = 0,
    now: float | None = None,
) -> list[Row]:
    """Queues of one pool (or of every pool), by pool, priority and name."""
    at = _now(now)
    statement = _select(at).where(*_conditions(work_queue_filter)).order_by(*_order())
    if work_pool_name is not None:
        pool = require_work_pool(connection, work_pool_name, at)
        statement = statement.where(work_queues.c.work_pool_id == pool["id"])
    return fetch_all(connection, page(statement, limit, offset))


def _already_exists(pool_name: str, name: str) -> ObjectAlreadyExists:
    return ObjectAlreadyExists(
        f"Work pool {pool_name!r} has a queue named {name!r} already. Choose another name, "
        "or change that queue (update_work_queue, `legato work-queue ...`)."
    )


def _next_priority(connection: Connection, pool_id: Any) -> int:
    """After every queue of the pool: one more than the largest priority number."""
    largest = connection.execute(
        sa.select(sa.func.max(work_queues.c.priority)).where(work_queues.c.work_pool_id == pool_id)
    ).scalar_one_or_none()
    return 1 if largest is None else int(largest) + 1


def create_work_queue(
    connection: Connection,
    work_pool_name: str,
    queue: WorkQueueCreate,
    now: float | None = None,
) -> Row:
    """Create a queue in a pool; ObjectAlreadyExists if the pool has one of that name."""
    at = _now(now)
    pool = require_work_pool(connection, work_pool_name, at)
    if read_work_queue_by_name(connection, queue.name, work_pool_name, at) is not None:
        raise _already_exists(work_pool_name, queue.name)
    queue_id = _runs.new_id()
    values = {
        **queue.model_dump(include={"name", "description", "is_paused", "concurrency_limit"}),
        "id": queue_id,
        "work_pool_id": pool["id"],
        "priority": queue.priority or _next_priority(connection, pool["id"]),
        "created": at,
        "updated": at,
    }
    insert_unique(
        connection,
        sa.insert(work_queues).values(values),
        lambda: _already_exists(work_pool_name, queue.name),
    )
    return _reread(connection, queue_id, at)


def _reread(connection: Connection, queue_id: Any, at: float) -> Row:
    row = read_work_queue(connection, queue_id, at)
    if row is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"work queue {queue_id} vanished inside its own transaction")
    return row


def update_work_queue(
    connection: Connection, queue_id: Any, update: WorkQueueUpdate, now: float | None = None
) -> Row | None:
    """Change a queue (fields set in ``update``); None if there is no such queue.

    ``None`` for ``name``, ``is_paused`` or ``priority`` is ignored;
    ``concurrency_limit=None`` clears the limit. A new name also renames the
    queue in its flow runs' ``work_queue_name``.
    """
    at = _now(now)
    current = read_work_queue(connection, queue_id, at)
    if current is None:
        return None
    given = update.model_dump(exclude_unset=True)
    values: dict[str, Any] = {
        key: value
        for key, value in given.items()
        if value is not None or key in ("concurrency_limit", "description")
    }
    new_name = values.get("name")
    if new_name is not None and new_name != current["name"]:
        _rename(connection, current, new_name)
    values["updated"] = at
    connection.execute(
        sa.update(work_queues).where(work_queues.c.id == current["id"]).values(**values)
    )
    return _reread(connection, current["id"], at)


def _rename(connection: Connection, queue: Row, new_name: str) -> None:
    taken = connection.execute(
        sa.select(work_queues.c.id).where(
            work_queues.c.work_pool_id == queue["work_pool_id"], work_queues.c.name == new_name
        )
    ).first()
    if taken is not None:
        raise _already_exists(queue["work_pool_name"], new_name)
    # The runs first, then the queue row: the order a claim locks them in.
    connection.execute(
        sa.update(flow_runs)
        .where(flow_runs.c.work_queue_id == queue["id"])
        .values(work_queue_name=new_name)
    )


def delete_work_queue(connection: Connection, queue_id: Any) -> bool:
    """Delete a queue; False if there was none. A pool's default queue cannot go."""
    queue = read_work_queue(connection, queue_id)
    if queue is None:
        return False
    default_id = connection.execute(
        sa.select(work_pools.c.default_queue_id).where(work_pools.c.id == queue["work_pool_id"])
    ).scalar_one_or_none()
    if default_id == queue["id"]:
        raise ParameterError(
            f"Queue {queue['name']!r} is the default queue of work pool "
            f"{queue['work_pool_name']!r} and cannot be deleted; delete the pool instead."
        )
    connection.execute(sa.delete(work_queues).where(work_queues.c.id == queue["id"]))
    return True


def resolve_work_queue(
    connection: Connection,
    work_pool_name: str,
    work_queue_name: str | None = None,
    now: float | None = None,
) -> Row:
    """The queue a run placed in ``work_pool_name`` goes to, created if it does not exist.

    No queue name: the pool's default queue. A pool that does not exist:
    ObjectNotFound naming `legato work-pool create NAME --type process`.
    """
    at = _now(now)
    pool = require_work_pool(connection, work_pool_name, at)
    if work_queue_name is None:
        queue = read_work_queue(connection, pool["default_queue_id"], at)
        if queue is not None:
            return queue
        work_queue_name = DEFAULT_QUEUE_NAME  # the default queue's row is gone: make one
    queue = read_work_queue_by_name(connection, work_queue_name, work_pool_name, at)
    if queue is not None:
        return queue
    body = WorkQueueCreate(name=validate_name(work_queue_name, "work queue"))
    return create_work_queue(connection, work_pool_name, body, at)
