"""Where a deployment's runs go: its work pool and the queue within it.

A run of a deployment with a work pool goes to a queue of that pool: the one
the run names, else the deployment's, else the pool's default queue; a queue
named that does not exist yet is created (``work_queues.resolve_work_queue``,
as Prefect 3 does). Workers poll queues by id, so the run carries the queue's
id and name. A deployment without a work pool (a ``flow.serve()``
deployment) makes runs without a queue.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from legato.exceptions import ObjectNotFound
from legato.orchestration.work_queues import resolve_work_queue as resolve_queue

__all__ = ["QueuePlacement", "check_work_pool", "placements", "resolve_work_queue"]

QueuePlacement = tuple[str | None, str | None]
"""A run's ``(work_queue_id, work_queue_name)``."""


def resolve_work_queue(
    connection: Connection, pool_name: str | None, queue_name: str | None
) -> QueuePlacement:
    """The queue a run goes to (see the module doc); ObjectNotFound for a pool that does not exist."""
    if pool_name is None:
        return None, queue_name
    queue = resolve_queue(connection, pool_name, queue_name)
    return str(queue["id"]), str(queue["name"])


def check_work_pool(connection: Connection, pool_name: str, queue_name: str | None) -> None:
    """Raise ObjectNotFound, naming the fix, when the pool does not exist (the queue is made)."""
    resolve_work_queue(connection, pool_name, queue_name)


def placements(
    connection: Connection, pairs: set[tuple[str, str | None]]
) -> dict[tuple[str, str | None], QueuePlacement]:
    """``resolve_work_queue`` for many ``(pool, queue)`` pairs; those of missing pools are left out."""
    found: dict[tuple[str, str | None], QueuePlacement] = {}
    for pool_name, queue_name in sorted(pairs, key=lambda pair: (pair[0], pair[1] or "")):
        try:
            found[(pool_name, queue_name)] = resolve_work_queue(connection, pool_name, queue_name)
        except ObjectNotFound:
            continue
    return found
