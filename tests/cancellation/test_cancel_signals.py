"""Cancelling a flow run in a real subprocess: CANCELLING, then SIGTERM to its process.

The run, its in-process subflow and their task runs still running end
CANCELLED, and on_cancellation hooks run; a plain SIGTERM still ends them
CRASHED with on_crashed hooks.
"""

from __future__ import annotations

import signal

import pytest
from _pause_helpers import FlowProcess, wait_for_state, wait_until, write_script

from legato import flow
from legato.engine.existing_runs import run_existing_flow_run

CANCELLABLE_FLOW = """
    import asyncio
    import sys
    import time
    from pathlib import Path

    from legato import flow, task
    from legato.flow_runs import pause_flow_run
    from legato.runtime import flow_run

    HERE = Path(__file__).parent
    MODE = sys.argv[1]


    def say(*words):  # one write per line: threads print too
        sys.stdout.write(" ".join(str(word) for word in words) + "\\n")
        sys.stdout.flush()


    def mark(kind):
        def hook(flow, flow_run, state):
            (HERE / f"{kind}-{flow.name}.txt").write_text(state.type.value)
        return hook


    HOOKS = {"on_cancellation": [mark("cancelled")], "on_crashed": [mark("crashed")]}


    @task
    def sleepy(seconds: float) -> None:
        say("SLEEPING")
        time.sleep(seconds)


    @flow(**HOOKS)
    def child() -> None:
        say("CHILD", flow_run.id)
        sleepy(60)


    @flow(**HOOKS)
    def parent() -> None:
        say("RUN", flow_run.id)
        background = sleepy.submit(60)
        child()
        background.result()


    @flow(**HOOKS)
    async def aparent() -> None:
        say("RUN", flow_run.id)
        say("SLEEPING")
        await asyncio.sleep(60)


    @flow(**HOOKS)
    def waiting() -> None:
        say("RUN", flow_run.id)
        pause_flow_run(timeout=60, poll_interval=0.05)


    if __name__ == "__main__":
        {"sync": parent, "async": lambda: asyncio.run(aparent()), "paused": waiting}[MODE]()
"""


@pytest.fixture
def script(tmp_path):
    return write_script(tmp_path, "cancellable_flow.py", CANCELLABLE_FLOW)


def _markers(folder):
    return sorted(path.name for path in folder.glob("*.txt"))


def test_cancelling_then_sigterm_ends_the_run_and_its_subflow_cancelled(home, script):
    flow_process = home.start(script, "sync")
    run_id = flow_process.wait_for_line("RUN ")
    child_id = flow_process.wait_for_line("CHILD ")
    wait_until(lambda: flow_process.text.count("SLEEPING") == 2, "both tasks to be running")
    wait_for_state(home.client, child_id, "RUNNING")

    result = home.client.cancel_flow_run(run_id)
    assert (result.status.value, result.state.type.value) == ("ACCEPT", "CANCELLING")
    flow_process.process.send_signal(signal.SIGTERM)

    # The process ends well before its tasks' 60 s sleeps would.
    assert flow_process.finish(timeout=30) != 0
    for flow_run_id in (run_id, child_id):
        run = home.client.read_flow_run(flow_run_id)
        assert run.state.type.value == "CANCELLED", run.state
    assert "SIGTERM" in home.client.read_flow_run(run_id).state.message
    task_states = {
        (t.name, t.state.type.value) for t in home.client.read_task_runs(flow_run_id=run_id)
    }
    assert task_states == {("sleepy-0", "CANCELLED"), ("child-0", "CANCELLED")}
    [child_task] = home.client.read_task_runs(flow_run_id=child_id)
    assert child_task.state.type.value == "CANCELLED"
    assert _markers(script.parent) == ["cancelled-child.txt", "cancelled-parent.txt"]


def test_a_plain_sigterm_still_ends_the_runs_crashed(legato_home, script):
    from legato.client.embedded import EmbeddedClient

    flow_process = FlowProcess(script, ["sync"], {"LEGATO_HOME": str(legato_home)})
    run_id = flow_process.wait_for_line("RUN ")
    wait_until(lambda: flow_process.text.count("SLEEPING") == 2, "both tasks to be running")

    flow_process.process.send_signal(signal.SIGTERM)

    # The process ends well before its tasks' 60 s sleeps would.
    assert flow_process.finish(timeout=30) != 0
    with EmbeddedClient(legato_home / "legato.db") as client:
        assert client.read_flow_run(run_id).state.type.value == "CRASHED"
        task_states = {t.state.type.value for t in client.read_task_runs(flow_run_id=run_id)}
    assert task_states == {"CRASHED"}
    assert _markers(script.parent) == ["crashed-child.txt", "crashed-parent.txt"]


def test_an_async_flow_is_cancelled_too(legato_home, script):
    from legato.client.embedded import EmbeddedClient

    flow_process = FlowProcess(script, ["async"], {"LEGATO_HOME": str(legato_home)})
    run_id = flow_process.wait_for_line("RUN ")
    flow_process.wait_for_line("SLEEPING")
    with EmbeddedClient(legato_home / "legato.db") as client:
        wait_for_state(client, run_id, "RUNNING")
        client.cancel_flow_run(run_id)
        flow_process.process.send_signal(signal.SIGTERM)
        assert flow_process.finish(timeout=30) != 0
        assert client.read_flow_run(run_id).state.type.value == "CANCELLED"
    assert _markers(script.parent) == ["cancelled-aparent.txt"]


def test_a_paused_run_that_is_cancelled_ends_cancelled_without_a_signal(legato_home, script):
    from legato.client.embedded import EmbeddedClient

    flow_process = FlowProcess(script, ["paused"], {"LEGATO_HOME": str(legato_home)})
    run_id = flow_process.wait_for_line("RUN ")
    with EmbeddedClient(legato_home / "legato.db") as client:
        wait_for_state(client, run_id, "PAUSED")
        assert client.cancel_flow_run(run_id).state.type.value == "CANCELLING"
        assert flow_process.finish(timeout=30) != 0
        run = client.read_flow_run(run_id)
    assert run.state.type.value == "CANCELLED"
    assert "cancelled while it was paused" in run.state.message
    assert _markers(script.parent) == ["cancelled-waiting.txt"]


ran: list[str] = []


def _note_cancelled(flow, flow_run, state):
    ran.append(f"hook {state.type.value}")


@flow(on_cancellation=[_note_cancelled])
def never_started() -> None:
    ran.append("body")


def test_a_run_cancelled_before_it_starts_does_not_run(legato_home):
    from legato.client.embedded import EmbeddedClient
    from legato.states import Scheduled

    ran.clear()
    with EmbeddedClient(legato_home / "legato.db") as client:
        run = client.create_flow_run(never_started, state=Scheduled())
        assert client.cancel_flow_run(run.id).state.type.value == "CANCELLED"

    state = run_existing_flow_run(never_started, run.id)

    assert state.type.value == "CANCELLED"
    assert ran == ["hook CANCELLED"]
