"""Statuses computed when read: is a worker online, a queue polled, a pool ready?

No service marks anything offline; each read compares the last sign of life
with the time of the read (``now``, POSIX seconds: injectable in tests):

- a worker is ONLINE while its last heartbeat is younger than
  ``HEARTBEAT_MULTIPLE`` of its heartbeat interval (default
  ``DEFAULT_HEARTBEAT_INTERVAL_SECONDS``), OFFLINE after;
- a queue is READY while it was polled within ``POLL_FRESHNESS_SECONDS``,
  PAUSED when paused, NOT_READY otherwise;
- a pool is PAUSED when paused, READY while one of its workers is online or
  one of its queues was polled recently, NOT_READY otherwise.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from legato.storage.dialect import plus_seconds
from legato.storage.schema import work_pools, work_queues, workers

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL_SECONDS",
    "HEARTBEAT_MULTIPLE",
    "POLL_FRESHNESS_SECONDS",
    "pool_status",
    "queue_status",
    "worker_status",
]

HEARTBEAT_MULTIPLE: Final = 3
"""Heartbeat intervals without a heartbeat after which a worker is OFFLINE."""

DEFAULT_HEARTBEAT_INTERVAL_SECONDS: Final = 30
"""A worker's heartbeat interval when it did not give one."""

POLL_FRESHNESS_SECONDS: Final = HEARTBEAT_MULTIPLE * DEFAULT_HEARTBEAT_INTERVAL_SECONDS
"""How long a poll keeps a queue (and its pool) READY."""

Condition = sa.ColumnElement[bool]


def _worker_is_online(now: float) -> Condition:
    interval = sa.func.coalesce(
        workers.c.heartbeat_interval_seconds, DEFAULT_HEARTBEAT_INTERVAL_SECONDS
    )
    return plus_seconds(workers.c.last_heartbeat_time, HEARTBEAT_MULTIPLE * interval) >= now


def _queue_was_polled(now: float) -> Condition:
    return work_queues.c.last_polled >= now - POLL_FRESHNESS_SECONDS


def worker_status(now: float) -> sa.ColumnElement[str]:
    """A ``workers`` row's status at ``now``: ONLINE or OFFLINE."""
    return sa.case((_worker_is_online(now), "ONLINE"), else_="OFFLINE")


def queue_status(now: float) -> sa.ColumnElement[str]:
    """A ``work_queues`` row's status at ``now``: PAUSED, READY or NOT_READY."""
    return sa.case(
        (work_queues.c.is_paused, "PAUSED"),
        (_queue_was_polled(now), "READY"),
        else_="NOT_READY",
    )


def pool_status(now: float) -> sa.ColumnElement[str]:
    """A ``work_pools`` row's status at ``now``: PAUSED, READY or NOT_READY."""
    online = sa.exists().where(workers.c.work_pool_id == work_pools.c.id, _worker_is_online(now))
    polled = sa.exists().where(
        work_queues.c.work_pool_id == work_pools.c.id, _queue_was_polled(now)
    )
    return sa.case(
        (work_pools.c.is_paused, "PAUSED"),
        (sa.or_(online, polled), "READY"),
        else_="NOT_READY",
    )
