"""Proposing a state for a run, through the transition table, and reading state history.

``set_run_state`` runs in the caller's write transaction: it locks the run's
row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already serializes writers), asks ``rules.decide``, and on ACCEPT appends a
state row and updates the run (state columns and bookkeeping) together.

Every transition is so a compare-and-set on the run's current state: two
workers proposing PENDING for one SCHEDULED run get one ACCEPT and one
ABORT (PENDING -> PENDING), never two ACCEPTs. A claim (SCHEDULED ->
PENDING) is also refused (REJECT) while the run's work queue, its pool
(``work_slots``) or its deployment (``deployment_concurrency``: ENQUEUE
keeps it Scheduled, CANCEL_NEW ends it Cancelled) is at its concurrency limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas import objects
from legato.client.schemas.actions import StateCreate
from legato.exceptions import ObjectNotFound
from legato.orchestration import rules, work_slots
from legato.orchestration._runs import new_id, now, state_values, transition_values
from legato.states import StateType
from legato.storage.queries._common import Row, fetch_all, fetch_one
from legato.storage.schema import flow_runs, state_details, states, task_runs
from legato.storage.types import to_datetime, to_seconds

__all__ = [
    "RunKind",
    "StateChange",
    "append_state",
    "current_state",
    "orchestration_result",
    "read_run_states",
    "read_state",
    "set_run_state",
]

RunKind = Literal["flow_run", "task_run"]


@dataclass(frozen=True, slots=True)
class StateChange:
    """The decision on a proposed state and the run's state row afterwards."""

    outcome: rules.Outcome
    state: Row | None


def _tables(kind: RunKind) -> tuple[sa.Table, Any]:
    if kind == "flow_run":
        return flow_runs, states.c.flow_run_id
    return task_runs, states.c.task_run_id


def set_run_state(
    connection: Connection,
    kind: RunKind,
    run_id: Any,
    proposed: StateCreate,
    *,
    force: bool = False,
) -> StateChange:
    """Propose ``proposed`` for a run; raises ObjectNotFound for an unknown run."""
    table, _ = _tables(kind)
    run = fetch_one(connection, sa.select(table).where(table.c.id == run_id).with_for_update())
    if run is None:
        raise ObjectNotFound(f"No {kind.replace('_', ' ')} with id {str(run_id)!r}.")
    at = now()
    scheduled = _scheduled_seconds(proposed)
    outcome = rules.decide(
        None if run["state_type"] is None else StateType(run["state_type"]),
        proposed.type,
        force=force,
        seconds_until_scheduled=_seconds_until(run, at),
    )
    if outcome.decision is rules.Decision.ACCEPT and _is_claim(kind, run, proposed, force):
        refusal = work_slots.claim_refusal(connection, run)
        if refusal is None:
            return _claim_under_deployment_limit(connection, run, proposed, at, scheduled)
        outcome = rules.Outcome(rules.Decision.REJECT, reason=refusal)
    if outcome.decision is not rules.Decision.ACCEPT:
        return StateChange(outcome, current_state(connection, kind, run))
    return StateChange(outcome, _apply(connection, kind, run, proposed, at, scheduled))


def _apply(
    connection: Connection,
    kind: RunKind,
    run: Row,
    proposed: StateCreate,
    at: float,
    scheduled: float | None,
) -> Row:
    """Append the accepted state and update the run's columns; the new state row."""
    table, _ = _tables(kind)
    if run["state_timestamp"] is not None:
        at = max(at, to_seconds(run["state_timestamp"]) + 1e-6)  # history stays in order
    row = append_state(connection, kind, run["id"], proposed, at)
    values = {
        **state_values(proposed.type, proposed.name, proposed.message, at),
        **transition_values(run, proposed.type, at, scheduled),
    }
    connection.execute(sa.update(table).where(table.c.id == run["id"]).values(**values))
    return row


def _claim_under_deployment_limit(
    connection: Connection, run: Row, proposed: StateCreate, at: float, scheduled: float | None
) -> StateChange:
    """A claim that its deployment's concurrency limit may refuse (collision strategy).

    ENQUEUE: REJECT, the run stays Scheduled for a later poll. CANCEL_NEW: the
    run ends Cancelled at once, and the claim is REJECTed with that state.
    """
    from legato.orchestration.deployment_concurrency import deployment_slot_refusal

    refusal = deployment_slot_refusal(connection, run)
    if refusal is None:
        accepted = rules.Outcome(rules.Decision.ACCEPT)
        return StateChange(accepted, _apply(connection, "flow_run", run, proposed, at, scheduled))
    rejected = rules.Outcome(rules.Decision.REJECT, reason=refusal.reason)
    if refusal.collision_strategy != "CANCEL_NEW":
        return StateChange(rejected, current_state(connection, "flow_run", run))
    cancelled = StateCreate(
        type=StateType.CANCELLED, message=f"{refusal.reason} Collision strategy CANCEL_NEW."
    )
    return StateChange(rejected, _apply(connection, "flow_run", run, cancelled, at, None))


def _is_claim(kind: RunKind, run: Row, proposed: StateCreate, force: bool) -> bool:
    """A worker or serve process claiming a scheduled flow run (SCHEDULED -> PENDING)."""
    return (
        not force
        and kind == "flow_run"
        and proposed.type is StateType.PENDING
        and run["state_type"] == StateType.SCHEDULED.value
    )


def append_state(
    connection: Connection, kind: RunKind, run_id: Any, proposed: StateCreate, at: float
) -> Row:
    """Insert a state row for a run; returns it."""
    row = {
        "id": new_id(),
        "flow_run_id": run_id if kind == "flow_run" else None,
        "task_run_id": run_id if kind == "task_run" else None,
        "type": proposed.type.value,
        "name": proposed.name or proposed.type.value.capitalize(),
        "message": proposed.message,
        "timestamp": at,
        "data": proposed.data if isinstance(proposed.data, dict) else None,
    }
    connection.execute(_INSERT_STATE, row)
    details = proposed.state_details.to_stored() if kind == "flow_run" else None
    if details is not None:
        connection.execute(
            sa.insert(state_details),
            {"state_id": row["id"], "flow_run_id": run_id, "details": details},
        )
    # What a read would give back, without the read: ids as canonical text,
    # the time as an aware UTC datetime.
    return {
        **row,
        "id": str(row["id"]),
        "flow_run_id": _id_text(row["flow_run_id"]),
        "task_run_id": _id_text(row["task_run_id"]),
        "timestamp": to_datetime(at),
        "state_details": details,
    }


def _id_text(value: Any) -> str | None:
    return None if value is None else str(value).lower()


# Built once, so SQLAlchemy reuses its compiled form.
_INSERT_STATE = sa.insert(states)


def _select_states() -> sa.Select[Any]:
    """State rows with their ``state_details`` (None for most states)."""
    joined = states.outerjoin(state_details, state_details.c.state_id == states.c.id)
    return sa.select(states, state_details.c.details.label("state_details")).select_from(joined)


def current_state(connection: Connection, kind: RunKind, run: Row) -> Row | None:
    """The run's latest state row; made from its columns when it has none."""
    _, run_column = _tables(kind)
    statement = (
        _select_states()
        .where(run_column == run["id"])
        .order_by(states.c.timestamp.desc(), states.c.id.desc())
        .limit(1)
    )
    latest = fetch_one(connection, statement)
    if latest is not None or run["state_type"] is None:
        return latest
    return {
        "id": None,
        "flow_run_id": run["id"] if kind == "flow_run" else None,
        "task_run_id": run["id"] if kind == "task_run" else None,
        "type": run["state_type"],
        "name": run["state_name"],
        "message": run["state_message"],
        "timestamp": run["state_timestamp"],
        "data": None,
        "state_details": None,
    }


def read_state(connection: Connection, state_id: Any) -> Row | None:
    """One state row by id, None if there is none."""
    return fetch_one(connection, _select_states().where(states.c.id == state_id))


def read_run_states(connection: Connection, kind: RunKind, run_id: Any) -> list[Row]:
    """A run's state history, oldest first."""
    _, run_column = _tables(kind)
    statement = (
        _select_states().where(run_column == run_id).order_by(states.c.timestamp, states.c.id)
    )
    return fetch_all(connection, statement)


def _scheduled_seconds(proposed: StateCreate) -> float | None:
    scheduled = proposed.state_details.scheduled_time
    return None if scheduled is None else scheduled.timestamp()


def _seconds_until(run: Row, at: float) -> float | None:
    if run["state_type"] != StateType.SCHEDULED.value or run["expected_start_time"] is None:
        return None
    return to_seconds(run["expected_start_time"]) - at


def orchestration_result(change: StateChange) -> objects.OrchestrationResult:
    """The API's answer for a state change."""
    outcome = change.outcome
    details: objects.StateDetailsUnion
    if outcome.decision is rules.Decision.ACCEPT:
        details = objects.StateAcceptDetails()
    elif outcome.decision is rules.Decision.WAIT:
        details = objects.StateWaitDetails(
            delay_seconds=int(outcome.delay_seconds or 0), reason=outcome.reason
        )
    elif outcome.decision is rules.Decision.ABORT:
        details = objects.StateAbortDetails(reason=outcome.reason)
    else:
        details = objects.StateRejectDetails(reason=outcome.reason)
    return objects.OrchestrationResult(
        state=None if change.state is None else objects.State.from_row(change.state),
        status=objects.SetStateStatus(outcome.decision.value),
        details=details,
    )
