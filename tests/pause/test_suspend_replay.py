"""suspend_flow_run: the process ends, resume reschedules, the run starts again as the same
flow run (run_existing_flow_run) and tasks that completed before are not run again."""

from __future__ import annotations

import datetime as dt

import pytest
from _pause_helpers import calls, wait_for_state, wait_until, write_script

from legato import flow, task
from legato.engine import persistence
from legato.engine.existing_runs import run_existing_flow_run
from legato.exceptions import (
    FlowPauseTimeout,
    InvalidStateTransition,
    MissingContextError,
    ObjectNotFound,
    ParameterError,
)
from legato.flow_runs import pause_flow_run, resume_flow_run, suspend_flow_run

SUSPENDING_FLOW = """
    import sys
    from pathlib import Path

    from legato import flow, task
    from legato.engine.existing_runs import run_existing_flow_run
    from legato.flow_runs import suspend_flow_run
    from legato.runtime import flow_run

    CALLS = Path(__file__).with_name("calls.txt")
    TIMEOUT = float(sys.argv[1])


    @task
    def record(label: str) -> str:
        with CALLS.open("a") as calls:
            calls.write(label + "\\n")
        return label.upper()


    @flow
    def onboarding(user: str = "ann") -> list[str]:
        print("RUN", flow_run.id, flush=True)
        first = record(f"{user}-a")
        second = record.submit(f"{user}-b").result()
        seats = suspend_flow_run(wait_for_input=int, timeout=TIMEOUT)
        third = record(f"{user}-c-{seats}")
        suspend_flow_run(timeout=TIMEOUT)
        return [first, second, third, record(f"{user}-d")]


    if __name__ == "__main__":
        if len(sys.argv) > 2:
            state = run_existing_flow_run(onboarding, sys.argv[2])
            result = state.result() if state.is_completed() else None
            print("STATE", state.type.value, state.name, result, flush=True)
        else:
            onboarding(user="ann")
            print("NOT REACHED", flush=True)
"""


@pytest.fixture
def script(tmp_path):
    return write_script(tmp_path, "suspending_flow.py", SUSPENDING_FLOW)


def test_a_suspended_run_starts_again_without_running_completed_tasks(home, script):
    calls_file = script.with_name("calls.txt")
    # The first process runs two tasks, suspends, and exits 0 without a final state.
    first = home.start(script, "60")
    run_id = first.wait_for_line("RUN ")
    assert first.finish() == 0
    assert "NOT REACHED" not in first.text
    run = home.client.read_flow_run(run_id)
    assert (run.state.type.value, run.state.name) == ("PAUSED", "Suspended")
    assert run.state.state_details.pause_reschedule is True
    assert calls(calls_file) == ["ann-a", "ann-b"]

    # Resumed with its input, the run is scheduled to start again.
    result = home.client.resume_flow_run(run_id, {"value": 3})
    assert (result.state.type.value, result.state.name) == ("SCHEDULED", "Resuming")

    # The second process replays a and b, runs c with the input, and suspends again.
    second = home.start(script, "60", run_id)
    assert second.finish() == 0
    assert calls(calls_file) == ["ann-a", "ann-b", "ann-c-3"]
    assert home.client.read_flow_run(run_id).state.name == "Suspended"
    home.client.resume_flow_run(run_id)

    # The third process goes past both suspensions and completes.
    third = home.start(script, "60", run_id)
    assert third.finish() == 0
    assert "STATE COMPLETED Completed ['ANN-A', 'ANN-B', 'ANN-C-3', 'ANN-D']" in third.text
    assert calls(calls_file) == ["ann-a", "ann-b", "ann-c-3", "ann-d"]
    run = home.client.read_flow_run(run_id)
    assert run.run_count == 3
    names = sorted(
        (t.name, t.state.name) for t in home.client.read_task_runs(flow_run_id=run_id, limit=50)
    )
    assert names.count(("record-0", "Cached")) == 2  # replayed in the 2nd and 3rd processes
    assert names.count(("record-3", "Completed")) == 1


def test_a_suspended_run_cannot_be_resumed_after_its_timeout(legato_home, script):
    from _pause_helpers import FlowProcess

    from legato.client.embedded import EmbeddedClient

    first = FlowProcess(script, ["1"], {"LEGATO_HOME": str(legato_home)})
    run_id = first.wait_for_line("RUN ")
    assert first.finish() == 0
    with EmbeddedClient(legato_home / "legato.db") as client:
        expiry = wait_for_state(client, run_id, "PAUSED").state.state_details.pause_timeout
        wait_until(lambda: dt.datetime.now(dt.UTC) > expiry, "the suspension to time out")

        with pytest.raises(FlowPauseTimeout, match="not resumed in time"):
            resume_flow_run(run_id, {"value": 1})

        run = client.read_flow_run(run_id)
        assert run.state.type.value == "FAILED"
        assert "cannot be resumed now" in run.state.message


# -- refused uses, in this process --------------------------------------------------------


@task
def pausing_task() -> None:
    pause_flow_run(timeout=5)


@flow
def flow_pausing_in_a_task() -> None:
    pausing_task()


def test_a_task_cannot_pause():
    with pytest.raises(MissingContextError, match="inside a task run: only a flow can pause"):
        flow_pausing_in_a_task()


def test_pausing_outside_a_flow_says_how_to_resume_instead():
    with pytest.raises(MissingContextError, match="outside of a flow run"):
        pause_flow_run(timeout=5)


@flow
def suspending_child() -> None:
    suspend_flow_run(timeout=5)


@flow
def parent_of_suspending_child() -> None:
    suspending_child()


def test_a_subflow_cannot_suspend():
    with pytest.raises(MissingContextError, match="only a top-level flow run can be suspended"):
        parent_of_suspending_child()


@flow
def pause_with(timeout: float, key: str | None = None) -> None:
    pause_flow_run(timeout=timeout, key=key)


@pytest.mark.parametrize(
    ("timeout", "key", "message"),
    [
        (0, None, "timeout=0"),
        (-1, None, "timeout=-1"),
        (5, "no spaces", "'no spaces' is not valid"),
    ],
)
def test_bad_pause_arguments_are_refused(timeout, key, message):
    with pytest.raises(ParameterError, match=message):
        pause_with(timeout, key)


@flow
def plain_flow() -> int:
    return 1


@flow
def flow_that_suspends() -> None:
    suspend_flow_run(timeout=5)


def test_only_flows_whose_code_suspends_persist_by_default():
    assert persistence.may_suspend(flow_that_suspends)
    assert not persistence.may_suspend(plain_flow)


def test_run_existing_flow_run_refuses_runs_that_are_not_waiting_to_start(legato_home):
    state = plain_flow(return_state=True)
    run_id = state.state_details.flow_run_id
    with pytest.raises(InvalidStateTransition, match="not waiting to start"):
        run_existing_flow_run(plain_flow, run_id)
    with pytest.raises(ParameterError, match="is a run of flow 'plain-flow', not of"):
        run_existing_flow_run(flow_that_suspends, run_id)
    with pytest.raises(ObjectNotFound):
        run_existing_flow_run(plain_flow, "01a20000-0000-7000-8000-000000000000")


def test_with_return_state_a_suspension_returns_the_suspended_state(legato_home):
    from legato.client.embedded import EmbeddedClient

    state = flow_that_suspends(return_state=True)

    assert (state.type.value, state.name) == ("PAUSED", "Suspended")
    with EmbeddedClient(legato_home / "legato.db") as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.state.name == "Suspended"
    assert run.state.state_details.pause_reschedule is True
