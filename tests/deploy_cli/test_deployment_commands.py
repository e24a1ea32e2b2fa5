"""legato deployment ls / inspect / run / delete / pause / resume."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from _cli_helpers import as_json, failed, ok, unique

from legato.client import get_client
from legato.flows import load_flow_from_entrypoint
from legato.states import Completed, Failed, Pending, Running


@pytest.fixture
def deployment(project, any_store) -> str:
    name = unique("nightly")
    greet = load_flow_from_entrypoint("flows.py:greet")
    greet.to_deployment(name, interval=3600, tags=["etl"], parameters={"name": "Bob"}).apply()
    return f"greet/{name}"


@pytest.fixture
def local_deployment(project, cli_store) -> str:
    name = unique("local")
    load_flow_from_entrypoint("flows.py:greet").to_deployment(name).apply()
    load_flow_from_entrypoint("flows.py:other").to_deployment(name).apply()
    return f"greet/{name}"


def read_run(run_id):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def created_run_id(output: str) -> str:
    return output.split("(", 1)[1].split(")", 1)[0]


def test_ls_lists_deployments_with_their_schedules(invoke, deployment):
    out = ok(invoke("deployment", "ls"))

    assert deployment in out
    assert "every 1h 0m 0s" in out


def test_ls_filters_by_flow_name(invoke, local_deployment):
    rows = as_json(invoke("deployment", "ls", "--flow-name", "other", "-o", "json"))

    assert {row["flow_name"] for row in rows} == {"other"}


def test_inspect_shows_the_fields_and_schedules(invoke, deployment):
    out = ok(invoke("deployment", "inspect", deployment))
    data = as_json(invoke("deployment", "inspect", deployment, "-o", "json"))

    assert "flows.py:greet" in out
    assert "every 1h 0m 0s" in out
    assert data["flow_name"] == "greet"
    assert data["parameters"] == {"name": "Bob"}
    assert data["schedules"][0]["schedule"]["interval"] == 3600


def test_inspect_by_id(invoke, deployment):
    deployment_id = as_json(invoke("deployment", "inspect", deployment, "-o", "json"))["id"]

    assert (
        as_json(invoke("deployment", "inspect", deployment_id, "-o", "json"))["id"] == deployment_id
    )


@pytest.mark.parametrize("command", ["inspect", "run", "delete", "pause", "resume"])
def test_an_unknown_deployment_says_how_to_list_them(invoke, cli_store, command):
    err = failed(invoke("deployment", command, "greet/missing"))

    assert "Deployment 'greet/missing' not found" in err
    assert "legato deployment ls" in err


def test_a_name_without_a_slash_is_explained(invoke, cli_store):
    assert "flow-name/deployment-name" in failed(invoke("deployment", "inspect", "nightly"))


def test_run_creates_a_scheduled_run_with_parameters_and_tags(invoke, deployment):
    out = ok(
        invoke(
            "deployment",
            "run",
            deployment,
            "--param",
            "name=Ada",
            "--param",
            "times=3",
            "--tag",
            "adhoc",
        )
    )

    run = read_run(created_run_id(out))
    assert run.parameters == {"name": "Ada", "times": 3}
    assert sorted(run.tags) == ["adhoc", "etl"]
    assert run.state.is_scheduled()


def test_run_merges_params_json_under_param_pairs(invoke, local_deployment):
    out = ok(
        invoke(
            "deployment",
            "run",
            local_deployment,
            "--params",
            '{"name": "A", "times": 2}',
            "-p",
            "name=B",
        )
    )

    assert read_run(created_run_id(out)).parameters == {"name": "B", "times": 2}


def test_run_refuses_a_parameter_of_the_wrong_type_naming_it(invoke, local_deployment):
    err = failed(invoke("deployment", "run", local_deployment, "--param", "times=many"))

    assert "times" in err


def test_run_refuses_bad_param_syntax(invoke, local_deployment):
    assert "KEY=VALUE" in failed(invoke("deployment", "run", local_deployment, "--param", "oops"))


def test_run_start_in_schedules_it_later(invoke, local_deployment):
    before = dt.datetime.now(dt.UTC)
    out = ok(invoke("deployment", "run", local_deployment, "--start-in", "2 hours"))

    expected = read_run(created_run_id(out)).expected_start_time
    assert dt.timedelta(hours=2) <= expected - before < dt.timedelta(hours=2, minutes=1)


def test_run_start_at_takes_an_iso_time(invoke, local_deployment):
    out = ok(
        invoke("deployment", "run", local_deployment, "--start-at", "2031-05-06T07:08:00+00:00")
    )

    assert read_run(created_run_id(out)).expected_start_time == dt.datetime(
        2031, 5, 6, 7, 8, tzinfo=dt.UTC
    )


def test_run_refuses_start_in_with_start_at(invoke, local_deployment):
    err = failed(
        invoke(
            "deployment", "run", local_deployment, "--start-in", "1h", "--start-at", "2031-01-01"
        )
    )

    assert "not both" in err


def test_run_with_an_idempotency_key_twice_gives_one_run(invoke, local_deployment):
    first = created_run_id(
        ok(invoke("deployment", "run", local_deployment, "--idempotency-key", "k1"))
    )
    second = created_run_id(
        ok(invoke("deployment", "run", local_deployment, "--idempotency-key", "k1"))
    )

    assert first == second


def test_run_job_variables_are_stored_on_the_run(invoke, local_deployment):
    out = ok(
        invoke(
            "deployment",
            "run",
            local_deployment,
            "-jv",
            'env={"A": "1"}',
            "--job-variable",
            "stream_output=false",
        )
    )

    assert read_run(created_run_id(out)).job_variables == {
        "env": {"A": "1"},
        "stream_output": False,
    }


def play_worker(deployment_name, final_state):
    """A stand-in worker: takes the deployment's first run through Pending and Running to ``final_state``."""
    from legato.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId

    def work():
        with get_client(sync_client=True) as client:
            deployment_id = client.read_deployment_by_name(deployment_name).id
            only_this = FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]))
            for _ in range(1200):  # up to a minute
                runs = client.read_flow_runs(flow_run_filter=only_this)
                if runs:
                    break
                threading.Event().wait(0.05)
            for state in (Pending(), Running(), final_state):
                client.set_flow_run_state(runs[0].id, state)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("final_state", "exit_code"),
    [(Completed(), 0), (Failed(message="boom"), 1)],
    ids=["completed", "failed"],
)
def test_run_watch_streams_states_and_exits_by_outcome(
    invoke, local_deployment, final_state, exit_code
):
    worker = play_worker(local_deployment, final_state)

    result = invoke(
        "deployment", "run", local_deployment,
        "--watch", "--watch-interval", "0.05", "--watch-timeout", "60",
    )  # fmt: skip
    worker.join(timeout=30)

    assert result.exit_code == exit_code, result.output
    assert "| Scheduled" in result.stdout
    assert ("| Completed" if exit_code == 0 else "| Failed: boom") in result.stdout


def test_run_watch_timeout_exits_non_zero(invoke, local_deployment):
    result = invoke(
        "deployment",
        "run",
        local_deployment,
        "--watch",
        "--watch-interval",
        "0.05",
        "--watch-timeout",
        "0.3",
    )

    assert result.exit_code == 1
    assert "Stopped watching" in result.stderr


def test_pause_resume_and_delete(invoke, deployment):
    ok(invoke("deployment", "pause", deployment))
    assert as_json(invoke("deployment", "inspect", deployment, "-o", "json"))["paused"] is True

    ok(invoke("deployment", "resume", deployment))
    assert as_json(invoke("deployment", "inspect", deployment, "-o", "json"))["paused"] is False

    ok(invoke("deployment", "delete", deployment))
    assert "not found" in failed(invoke("deployment", "inspect", deployment))
