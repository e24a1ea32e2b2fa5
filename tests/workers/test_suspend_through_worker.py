"""A deployed run that suspends itself, resumed, then finished by a second worker run.

Real processes throughout: ``legato worker start --run-once`` launches the flow
process (``python -m legato.engine.deployed_run``); the flow runs task A,
suspends (the process exits 0 and the run is Suspended), is resumed through the
client, and a second worker run starts it again as the same flow run: task A's
persisted result is replayed (its function is not called again) and task B runs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from _worker_support import Store, state_of

from legato.states import Cancelling, Pending

SUSPENDING = """
import os
from pathlib import Path

from legato import flow, task
from legato.flow_runs import suspend_flow_run


def _count(name: str) -> None:
    with open(Path(os.environ["MARKER_DIR"], "counter.txt"), "a") as counter:
        counter.write(name + "\\n")


@task
def step_a() -> str:
    _count("A")
    return "a-result"


@task
def step_b(previous: str) -> str:
    _count("B")
    return previous + "+b"


@flow
def suspends_between() -> str:
    first = step_a()
    suspend_flow_run(timeout=60)
    return step_b(first)
"""


def counted(store: Store) -> list[str]:
    counter = store.markers / "counter.txt"
    return counter.read_text().split() if counter.exists() else []


def test_a_suspended_deployed_run_is_resumed_and_finished_by_a_worker(store, pool_name):
    (store.project / "suspending.py").write_text(textwrap.dedent(SUSPENDING))
    with store.client() as client:
        deployment_id = store.deploy(
            client, "suspends_between", pool_name, entrypoint="suspending.py:suspends_between"
        )
        run = client.create_flow_run_from_deployment(deployment_id)

        first = store.run_worker("--pool", pool_name)

        assert first.returncode == 0, first.stderr
        suspended = client.read_flow_run(run.id)
        assert str(suspended.state.type) == "PAUSED", first.stderr
        assert suspended.state.name == "Suspended"
        assert counted(store) == ["A"]

        client.resume_flow_run(run.id)
        assert state_of(client, run.id) == "SCHEDULED"

        second = store.run_worker("--pool", pool_name)

        assert second.returncode == 0, second.stderr
        finished = client.read_flow_run(run.id)
        assert str(finished.state.type) == "COMPLETED", second.stderr
        assert counted(store) == ["A", "B"]  # A ran once, in the first attempt only
        assert finished.name == run.name and finished.deployment_id == deployment_id
        assert finished.run_count == 2
        history = [str(state.type) for state in client.read_flow_run_states(run.id)]
        assert history == [
            "SCHEDULED",
            "PENDING",
            "RUNNING",
            "PAUSED",
            "SCHEDULED",
            "PENDING",
            "RUNNING",
            "COMPLETED",
        ]
        task_runs = client.read_task_runs(flow_run_id=run.id)
        a_runs = [task_run for task_run in task_runs if task_run.name.startswith("step_a")]
        assert sorted(task_run.state.name for task_run in a_runs) == ["Cached", "Completed"]


def test_a_resumed_run_started_by_hand_replays_its_tasks(embedded_store, pool_name):
    """``python -m legato.engine.deployed_run ID`` with no snapshot: reads, claims and resumes."""
    store = embedded_store
    (store.project / "suspending.py").write_text(textwrap.dedent(SUSPENDING))
    with store.client() as client:
        deployment_id = store.deploy(
            client, "suspends_between", pool_name, entrypoint="suspending.py:suspends_between"
        )
        run = client.create_flow_run_from_deployment(deployment_id)
        assert store.run_worker("--pool", pool_name).returncode == 0
        assert state_of(client, run.id) == "PAUSED"
        client.resume_flow_run(run.id)

        process = run_by_hand(store, run.id)

        assert process.returncode == 0, process.stderr
        assert state_of(client, run.id) == "COMPLETED"
        assert counted(store) == ["A", "B"]


def run_by_hand(store: Store, run_id: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "legato.engine.deployed_run", str(run_id)],
        env=store.env(),
        cwd=store.project,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_a_run_cancelling_before_its_process_starts_ends_cancelled(embedded_store, pool_name):
    store = embedded_store
    with store.client() as client:
        deployment_id = store.deploy(client, "greet", pool_name, parameters={"name": "x"})
        run = client.create_flow_run_from_deployment(deployment_id)
        client.set_flow_run_state(run.id, Pending())
        client.set_flow_run_state(run.id, Cancelling(), force=True)

        result = run_by_hand(store, run.id)

        assert result.returncode == 1, result.stderr
        assert "GREETING" not in result.stdout  # the flow did not run
        finished = client.read_flow_run(run.id)
        assert str(finished.state.type) == "CANCELLED"
        assert finished.state.message == "Cancelled before it started running."


def test_an_entrypoint_holding_another_flow_crashes_the_run(embedded_store, pool_name):
    store = embedded_store
    with store.client() as client:
        deployment_id = store.deploy(client, "greet", pool_name, entrypoint="flows.py:trivial")
        run = client.create_flow_run_from_deployment(deployment_id)

        result = store.run_worker("--pool", pool_name)

        assert result.returncode == 0, result.stderr
        finished = client.read_flow_run(run.id)
        assert str(finished.state.type) == "CRASHED"
        assert "holds flow 'trivial', but the run is a run of flow 'greet'" in (
            finished.state.message
        )
