"""``legato worker start`` as a real subprocess, launching real flow processes from entrypoints."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
from _worker_support import state_of, wait_for

from legato.states import Cancelling


def history(client, run_id) -> list[str]:
    return [str(state.type) for state in client.read_flow_run_states(run_id)]


def test_a_deployed_run_completes_with_its_output_in_the_worker(store, pool_name):
    with store.client() as client:
        deployment_id = store.deploy(client, "greet", pool_name, parameters={"name": "dep"})
        run = client.create_flow_run_from_deployment(deployment_id, parameters={"n": 3})

        result = store.run_worker("--pool", pool_name)

        assert result.returncode == 0, result.stderr
        assert "GREETING dep x3 from greet-" in result.stdout  # the flow's stdout, streamed
        assert f"(run {run.id})" in result.stdout
        assert f"deployment_id={deployment_id} id={deployment_id}" in result.stdout
        assert "deployment_parameters={'name': 'dep'}" in result.stdout
        scheduled = result.stdout.split("scheduled=", 1)[1].split()[0]
        drift = datetime.fromisoformat(scheduled) - run.expected_start_time
        assert abs(drift.total_seconds()) < 0.001
        assert "Finished in state Completed()" in result.stderr
        finished = client.read_flow_run(run.id)
        assert str(finished.state.type) == "COMPLETED"
        assert finished.name == run.name
        assert finished.deployment_id == deployment_id
        assert finished.work_pool_name == pool_name
        assert finished.parameters == {"name": "dep", "n": 3}
        host, _, pid = finished.infrastructure_pid.rpartition(":")
        assert host == socket.gethostname() and int(pid) > 0
        assert history(client, run.id) == ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"]
        assert client.read_workers_for_work_pool(pool_name)


def test_a_pool_that_does_not_exist(store, pool_name):
    refused = store.run_worker("--pool", pool_name)

    assert refused.returncode == 1
    assert f"Work pool {pool_name!r} does not exist" in refused.stderr
    assert "--type process" in refused.stderr

    created = store.run_worker("--pool", pool_name, "--type", "process")

    assert created.returncode == 0, created.stderr
    with store.client() as client:
        pool = client.read_work_pool(pool_name)
    assert pool.type == "process"
    assert pool.base_job_template["variables"]["properties"]["stream_output"]["default"] is True


def test_failures_end_failed_or_crashed_with_the_reason(store, pool_name):
    with store.client() as client:
        failing = client.create_flow_run_from_deployment(store.deploy(client, "fails", pool_name))
        dying = client.create_flow_run_from_deployment(store.deploy(client, "dies", pool_name))
        bad_parameter = client.create_flow_run_from_deployment(
            store.deploy(client, "greet", pool_name, enforce_parameter_schema=False),
            parameters={"name": "x", "n": "not a number"},
        )
        no_file = client.create_flow_run_from_deployment(
            store.deploy(client, "greet", pool_name, entrypoint="missing.py:greet")
        )

        result = store.run_worker("--pool", pool_name, "--limit", "4")

        assert result.returncode == 0, result.stderr
        runs = {
            name: client.read_flow_run(run.id)
            for name, run in [
                ("failing", failing),
                ("dying", dying),
                ("bad_parameter", bad_parameter),
                ("no_file", no_file),
            ]
        }
    assert str(runs["failing"].state.type) == "FAILED"
    assert "the data is wrong" in runs["failing"].state.message
    assert str(runs["dying"].state.type) == "CRASHED"
    assert "exited with status code 3" in runs["dying"].state.message
    assert str(runs["bad_parameter"].state.type) == "FAILED"
    assert "could not start" in runs["bad_parameter"].state.message
    assert "n='not a number'" in runs["bad_parameter"].state.message
    assert str(runs["no_file"].state.type) == "CRASHED"
    assert "'missing.py' does not exist" in runs["no_file"].state.message


@pytest.mark.parametrize("ignore_sigterm", [False, True], ids=["graceful", "killed"])
def test_cancelling_a_run_stops_its_process_and_ends_it_cancelled(store, pool_name, ignore_sigterm):
    with store.client() as client:
        deployment_id = store.deploy(client, "slow", pool_name)
        run = client.create_flow_run_from_deployment(
            deployment_id, parameters={"ignore_sigterm": ignore_sigterm}
        )
        # The grace period is what a flow gets to end by itself after SIGTERM (hooks included).
        grace = "1" if ignore_sigterm else "30"
        worker = store.legato(
            "worker", "start", "--pool", pool_name, LEGATO_WORKER_CANCELLATION_GRACE_SECONDS=grace
        )
        started = store.markers / f"started-{run.id}"
        wait_for(started.exists, what="the flow to start")
        wait_for(lambda: state_of(client, run.id) == "RUNNING", what="the run to be Running")

        client.set_flow_run_state(run.id, Cancelling())

        wait_for(lambda: state_of(client, run.id) == "CANCELLED", what="the run to end Cancelled")
        pid = int(client.read_flow_run(run.id).infrastructure_pid.rpartition(":")[2])
        wait_for(lambda: not _alive(pid), what="the flow process to end")
        assert worker.poll() is None  # the worker keeps running
        hook_ran = (store.markers / f"cancelled-{run.id}").exists()
        # A flow that ignores SIGTERM is killed: its hooks cannot run; the worker settles the state.
        assert hook_ran is not ignore_sigterm
        if hook_ran:
            assert (store.markers / f"cancelled-{run.id}").read_text() == "CANCELLED"
        assert history(client, run.id)[-2:] == ["CANCELLING", "CANCELLED"]


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
