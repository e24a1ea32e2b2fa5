"""The transitions pausing, resuming, timing out and cancelling rely on, read from the table."""

from __future__ import annotations

import pytest

from legato.orchestration.rules import Decision, decide, rule_for
from legato.states import StateType

S = StateType


@pytest.mark.parametrize(
    ("current", "proposed", "why"),
    [
        (S.RUNNING, S.PAUSED, "pause_flow_run / suspend_flow_run"),
        (S.PAUSED, S.RUNNING, "resume of a pause"),
        (S.PAUSED, S.SCHEDULED, "resume of a suspension"),
        (S.PAUSED, S.FAILED, "a pause that timed out"),
        (S.PAUSED, S.CANCELLED, "cancelling a suspended run"),
        (S.PAUSED, S.CANCELLING, "cancelling a blocking pause"),
        (S.RUNNING, S.CANCELLING, "cancelling a running run"),
        (S.CANCELLING, S.CANCELLED, "the engine ending a cancelled run"),
        (S.SCHEDULED, S.CANCELLED, "cancelling a run nothing runs yet"),
        (S.PENDING, S.CANCELLED, "cancelling a claimed run not yet launched"),
    ],
)
def test_the_table_accepts(current, proposed, why):
    assert rule_for(current, proposed) is Decision.ACCEPT, why


@pytest.mark.parametrize(
    ("current", "proposed"),
    [
        (S.PAUSED, S.PAUSED),  # a second pause of a paused run
        (S.SCHEDULED, S.PAUSED),  # only a running run pauses
        (S.PENDING, S.PAUSED),
        (S.CANCELLING, S.PAUSED),
        (S.CANCELLING, S.RUNNING),  # a run being cancelled is not resumed
        (S.COMPLETED, S.PAUSED),
    ],
)
def test_the_table_refuses(current, proposed):
    outcome = decide(current, proposed)
    assert outcome.decision is Decision.REJECT
    assert outcome.reason
