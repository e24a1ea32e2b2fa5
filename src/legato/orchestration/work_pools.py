"""Work pools: create (with their ``default`` queue), read with their status, filter,
update, delete.

A pool is where and how deployed runs execute: its workers (of one ``type``)
poll it for scheduled runs, queue by queue in priority order, within the
pool's and each queue's concurrency limit (``work_pool_runs``). Rows come back
as plain dicts with the ``work_pools`` columns, ``status`` computed at the
time of the read (``_liveness``).

Deleting a pool deletes its queues and workers; the flow runs placed in it
keep their ``work_pool_name``/``work_queue_name`` (history), and no worker
picks them up any more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from legato.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from legato.client.schemas.filters import WorkPoolFilter
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.orchestration import _runs
from legato.orchestration._liveness import pool_status
from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, fetch_all, fetch_one, is_in, page
from legato.storage.schema import work_pools, work_queues, workers

__all__ = [
    "DEFAULT_QUEUE_NAME",
    "create_work_pool",
    "delete_work_pool",
    "filter_work_pools",
    "insert_unique",
    "mark_work_pool_ready",
    "read_work_pool",
    "read_work_pool_by_id",
    "require_work_pool",
    "update_work_pool",
    "work_pool_not_found",
]

DEFAULT_QUEUE_NAME = "default"
"""The queue every pool is created with; runs placed in a pool without a queue go there."""


def _select(now: float) -> sa.Select[Any]:
    columns = [column for column in work_pools.c if column.name != "status"]
    return sa.select(*columns, pool_status(now).label("status"))


def _now(now: float | None) -> float:
    return _runs.now() if now is None else now


def work_pool_not_found(name: str) -> ObjectNotFound:
    """The error for a pool name that names no pool, with the command that makes one."""
    return ObjectNotFound(
        f"No work pool named {name!r}. Create it with `legato work-pool create {name} "
        "--type process`, or list the pools with `legato work-pool ls`."
    )


def read_work_pool(connection: Connection, name: str, now: float | None = None) -> Row | None:
    """The pool named ``name`` (status at ``now``), None if there is none."""
    statement = _select(_now(now)).where(work_pools.c.name == name)
    return fetch_one(connection, statement)


def read_work_pool_by_id(
    connection: Connection, pool_id: Any, now: float | None = None
) -> Row | None:
    """One pool by id, None if there is none."""
    return fetch_one(connection, _select(_now(now)).where(work_pools.c.id == pool_id))


def require_work_pool(connection: Connection, name: str, now: float | None = None) -> Row:
    """The pool named ``name``; ObjectNotFound naming the command that creates it."""
    row = read_work_pool(connection, name, now)
    if row is None:
        raise work_pool_not_found(name)
    return row


def _conditions(model: WorkPoolFilter | None) -> list[sa.ColumnElement[bool]]:
    if model is None:
        return []
    conditions = []
    if model.id is not None:
        conditions += is_in(work_pools.c.id, model.id.any_)
    if model.name is not None:
        conditions += is_in(work_pools.c.name, model.name.any_)
    if model.type is not None:
        conditions += is_in(work_pools.c.type, model.type.any_)
    if conditions and model.operator == "or_":
        return [sa.or_(*conditions)]
    return conditions


def filter_work_pools(
    connection: Connection,
    work_pool_filter: WorkPoolFilter | None = None,
    *,
    limit: int = 200,
    offset: int = 0,
    now: float | None = None,
) -> list[Row]:
    """Pools matching the filter, by name."""
    statement = (
        _select(_now(now))
        .where(*_conditions(work_pool_filter))
        .order_by(bytewise(work_pools.c.name))
    )
    return fetch_all(connection, page(statement, limit, offset))


def insert_unique(
    connection: Connection, statement: sa.Executable, error: Callable[[], Exception]
) -> None:
    """Run an INSERT; ``error()`` instead of the database's error when a unique key is taken.

    In a savepoint, so that the caller's transaction goes on (PostgreSQL
    aborts a transaction on any error); on SQLite writers are serialized and
    the callers' checks make a conflict rare, but the rule is the same.
    """
    try:
        with connection.begin_nested():
            connection.execute(statement)
    except IntegrityError as exc:
        raise error() from exc


def _already_exists(name: str) -> ObjectAlreadyExists:
    return ObjectAlreadyExists(
        f"A work pool named {name!r} exists already. Pass overwrite=True (`--overwrite`) to "
        "update it, or choose another name."
    )


def create_work_pool(
    connection: Connection,
    pool: WorkPoolCreate,
    *,
    overwrite: bool = False,
    now: float | None = None,
) -> Row:
    """Create a pool with its ``default`` queue; ObjectAlreadyExists if the name is taken.

    With ``overwrite``, an existing pool of the same type takes the new
    description, template, paused flag and limit instead; its type cannot change.
    """
    at = _now(now)
    existing = read_work_pool(connection, pool.name, at)
    if existing is not None:
        if not overwrite:
            raise _already_exists(pool.name)
        return _overwrite(connection, existing, pool, at)
    pool_id, queue_id = _runs.new_id(), _runs.new_id()
    values = {
        **pool.model_dump(include={"name", "type", "description", "is_paused"}),
        "base_job_template": pool.base_job_template,
        "concurrency_limit": pool.concurrency_limit,
        "status": "PAUSED" if pool.is_paused else "NOT_READY",
        "id": pool_id,
        "default_queue_id": queue_id,
        "created": at,
        "updated": at,
    }
    insert_unique(
        connection, sa.insert(work_pools).values(values), lambda: _already_exists(pool.name)
    )
    queue: dict[str, Any] = {"id": queue_id, "work_pool_id": pool_id, "priority": 1}
    queue |= {"name": DEFAULT_QUEUE_NAME, "description": "The pool's default queue."}
    queue |= {"created": at, "updated": at}
    connection.execute(sa.insert(work_queues).values(queue))
    return _reread(connection, pool.name, at)


def _overwrite(connection: Connection, existing: Row, pool: WorkPoolCreate, at: float) -> Row:
    if existing["type"] != pool.type:
        raise ParameterError(
            f"Work pool {pool.name!r} has type {existing['type']!r}, not {pool.type!r}: a pool's "
            "type cannot change. Delete the pool first, or create one with another name."
        )
    update = WorkPoolUpdate(
        description=pool.description,
        is_paused=pool.is_paused,
        base_job_template=pool.base_job_template,
        concurrency_limit=pool.concurrency_limit,
    )
    updated = update_work_pool(connection, pool.name, update, now=at)
    if updated is None:  # pragma: no cover - read in this transaction
        raise work_pool_not_found(pool.name)
    return updated


def _reread(connection: Connection, name: str, at: float) -> Row:
    row = read_work_pool(connection, name, at)
    if row is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"work pool {name!r} vanished inside its own transaction")
    return row


def update_work_pool(
    connection: Connection, name: str, update: WorkPoolUpdate, now: float | None = None
) -> Row | None:
    """Change a pool (fields set in ``update``); None if there is no such pool.

    ``is_paused=None`` is ignored; ``concurrency_limit=None`` clears the limit.
    """
    at = _now(now)
    given = update.model_dump(exclude_unset=True)
    values: dict[str, Any] = {"updated": at}
    for key in ("description", "concurrency_limit"):
        if key in given:
            values[key] = given[key]
    if given.get("base_job_template") is not None:
        values["base_job_template"] = update.base_job_template
    if given.get("is_paused") is not None:
        values["is_paused"] = update.is_paused
        values["status"] = "PAUSED" if update.is_paused else "NOT_READY"
    result = connection.execute(
        sa.update(work_pools).where(work_pools.c.name == name).values(**values)
    )
    return _reread(connection, name, at) if result.rowcount else None


def delete_work_pool(connection: Connection, name: str) -> bool:
    """Delete a pool with its queues and workers; False if there was none."""
    pool_id = connection.execute(
        sa.select(work_pools.c.id).where(work_pools.c.name == name)
    ).scalar_one_or_none()
    if pool_id is None:
        return False
    # Children first (queues before the pool: the order a claim locks them in).
    connection.execute(sa.delete(workers).where(workers.c.work_pool_id == pool_id))
    connection.execute(sa.delete(work_queues).where(work_queues.c.work_pool_id == pool_id))
    connection.execute(sa.delete(work_pools).where(work_pools.c.id == pool_id))
    return True


def mark_work_pool_ready(connection: Connection, pool_id: Any, now: float) -> None:
    """Record that a worker of the pool is alive (the stored ``status``; reads compute theirs).

    Writes only when the stored status changes (NOT_READY to READY), so a
    heartbeat or a poll usually costs no write to the pool's row.
    """
    connection.execute(
        sa.update(work_pools)
        .where(
            work_pools.c.id == pool_id,
            work_pools.c.status == "NOT_READY",
            work_pools.c.is_paused.is_(False),
        )
        .values(status="READY", updated=now)
    )
