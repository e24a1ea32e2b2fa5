"""pause_flow_run in a real flow subprocess, resumed from the test through a client.

Each flow records into the embedded store or a real server (``home``); the
test waits (bounded) for the run to be PAUSED, checks what was recorded, and
resumes it with or without input.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from _pause_helpers import wait_for_state, write_script

from legato.exceptions import NotPausedError, ParameterError

PAUSING_FLOW = """
    import asyncio
    import sys

    from pydantic import BaseModel

    from legato import flow, task
    from legato.flow_runs import pause_flow_run
    from legato.runtime import flow_run

    MODE = sys.argv[1]


    class Approval(BaseModel):
        approved: bool
        reviewer: str = "nobody"


    @task
    def add_one(x: int) -> int:
        return x + 1


    @flow
    def review(n: int = 1) -> int:
        print("RUN", flow_run.id, flush=True)
        first = add_one(n)
        if MODE == "model":
            answer = pause_flow_run(wait_for_input=Approval, timeout=30, poll_interval=0.05)
            print("ANSWER", type(answer).__name__, answer.model_dump_json(), flush=True)
        elif MODE == "timeout":
            pause_flow_run(timeout=1, poll_interval=0.05)
        else:
            print("ANSWER", pause_flow_run(timeout=30, poll_interval=0.05), flush=True)
        return add_one(first)


    @flow
    async def areview(n: int = 1) -> int:
        print("RUN", flow_run.id, flush=True)
        extra = await pause_flow_run(wait_for_input=int, timeout=30, poll_interval=0.05)
        return n + extra


    if __name__ == "__main__":
        if MODE == "async":
            print("RESULT", asyncio.run(areview()), flush=True)
        else:
            state = review(return_state=True)
            print("STATE", state.type.value, state.message, flush=True)
"""


@pytest.fixture
def script(tmp_path):
    return write_script(tmp_path, "pausing_flow.py", PAUSING_FLOW)


def test_a_paused_flow_waits_in_its_process_until_it_is_resumed(home, script):
    flow = home.start(script, "plain")
    run_id = flow.wait_for_line("RUN ")
    paused = wait_for_state(home.client, run_id, "PAUSED")
    # While paused, the second task has not run and the process is still there.
    assert [t.name for t in home.client.read_task_runs(flow_run_id=run_id)] == ["add_one-0"]
    assert flow.process.poll() is None
    details = paused.state.state_details
    assert details.pause_key == "1"
    assert details.pause_reschedule is False
    assert details.run_input_keyset is None
    remaining = details.pause_timeout - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=20) < remaining <= dt.timedelta(seconds=31)

    result = home.client.resume_flow_run(run_id)

    assert result.status.value == "ACCEPT"
    assert result.state.type.value == "RUNNING"
    assert flow.finish() == 0
    assert "ANSWER None" in flow.text
    assert "STATE COMPLETED" in flow.text
    history = [state.type.value for state in home.client.read_flow_run_states(run_id)]
    assert history == ["PENDING", "RUNNING", "PAUSED", "RUNNING", "COMPLETED"]
    assert len(home.client.read_task_runs(flow_run_id=run_id, state_types=["COMPLETED"])) == 2


def test_input_is_checked_against_what_the_run_waits_for(home, script):
    flow = home.start(script, "model")
    run_id = flow.wait_for_line("RUN ")
    paused = wait_for_state(home.client, run_id, "PAUSED")
    keyset = paused.state.state_details.run_input_keyset
    assert keyset == {
        "description": "paused-1-description",
        "response": "paused-1-response",
        "schema": "paused-1-schema",
    }
    schema = home.client.read_flow_run_input(run_id, keyset["schema"])
    assert schema["required"] == ["approved"]

    # When the input does not fit, the error names the field and the run stays paused.
    with pytest.raises(ParameterError, match="approved"):
        home.client.resume_flow_run(run_id, {"approved": "perhaps"})
    with pytest.raises(ParameterError, match="'approved' is a required property"):
        home.client.resume_flow_run(run_id, {"reviewer": "ann"})
    assert home.client.read_flow_run(run_id).state.type.value == "PAUSED"

    result = home.client.resume_flow_run(run_id, {"approved": True, "reviewer": "ann"})

    assert result.status.value == "ACCEPT"
    assert flow.finish() == 0
    answer = flow.wait_for_line("ANSWER ")
    kind, value = answer.split(" ", 1)
    assert kind == "Approval"  # the flow gets its own model class back
    assert json.loads(value) == {"approved": True, "reviewer": "ann"}
    assert home.client.read_flow_run_input(run_id, keyset["response"]) == {
        "approved": True,
        "reviewer": "ann",
    }
    assert "STATE COMPLETED" in flow.text


def test_a_pause_that_is_not_resumed_in_time_fails_the_run(home, script):
    flow = home.start(script, "timeout")
    run_id = flow.wait_for_line("RUN ")

    assert flow.finish() == 0

    run = home.client.read_flow_run(run_id)
    assert run.state.type.value == "FAILED"
    assert "paused for 1 s without being resumed" in run.state.message
    assert f"legato flow-run resume {run_id}" in run.state.message
    assert "STATE FAILED" in flow.text
    with pytest.raises(NotPausedError, match="not paused"):
        home.client.resume_flow_run(run_id)


def test_an_async_flow_awaits_the_pause_and_gets_its_input(legato_home, tmp_path, script):
    from _pause_helpers import FlowProcess

    from legato.client.embedded import EmbeddedClient

    flow = FlowProcess(script, ["async"], {"LEGATO_HOME": str(legato_home)})
    run_id = flow.wait_for_line("RUN ")
    with EmbeddedClient(legato_home / "legato.db") as client:
        wait_for_state(client, run_id, "PAUSED")
        with pytest.raises(ParameterError, match="value"):
            client.resume_flow_run(run_id, {"value": "many"})
        client.resume_flow_run(run_id, {"value": 41})
    assert flow.finish() == 0
    assert flow.wait_for_line("RESULT ") == "42"
