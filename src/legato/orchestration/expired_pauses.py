"""Failing paused runs whose pause timed out (the expired-pauses service's pass).

A run paused in its process (``pause_flow_run``) fails itself when its
timeout passes; a suspended run (``suspend_flow_run``) has no process left to
do so, and a process may die while it waits. ``fail_expired_pauses`` moves
to FAILED, with the same message a late resume gets
(``flow_run_inputs.fail_expired_pause``):

- a suspended run (``pause_reschedule``) as soon as its ``pause_timeout`` passed;
- a run paused in its process ``grace_seconds`` later, so a live process ends
  the run itself, with its own message; a process that died does not.

A process still waiting when its run is failed sees the FAILED state at its
next poll and ends with ``FlowPauseTimeout``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.objects import StateDetails
from legato.orchestration.flow_run_inputs import fail_expired_pause
from legato.orchestration.states import current_state
from legato.states import StateType
from legato.storage.queries._common import fetch_all
from legato.storage.schema import flow_runs

__all__ = ["DEFAULT_GRACE_SECONDS", "fail_expired_pauses", "has_paused_runs"]

_BATCH_SIZE = 500
DEFAULT_GRACE_SECONDS = 60.0
"""How long after its timeout a run paused in a process is left to that process."""
_PAUSED = flow_runs.c.state_type == StateType.PAUSED.value


def has_paused_runs(connection: Connection) -> bool:
    """Whether any run is PAUSED (a read: the pass takes no write lock for nothing)."""
    return connection.execute(sa.select(flow_runs.c.id).where(_PAUSED).limit(1)).first() is not None


def fail_expired_pauses(
    connection: Connection, now: dt.datetime, grace_seconds: float = DEFAULT_GRACE_SECONDS
) -> int:
    """Fail the PAUSED runs whose pause timed out by ``now`` (see the module doc); how many."""
    statement = (
        sa.select(flow_runs)
        .where(_PAUSED)
        .order_by(flow_runs.c.id)
        .limit(_BATCH_SIZE)
        .with_for_update(skip_locked=True)
    )
    failed = 0
    for run in fetch_all(connection, statement):
        state = current_state(connection, "flow_run", run)
        if state is None or state["type"] != StateType.PAUSED.value:
            continue
        details = StateDetails.from_stored(state.get("state_details"), None, None)
        timeout = details.pause_timeout
        if timeout is None:
            continue
        if timeout.tzinfo is None:
            timeout = timeout.replace(tzinfo=dt.UTC)
        grace = dt.timedelta(seconds=0 if details.pause_reschedule else grace_seconds)
        if timeout + grace <= now:
            fail_expired_pause(connection, run, timeout)
            failed += 1
    return failed
