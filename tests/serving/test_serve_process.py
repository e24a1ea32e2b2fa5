"""flow.serve() and legato.serve() in real processes, on the embedded store and on a real server.

Each test starts ``python flows.py MODE NAME`` in a project folder (see
conftest), waits for its banner, and drives it from the test process
through ``run_deployment`` and the client.
"""

from __future__ import annotations

import signal

import pytest
from _serve_process import unique, wait_until

from legato.client import get_client
from legato.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId
from legato.deployments import run_deployment
from legato.states import Cancelling

pytestmark = pytest.mark.slow


def runs_of(client, deployment_id):
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]))
    )


def test_a_served_flow_runs_an_ad_hoc_run_to_completion(serve_process, store):
    name = unique("greeter")
    served = serve_process("greet", name, env=store)
    served.wait_for_line(f"legato deployment run greet/{name}")

    run = run_deployment(f"greet/{name}", parameters={"name": "Ada"}, timeout=90)

    assert run.state is not None and run.state.is_completed(), served.output
    assert run.parameters == {"name": "Ada"}
    served.wait_for_line("hello Ada", timeout=30)  # the flow's output is streamed by serve
    with get_client(sync_client=True) as client:
        logs = client.read_logs(flow_run_id=run.id)
        deployment = client.read_deployment(run.deployment_id)
    assert any("hello Ada" in row["message"] for row in logs)
    assert str(getattr(deployment.status, "value", deployment.status)) == "READY"  # it is polled


def test_the_banner_names_the_flow_and_the_command(serve_process, store):
    name = unique("greeter")
    served = serve_process("greet", name, env=store)

    line = served.wait_for_line("is being served")

    assert "Your flow 'greet' is being served" in line
    served.wait_for_line(f"legato deployment run greet/{name}")


def test_an_interval_schedule_creates_and_runs_runs(serve_process, store):
    name = unique("every-second")
    served = serve_process("interval", name, env=store)
    served.wait_for_line("is being served")

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"ticking/{name}")

        def completed():
            return [
                run
                for run in runs_of(client, deployment.id)
                if run.state is not None and run.state.is_completed()
            ]

        done = wait_until(completed, timeout=90, what="a scheduled run to complete")
    assert all(run.auto_scheduled for run in done)


def test_sigterm_stops_serving_cleanly_and_pauses_scheduled_deployments(serve_process, store):
    name = unique("every-second")
    served = serve_process("interval", name, env=store)
    served.wait_for_line("is being served")

    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(timeout=60)

    assert code == 0, served.output
    served.wait_for_line("Received SIGTERM", timeout=5)
    served.wait_for_line("Stopped serving (SIGTERM)", timeout=5)
    with get_client(sync_client=True) as client:
        assert client.read_deployment_by_name(f"ticking/{name}").paused


def test_pause_on_shutdown_false_keeps_the_schedule(serve_process, store):
    name = unique("kept")
    served = serve_process("keep-schedule", name, env=store)
    served.wait_for_line("is being served")

    assert served.stop() == 0
    with get_client(sync_client=True) as client:
        assert not client.read_deployment_by_name(f"ticking/{name}").paused


def test_a_cancelled_run_has_its_process_stopped(serve_process, store):
    name = unique("pair")
    served = serve_process("several", name, env=store)
    served.wait_for_line("are being served")
    run = run_deployment(f"sleepy/{name}", timeout=0)

    with get_client(sync_client=True) as client:
        wait_until(
            lambda: client.read_flow_run(run.id).state.is_running(),
            timeout=90,
            what="the run to start",
        )
        served.wait_for_line("sleepy started", timeout=30)
        client.set_flow_run_state(run.id, Cancelling())
        final = wait_until(
            lambda: (state := client.read_flow_run(run.id).state).is_final() and state,
            timeout=90,
            what="the run to end",
        )
    assert final.is_cancelled(), served.output


def test_stopping_serve_stops_the_runs_in_progress(serve_process, store):
    name = unique("pair")
    served = serve_process("several", name, env=store)
    served.wait_for_line("are being served")
    run = run_deployment(f"sleepy/{name}", timeout=0)
    with get_client(sync_client=True) as client:
        wait_until(
            lambda: client.read_flow_run(run.id).state.is_running(),
            timeout=90,
            what="the run to start",
        )

        assert served.stop() == 0
        state = client.read_flow_run(run.id).state

    assert "stopping 1 run(s) in progress" in served.output
    assert state.is_final(), state
