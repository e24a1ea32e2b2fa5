"""The scheduler's work: runs of deployment schedules ahead of time, and Late runs.

``schedule_runs(connection, now, horizon, min_runs, max_runs)`` creates, for
every active schedule of every deployment that is not paused, a Scheduled
flow run per slot of the schedule from ``now`` on: the slots up to ``now +
horizon``, at most ``max_runs`` runs waiting per schedule (its
``max_scheduled_runs`` if set), and at least ``min_runs`` even beyond the
horizon (a yearly schedule still shows its next runs). A schedule that has
runs waiting continues after its last one, so a pass that has nothing to add
computes no dates it made before.

Each run is ``auto_scheduled``, expected at its slot, with the deployment's
parameters and the schedule's over them, the deployment's tags, work pool
and queue, and the idempotency key ``scheduled <deployment> <schedule>
<slot>``: a slot never gets two runs, even with two schedulers at once (on
SQLite the write lock serializes them; on PostgreSQL the unique index makes
the second insert of a key a no-op). Rows are inserted in key order, many a
statement.

``mark_late_runs(connection, now, grace_seconds)`` moves runs still in state
Scheduled whose expected start is more than ``grace_seconds`` before ``now``
to state Late (type SCHEDULED), with a state row in their history. On
PostgreSQL rows another transaction holds (a worker claiming the run) are
skipped: the worker wins, and the next pass sees the rest.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.engine.names import generate_run_name
from legato.orchestration import deployment_queues
from legato.orchestration._runs import new_id
from legato.orchestration.deployment_runs import (
    RunState,
    insert_runs,
    run_values,
    scheduled_idempotency_key,
)
from legato.states import StateType
from legato.storage.bulk_inserts import EncodedJSON, insert_new_rows
from legato.storage.queries._common import Row, fetch_all
from legato.storage.schema import deployment_schedules, deployments, flow_runs, states

__all__ = [
    "INSERT_BATCH_SIZE",
    "has_late_runs",
    "mark_late_runs",
    "schedulable_deployment_ids",
    "schedule_runs",
]

logger = logging.getLogger(__name__)

INSERT_BATCH_SIZE = 5_000
"""Runs inserted per call of ``insert_runs`` (SQLAlchemy splits each into statements of ~1,000)."""

_LATE_BATCH_SIZE = 1_000
_ONE_MICROSECOND = dt.timedelta(microseconds=1)
# Where the schedule id sits in a scheduler key: "scheduled " + deployment id + " ".
_SCHEDULE_ID_START = len("scheduled ") + 36 + 2


def _seconds(value: dt.timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


# -- schedule_runs --------------------------------------------------------------------------


def schedulable_deployment_ids(connection: Connection) -> list[str]:
    """The deployments that are not paused and have an active schedule, by id."""
    statement = (
        sa.select(deployments.c.id)
        .distinct()
        .select_from(
            deployments.join(
                deployment_schedules, deployment_schedules.c.deployment_id == deployments.c.id
            )
        )
        .where(deployments.c.paused.is_(False), deployment_schedules.c.active.is_(True))
        .order_by(deployments.c.id)
    )
    return [str(value) for value in connection.execute(statement).scalars()]


def _active_schedules(connection: Connection, deployment_ids: Sequence[Any] | None) -> list[Row]:
    statement = (
        sa.select(
            deployment_schedules.c.id.label("schedule_id"),
            deployment_schedules.c.schedule,
            deployment_schedules.c.parameters.label("schedule_parameters"),
            deployment_schedules.c.max_scheduled_runs,
            deployments.c.id,
            deployments.c.flow_id,
            deployments.c.version,
            deployments.c.parameters,
            deployments.c.tags,
            deployments.c.work_pool_name,
            deployments.c.work_queue_name,
        )
        .select_from(
            deployments.join(
                deployment_schedules, deployment_schedules.c.deployment_id == deployments.c.id
            )
        )
        .where(deployments.c.paused.is_(False), deployment_schedules.c.active.is_(True))
        .order_by(deployments.c.id, deployment_schedules.c.id)
        # On PostgreSQL a pause or a schedule change waits for this pass (and then
        # deletes the runs it made), or this pass waits for it (and skips what changed).
        .with_for_update(read=True)
    )
    if deployment_ids is not None:
        statement = statement.where(deployments.c.id.in_(list(deployment_ids)))
    return fetch_all(connection, statement)


def _waiting_runs(
    connection: Connection, deployment_ids: Iterable[Any], now: dt.datetime
) -> dict[tuple[str, str], tuple[int, dt.datetime | None]]:
    """Per (deployment, schedule): how many of its runs wait (Scheduled, from now on), and its last slot."""
    schedule_id = sa.func.substr(flow_runs.c.idempotency_key, _SCHEDULE_ID_START, 36)
    waiting = sa.func.sum(
        sa.case((flow_runs.c.state_type == StateType.SCHEDULED.value, 1), else_=0)
    )
    statement = (
        sa.select(
            flow_runs.c.deployment_id,
            schedule_id.label("schedule_id"),
            waiting.label("waiting"),
            sa.func.max(flow_runs.c.expected_start_time).label("last_slot"),
        )
        .where(
            flow_runs.c.deployment_id.in_(list(deployment_ids)),
            flow_runs.c.expected_start_time >= now,
            flow_runs.c.auto_scheduled.is_(True),
        )
        .group_by(flow_runs.c.deployment_id, schedule_id)
    )
    return {
        (str(row.deployment_id), str(row.schedule_id)): (int(row.waiting or 0), row.last_slot)
        for row in connection.execute(statement)
    }


@lru_cache(maxsize=4096)
def _parse_schedule(text: str) -> Any:
    from legato.schedules import schedule_from_json

    return schedule_from_json(json.loads(text))


def _slots(
    row: Row,
    waiting: tuple[int, dt.datetime | None],
    now: dt.datetime,
    end: dt.datetime,
    counts: tuple[int, int],
) -> list[dt.datetime]:
    """The slots to create runs for: after the last one waiting, within the bounds."""
    min_runs, max_runs = counts
    limit = row["max_scheduled_runs"] or max_runs
    count, last_slot = waiting
    if count >= limit:
        return []
    start = now if last_slot is None else max(now, last_slot + _ONE_MICROSECOND)
    schedule = _parse_schedule(json.dumps(row["schedule"], sort_keys=True))
    dates: list[dt.datetime] = schedule.get_dates(n=limit - count, start=start, end=end)
    floor = min(min_runs, limit) - count
    if len(dates) < floor:
        dates = schedule.get_dates(n=floor, start=start)
    return dates


def _runs_of(
    row: Row,
    slots: list[dt.datetime],
    at: float,
    placement: deployment_queues.QueuePlacement,
) -> list[Row]:
    """The new runs of one schedule: one template row, then per slot what differs."""
    if not slots:
        return []
    parameters = {**(row["parameters"] or {}), **(row["schedule_parameters"] or {})}
    template = run_values(
        row,
        at=at,
        state=RunState(StateType.SCHEDULED, scheduled_seconds=at),
        # Encoded once for all the schedule's runs.
        parameters=EncodedJSON.of(parameters),
        tags=EncodedJSON.of(list(row["tags"] or [])),
        placement=placement,
        idempotency_key=None,
        auto_scheduled=True,
        job_variables=EncodedJSON.of({}),
    )
    runs = []
    for slot in slots:
        run = dict(template)
        run["id"] = new_id()
        run["name"] = generate_run_name()
        run["expected_start_time"] = slot.timestamp()
        run["idempotency_key"] = scheduled_idempotency_key(row["id"], row["schedule_id"], slot)
        runs.append(run)
    return runs


def _placements(
    connection: Connection, rows: list[Row]
) -> dict[tuple[str, str | None], deployment_queues.QueuePlacement]:
    pairs = {
        (row["work_pool_name"], row["work_queue_name"]) for row in rows if row["work_pool_name"]
    }
    return deployment_queues.placements(connection, pairs)


def schedule_runs(
    connection: Connection,
    now: dt.datetime,
    horizon: dt.timedelta | float,
    min_runs: int,
    max_runs: int,
    deployment_ids: Sequence[Any] | None = None,
) -> int:
    """Create the runs the active schedules need (see the module doc); how many were created.

    ``deployment_ids`` limits the pass to those deployments (None: all).
    """
    rows = _active_schedules(connection, deployment_ids)
    if not rows:
        return 0
    end = now + dt.timedelta(seconds=_seconds(horizon))
    waiting = _waiting_runs(connection, {row["id"] for row in rows}, now)
    placements = _placements(connection, rows)
    at = time.time()
    runs: list[Row] = []
    for row in rows:
        slots = _slots(
            row,
            waiting.get((row["id"], row["schedule_id"]), (0, None)),
            now,
            end,
            (min_runs, max_runs),
        )
        placement = placements.get(
            (row["work_pool_name"], row["work_queue_name"]), (None, row["work_queue_name"])
        )
        runs.extend(_runs_of(row, slots, at, placement))
    runs.sort(key=lambda run: run["idempotency_key"])  # one lock order for every scheduler
    created = 0
    for start in range(0, len(runs), INSERT_BATCH_SIZE):
        created += len(insert_runs(connection, runs[start : start + INSERT_BATCH_SIZE]))
    return created


# -- mark_late_runs ---------------------------------------------------------------------------


def _late_conditions_of_state() -> list[sa.ColumnElement[bool]]:
    return [
        flow_runs.c.state_type == StateType.SCHEDULED.value,
        flow_runs.c.state_name == "Scheduled",
    ]


def _late_conditions(cutoff: dt.datetime) -> list[sa.ColumnElement[bool]]:
    return [*_late_conditions_of_state(), flow_runs.c.expected_start_time < cutoff]


def has_late_runs(connection: Connection, now: dt.datetime, grace_seconds: float) -> bool:
    """Whether ``mark_late_runs`` has work (a read: no write lock taken for nothing)."""
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    statement = sa.select(flow_runs.c.id).where(*_late_conditions(cutoff)).limit(1)
    return connection.execute(statement).first() is not None


def _late_candidates(connection: Connection, cutoff: dt.datetime) -> list[str]:
    statement = (
        sa.select(flow_runs.c.id)
        .where(*_late_conditions(cutoff))
        .order_by(flow_runs.c.id)
        .limit(_LATE_BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    return [str(value) for value in connection.execute(statement).scalars()]


def _mark_late(connection: Connection, run_ids: list[str], message: str) -> int:
    """Move these runs (still Scheduled) to Late, with their state rows; how many moved."""
    at = time.time()
    moved = connection.execute(
        sa.update(flow_runs)
        .where(flow_runs.c.id.in_(run_ids), *_late_conditions_of_state())
        .values(state_name="Late", state_message=message, state_timestamp=at, updated=at)
        .returning(flow_runs.c.id)
    ).scalars()
    late = {"type": StateType.SCHEDULED.value, "name": "Late", "message": message}
    rows = [
        {
            "id": new_id(),
            "flow_run_id": str(run_id),
            "task_run_id": None,
            "timestamp": at,
            "data": None,
            **late,
        }
        for run_id in moved
    ]
    insert_new_rows(connection, states, rows)
    return len(rows)


def mark_late_runs(connection: Connection, now: dt.datetime, grace_seconds: float) -> int:
    """Move Scheduled runs more than ``grace_seconds`` past their start to Late; how many."""
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    message = f"Not started within {grace_seconds:g} s of its scheduled time."
    marked = 0
    while True:
        run_ids = _late_candidates(connection, cutoff)
        moved = _mark_late(connection, run_ids, message) if run_ids else 0
        marked += moved
        if not moved or len(run_ids) < _LATE_BATCH_SIZE:
            return marked
