"""Workers: the processes that poll a work pool, known by their heartbeats.

A heartbeat creates the worker's row (one per pool and worker name) or
refreshes it; a worker is ONLINE while its last heartbeat is younger than
three of its intervals (``_liveness``), which also makes its pool READY.
Rows are plain dicts: the ``workers`` columns with ``status`` computed at the
time of the read.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas._work_pools import validate_name
from legato.client.schemas.filters import WorkerFilter
from legato.exceptions import ParameterError
from legato.orchestration import _runs
from legato.orchestration._liveness import worker_status
from legato.orchestration.work_pools import (
    insert_unique,
    mark_work_pool_ready,
    require_work_pool,
)
from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, fetch_all, fetch_one, page
from legato.storage.schema import workers

__all__ = ["filter_workers", "send_worker_heartbeat"]

_MAX_INTERVAL_SECONDS = 2**31 - 1


def _now(now: float | None) -> float:
    return _runs.now() if now is None else now


def _select(now: float) -> sa.Select[Any]:
    columns = [column for column in workers.c if column.name != "status"]
    return sa.select(*columns, worker_status(now).label("status"))


def _check_interval(seconds: int | None) -> int | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ParameterError(f"heartbeat_interval_seconds is a whole number, got {seconds!r}.")
    if not 1 <= seconds <= _MAX_INTERVAL_SECONDS:
        raise ParameterError(
            f"heartbeat_interval_seconds is at least 1 (and at most {_MAX_INTERVAL_SECONDS}), "
            f"got {seconds}."
        )
    return seconds


def send_worker_heartbeat(
    connection: Connection,
    work_pool_name: str,
    worker_name: str,
    heartbeat_interval_seconds: int | None = None,
    now: float | None = None,
) -> Row:
    """Record that ``worker_name`` of the pool is alive at ``now``; returns its row.

    The first heartbeat of a name creates the worker; later ones refresh its
    time (and its interval, when given). ObjectNotFound for an unknown pool.
    """
    at = _now(now)
    validate_name(worker_name, "worker")
    interval = _check_interval(heartbeat_interval_seconds)
    pool = require_work_pool(connection, work_pool_name, at)
    values: dict[str, Any] = {"last_heartbeat_time": at, "status": "ONLINE", "updated": at}
    if interval is not None:
        values["heartbeat_interval_seconds"] = interval
    this_worker = (workers.c.work_pool_id == pool["id"], workers.c.name == worker_name)
    refreshed = connection.execute(sa.update(workers).where(*this_worker).values(**values))
    if not refreshed.rowcount:
        row = {**values, "id": _runs.new_id(), "work_pool_id": pool["id"], "name": worker_name}
        row["created"] = at
        insert_unique(
            connection,
            sa.insert(workers).values(row),
            lambda: ParameterError(  # pragma: no cover - two heartbeats of one name at once
                f"Worker {worker_name!r} sent two first heartbeats at once; send it again."
            ),
        )
    mark_work_pool_ready(connection, pool["id"], at)
    found = fetch_one(connection, _select(at).where(*this_worker))
    if found is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"worker {worker_name!r} vanished inside its own transaction")
    return found


def _conditions(model: WorkerFilter | None, now: float) -> list[sa.ColumnElement[bool]]:
    if model is None:
        return []
    conditions: list[sa.ColumnElement[bool]] = []
    heartbeat = model.last_heartbeat_time
    if heartbeat is not None and heartbeat.before_ is not None:
        conditions.append(workers.c.last_heartbeat_time <= heartbeat.before_)
    if heartbeat is not None and heartbeat.after_ is not None:
        conditions.append(workers.c.last_heartbeat_time >= heartbeat.after_)
    if model.status is not None:
        status = worker_status(now)
        if model.status.any_ is not None:
            conditions.append(status.in_([value.value for value in model.status.any_]))
        if model.status.not_any_:
            conditions.append(status.not_in([value.value for value in model.status.not_any_]))
    if conditions and model.operator == "or_":
        return [sa.or_(*conditions)]
    return conditions


def filter_workers(
    connection: Connection,
    work_pool_name: str,
    worker_filter: WorkerFilter | None = None,
    *,
    limit: int = 200,
    offset: int = 0,
    now: float | None = None,
) -> list[Row]:
    """A pool's workers, most recent heartbeat first; ObjectNotFound for an unknown pool."""
    at = _now(now)
    pool = require_work_pool(connection, work_pool_name, at)
    statement = (
        _select(at)
        .where(workers.c.work_pool_id == pool["id"], *_conditions(worker_filter, at))
        .order_by(workers.c.last_heartbeat_time.desc(), bytewise(workers.c.name))
    )
    return fetch_all(connection, page(statement, limit, offset))
