"""What flow runs and task runs share: reading a run with its current state row,
and the bookkeeping a state change does to a run (start, end, run count, time)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from legato.engine.ids import new_id_str
from legato.states import TERMINAL_STATES, StateType
from legato.storage.schema import states
from legato.storage.types import to_seconds

__all__ = ["latest_state", "new_id", "now", "state_values", "transition_values"]


def now() -> float:
    """The current time, POSIX seconds (what the store keeps on SQLite)."""
    return time.time()


def new_id() -> str:
    """A new time-ordered id, as text."""
    return new_id_str()


def latest_state(run_id_column: Any, run_table_id: Any) -> Any:
    """An alias of ``states`` holding each run's latest state, and its join condition.

    Runs keep their current state's type, name, message and time in their own
    columns; the latest state row adds its id and ``data`` (where a persisted
    result lives).
    """
    latest = states.alias("current_state")
    latest_id = (
        sa.select(states.c.id)
        .where(run_id_column == run_table_id)
        .order_by(states.c.timestamp.desc(), states.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return latest, latest.c.id == latest_id


def state_values(
    state_type: StateType, name: str | None, message: str | None, at: float
) -> dict[str, Any]:
    """A run's state columns for a new state."""
    return {
        "state_type": state_type.value,
        "state_name": name or state_type.value.capitalize(),
        "state_message": message,
        "state_timestamp": at,
        "updated": at,
    }


def transition_values(
    run: dict[str, Any] | None, proposed: StateType, at: float, scheduled_time: float | None
) -> dict[str, Any]:
    """The run columns a transition into ``proposed`` changes besides the state itself.

    Entering RUNNING counts a run and sets ``start_time`` once; leaving
    RUNNING adds the time spent to ``total_run_time``; a final state sets
    ``end_time`` (leaving one clears it); SCHEDULED sets ``expected_start_time``
    to the scheduled time. ``run`` is the run's row (None for a new run).
    """
    run = run or {}
    current = run.get("state_type")
    values: dict[str, Any] = {}
    if current == StateType.RUNNING.value and run.get("state_timestamp") is not None:
        spent = max(0.0, at - to_seconds(run["state_timestamp"]))
        values["total_run_time"] = (run.get("total_run_time") or 0.0) + spent
    if proposed is StateType.RUNNING and current != StateType.RUNNING.value:
        values["run_count"] = (run.get("run_count") or 0) + 1
        if run.get("start_time") is None:
            values["start_time"] = at
    if proposed in TERMINAL_STATES:
        values["end_time"] = at
    elif current is not None and StateType(current) in TERMINAL_STATES:
        values["end_time"] = None
    if proposed is StateType.SCHEDULED:
        values["expected_start_time"] = scheduled_time if scheduled_time is not None else at
    elif run.get("expected_start_time") is None:
        values["expected_start_time"] = at
    return values
