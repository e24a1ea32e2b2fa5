"""The transition table: every cell, force, waiting, and the copy in docs/server.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.orchestration.rules import Decision, decide, render_table, rule_for
from legato.states import TERMINAL_STATES, StateType

S = StateType
STATES = list(StateType)
CURRENT = st.sampled_from([None, *STATES])
PROPOSED = st.sampled_from(STATES)


@pytest.mark.parametrize(
    ("current", "proposed", "decision"),
    [
        (None, S.PENDING, Decision.ACCEPT),
        (None, S.COMPLETED, Decision.ACCEPT),
        (S.SCHEDULED, S.PENDING, Decision.ACCEPT),
        (S.SCHEDULED, S.RUNNING, Decision.ACCEPT),  # due now: a W cell accepts
        (S.PENDING, S.RUNNING, Decision.ACCEPT),
        (S.PENDING, S.PENDING, Decision.ABORT),
        (S.RUNNING, S.PENDING, Decision.ABORT),
        (S.RUNNING, S.SCHEDULED, Decision.ACCEPT),  # AwaitingRetry
        (S.RUNNING, S.PAUSED, Decision.ACCEPT),
        (S.PENDING, S.PAUSED, Decision.REJECT),
        (S.PAUSED, S.RUNNING, Decision.ACCEPT),
        (S.PAUSED, S.CANCELLED, Decision.ACCEPT),
        (S.CANCELLING, S.CANCELLED, Decision.ACCEPT),
        (S.CANCELLING, S.CRASHED, Decision.ACCEPT),
        (S.CANCELLING, S.RUNNING, Decision.REJECT),
        (S.COMPLETED, S.RUNNING, Decision.REJECT),
        (S.FAILED, S.PENDING, Decision.REJECT),
        (S.CANCELLED, S.SCHEDULED, Decision.REJECT),
    ],
)
def test_table_cells(current, proposed, decision):
    assert decide(current, proposed).decision is decision


@given(CURRENT, PROPOSED)
def test_force_accepts_everything(current, proposed):
    assert decide(current, proposed, force=True).decision is Decision.ACCEPT


@given(st.sampled_from(sorted(TERMINAL_STATES)), PROPOSED)
def test_a_finished_run_never_moves_without_force(current, proposed):
    outcome = decide(current, proposed)

    assert outcome.decision is Decision.REJECT
    assert "force=True" in (outcome.reason or "")


@given(CURRENT, PROPOSED, st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_only_accept_has_no_reason_and_only_wait_has_a_delay(current, proposed, seconds):
    outcome = decide(current, proposed, seconds_until_scheduled=seconds)

    assert (outcome.reason is None) == (outcome.decision is Decision.ACCEPT)
    assert (outcome.delay_seconds is not None) == (outcome.decision is Decision.WAIT)
    if outcome.decision is Decision.WAIT:
        assert rule_for(current, proposed) is Decision.WAIT
        assert outcome.delay_seconds >= seconds > 0


@given(st.floats(min_value=0.001, max_value=1e6))
def test_running_a_run_scheduled_later_waits_until_then(seconds):
    outcome = decide(S.SCHEDULED, S.RUNNING, seconds_until_scheduled=seconds)

    assert outcome.decision is Decision.WAIT
    assert seconds <= outcome.delay_seconds < seconds + 1


def test_every_new_run_may_start_anywhere():
    assert {rule_for(None, proposed) for proposed in STATES} == {Decision.ACCEPT}


def test_docs_show_the_table_of_the_code():
    page = (Path(__file__).parents[2] / "docs" / "server.md").read_text()

    assert render_table() in page
