"""Cancelling a flow run: CANCELLED at once when nothing runs it, else CANCELLING.

A run that no process is executing has nothing to stop, so it is cancelled
directly: SCHEDULED, a suspended run (PAUSED with ``pause_reschedule``), or
PENDING with no ``infrastructure_pid`` (not yet launched by a worker). A run
that a process may be executing (RUNNING, PENDING with a process, a blocking
pause) goes to CANCELLING: the worker or serve process that runs it sends its
process SIGTERM, and the engine then ends the run CANCELLED (see
``legato.engine.cancellation``). A finished run is not changed: the answer is
a REJECT that says so. The decision and the change happen under the run's
row lock, in the caller's write transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import StateCreate
from legato.client.schemas.objects import StateDetails
from legato.exceptions import ObjectNotFound
from legato.orchestration import rules
from legato.orchestration.states import StateChange, current_state, set_run_state
from legato.states import TERMINAL_STATES, StateType
from legato.storage.queries._common import Row, fetch_one
from legato.storage.schema import flow_runs

__all__ = ["cancel_flow_run", "cancellation_target"]

CANCELLED_MESSAGE = "Cancelled before it started running."
CANCELLING_MESSAGE = "Cancellation requested; waiting for the run's process to stop."


def cancellation_target(state_type: StateType, is_suspended: bool, has_process: bool) -> StateType:
    """CANCELLED when nothing executes the run, else CANCELLING (run not finished)."""
    if state_type is StateType.SCHEDULED:
        return StateType.CANCELLED
    if state_type is StateType.PAUSED and is_suspended:
        return StateType.CANCELLED
    if state_type is StateType.PENDING and not has_process:
        return StateType.CANCELLED
    return StateType.CANCELLING


def cancel_flow_run(connection: Connection, flow_run_id: Any) -> StateChange:
    """Ask a flow run to cancel; ObjectNotFound for an unknown run."""
    statement = sa.select(flow_runs).where(flow_runs.c.id == flow_run_id).with_for_update()
    run = fetch_one(connection, statement)
    if run is None:
        raise ObjectNotFound(
            f"No flow run with id '{flow_run_id}'. List runs with `legato flow-run ls`."
        )
    state_type = None if run["state_type"] is None else StateType(run["state_type"])
    if state_type in TERMINAL_STATES or state_type is StateType.CANCELLING:
        return StateChange(
            rules.Outcome(rules.Decision.REJECT, reason=_not_cancellable(run, state_type)),
            current_state(connection, "flow_run", run),
        )
    target = cancellation_target(
        state_type or StateType.PENDING, _is_suspended(connection, run), _has_process(run)
    )
    message = CANCELLED_MESSAGE if target is StateType.CANCELLED else CANCELLING_MESSAGE
    return set_run_state(
        connection, "flow_run", run["id"], StateCreate(type=target, message=message)
    )


def _not_cancellable(run: Row, state_type: StateType | None) -> str:
    if state_type is StateType.CANCELLING:
        return (
            f"Flow run {run['name']!r} is already being cancelled; its worker stops its process. "
            "If no process runs it any more, set it Cancelled with force=True."
        )
    return f"Flow run {run['name']!r} already finished ({run['state_name']}); nothing to cancel."


def _is_suspended(connection: Connection, run: Row) -> bool:
    if run["state_type"] != StateType.PAUSED.value:
        return False
    state = current_state(connection, "flow_run", run)
    stored = None if state is None else state.get("state_details")
    return bool(StateDetails.from_stored(stored, None, None).pause_reschedule)


def _has_process(run: Row) -> bool:
    # infrastructure_pid is a column once workers record where they launched a run.
    return bool(run.get("infrastructure_pid"))
