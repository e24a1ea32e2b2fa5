"""cancel_flow_run through the clients: CANCELLED when nothing runs the run, else CANCELLING."""

from __future__ import annotations

import pytest

from legato.exceptions import ObjectNotFound
from legato.orchestration.cancellation import cancellation_target
from legato.states import Completed, Paused, Pending, Running, Scheduled, StateType, Suspended

S = StateType


@pytest.mark.parametrize(
    ("state_type", "is_suspended", "has_process", "expected"),
    [
        (S.SCHEDULED, False, False, S.CANCELLED),
        (S.PENDING, False, False, S.CANCELLED),
        (S.PENDING, False, True, S.CANCELLING),
        (S.RUNNING, False, True, S.CANCELLING),
        (S.RUNNING, False, False, S.CANCELLING),
        (S.PAUSED, True, False, S.CANCELLED),
        (S.PAUSED, False, True, S.CANCELLING),
    ],
)
def test_the_target_depends_on_whether_a_process_runs_the_flow(
    state_type, is_suspended, has_process, expected
):
    assert cancellation_target(state_type, is_suspended, has_process) is expected


def _run_in(client, *states):
    run = client.create_flow_run("cancel-me", state=states[0])
    for state in states[1:]:
        assert client.set_flow_run_state(run.id, state).status.value == "ACCEPT"
    return run.id


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((Scheduled(),), "CANCELLED"),
        ((Pending(),), "CANCELLED"),
        ((Pending(), Running()), "CANCELLING"),
        ((Pending(), Running(), Paused(timeout_seconds=60, pause_key="1")), "CANCELLING"),
        ((Pending(), Running(), Suspended(timeout_seconds=60, pause_key="1")), "CANCELLED"),
    ],
    ids=["scheduled", "pending", "running", "paused", "suspended"],
)
def test_cancel_flow_run_moves_the_run_on(home, states, expected):
    run_id = _run_in(home.client, *states)

    result = home.client.cancel_flow_run(run_id)

    assert result.status.value == "ACCEPT"
    assert result.state.type.value == expected
    assert home.client.read_flow_run(run_id).state.type.value == expected


def test_a_finished_or_cancelling_run_is_left_alone(home):
    done = _run_in(home.client, Pending(), Running(), Completed())
    result = home.client.cancel_flow_run(done)
    assert result.status.value == "REJECT"
    assert "already finished (Completed)" in result.details.reason

    running = _run_in(home.client, Pending(), Running())
    home.client.cancel_flow_run(running)
    again = home.client.cancel_flow_run(running)
    assert again.status.value == "REJECT"
    assert "already being cancelled" in again.details.reason
    assert home.client.read_flow_run(running).state.type.value == "CANCELLING"


def test_cancelling_an_unknown_run_says_so(home):
    with pytest.raises(ObjectNotFound):
        home.client.cancel_flow_run("01a20000-0000-7000-8000-000000000000")
    with pytest.raises(ObjectNotFound):
        home.client.cancel_flow_run("not-an-id")
