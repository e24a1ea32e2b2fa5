"""The state transition table: what a proposed state does to a run.

One table, written as data, decides every transition proposed through the
API (``set_flow_run_state``, ``set_task_run_state``), for flow runs and task
runs alike. A row is the run's current state type (``-`` when the run has no
state yet), a column the proposed state type, and a cell one of:

- ``A`` accept;
- ``R`` reject: the run keeps its state, and the result says why;
- ``X`` abort: the proposal makes no sense for this run (e.g. a second
  PENDING: another process has claimed the run); the caller should stop;
- ``W`` wait: accept, unless the run is scheduled for later, in which case
  the caller is told to try again after the delay.

``force=True`` accepts every transition. The engine records the states of the
runs it executes directly (through the recorder): it is the authority on its
own runs and does not go through this table. docs/server.md shows the same
table (a test keeps the two equal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from legato.states import TERMINAL_STATES, StateType

__all__ = [
    "TRANSITION_TABLE",
    "Decision",
    "Outcome",
    "decide",
    "render_table",
    "rule_for",
]


class Decision(StrEnum):
    """What becomes of a proposed state (``SetStateStatus`` values)."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    ABORT = "ABORT"
    WAIT = "WAIT"


# Columns, in this order: the proposed state type.
_COLUMNS = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CRASHED",
            "CANCELLING", "CANCELLED", "PAUSED")  # fmt: skip

TRANSITION_TABLE = """
from \\ to  SCHEDULED PENDING RUNNING COMPLETED FAILED CRASHED CANCELLING CANCELLED PAUSED
-          A         A       A       A         A      A       A          A         A
SCHEDULED  A         A       W       A         A      A       A          A         R
PENDING    A         X       A       A         A      A       A          A         R
RUNNING    A         X       A       A         A      A       A          A         A
PAUSED     A         A       A       A         A      A       A          A         R
CANCELLING R         R       R       A         A      A       R          A         R
COMPLETED  R         R       R       R         R      R       R          R         R
FAILED     R         R       R       R         R      R       R          R         R
CRASHED    R         R       R       R         R      R       R          R         R
CANCELLED  R         R       R       R         R      R       R          R         R
"""

_CELLS = {"A": Decision.ACCEPT, "R": Decision.REJECT, "X": Decision.ABORT, "W": Decision.WAIT}


def _parse(table: str) -> dict[tuple[StateType | None, StateType], Decision]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    if tuple(header[3:]) != _COLUMNS:
        raise ValueError(f"transition table columns must be {_COLUMNS}")
    parsed: dict[tuple[StateType | None, StateType], Decision] = {}
    for row in rows:
        current = None if row[0] == "-" else StateType(row[0])
        for column, cell in zip(_COLUMNS, row[1:], strict=True):
            parsed[current, StateType(column)] = _CELLS[cell]
    return parsed


_RULES = _parse(TRANSITION_TABLE)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision on one proposed state, with why (reject, abort) or how long (wait)."""

    decision: Decision
    reason: str | None = None
    delay_seconds: float | None = None


def rule_for(current: StateType | None, proposed: StateType) -> Decision:
    """The table's cell for ``current`` -> ``proposed`` (before ``force`` and time)."""
    return _RULES[current, proposed]


def decide(
    current: StateType | None,
    proposed: StateType,
    *,
    force: bool = False,
    seconds_until_scheduled: float | None = None,
) -> Outcome:
    """Decide a proposed transition.

    ``seconds_until_scheduled`` is how far in the future the run's scheduled
    start lies (None or <= 0: due now); it only matters for ``W`` cells.
    """
    if force:
        return Outcome(Decision.ACCEPT)
    decision = rule_for(current, proposed)
    if decision is Decision.ACCEPT:
        return Outcome(decision)
    if decision is Decision.WAIT:
        if seconds_until_scheduled is None or seconds_until_scheduled <= 0:
            return Outcome(Decision.ACCEPT)
        return Outcome(
            Decision.WAIT,
            reason=f"The run is scheduled to start in {seconds_until_scheduled:.1f}s.",
            delay_seconds=float(math.ceil(seconds_until_scheduled)),
        )
    return Outcome(decision, reason=_reason(current, proposed))


def _reason(current: StateType | None, proposed: StateType) -> str:
    if current in TERMINAL_STATES:
        return (
            f"The run is already finished ({current}); it cannot move to {proposed}. "
            "Pass force=True to override."
        )
    if current is StateType.CANCELLING:
        return (
            f"The run is being cancelled; it can only end (CANCELLED, COMPLETED, FAILED or "
            f"CRASHED), not move to {proposed}. Pass force=True to override."
        )
    if proposed is StateType.PENDING:
        return f"The run is already {current}: another process may have claimed it."
    if proposed is StateType.PAUSED:
        return f"Only a running run can pause; this one is {current}."
    return f"A run in state {current} cannot move to {proposed}."  # pragma: no cover


def render_table() -> str:
    """The table as Markdown (what docs/server.md shows)."""
    header = "| from \\ to | " + " | ".join(_COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(_COLUMNS) + 1)]
    for current in (None, *(StateType(name) for name in _ROW_ORDER)):
        cells = " | ".join(_rules_cell(current, StateType(column)) for column in _COLUMNS)
        lines.append(f"| {'(none)' if current is None else current.value} | {cells} |")
    return "\n".join(lines)


_ROW_ORDER = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING", "COMPLETED", "FAILED",
              "CRASHED", "CANCELLED")  # fmt: skip
_LETTERS = {decision: letter for letter, decision in _CELLS.items()}


def _rules_cell(current: StateType | None, proposed: StateType) -> str:
    return _LETTERS[rule_for(current, proposed)]
