"""run_deployment / arun_deployment: creating runs of a deployment, waiting, subflow links."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
from _serve_process import unique

from legato import flow
from legato.client import get_client
from legato.deployments import arun_deployment, run_deployment
from legato.exceptions import ObjectNotFound, ParameterError
from legato.flows import load_flow_from_entrypoint


@pytest.fixture
def deployed(project, store) -> str:
    """A deployment of greet (nobody serves it: its runs stay Scheduled)."""
    name = unique("ad-hoc")
    greet = load_flow_from_entrypoint("flows.py:greet")
    greet.to_deployment(name, parameters={"name": "Bob"}, tags=["from-deployment"]).apply()
    return f"greet/{name}"


def test_timeout_zero_returns_the_scheduled_run_at_once(deployed):
    run = run_deployment(deployed, parameters={"name": "Ada"}, timeout=0)

    assert run.state.is_scheduled()
    assert run.parameters == {"name": "Ada"}
    assert run.tags == ["from-deployment"]
    assert run.deployment_id is not None


def test_deployment_defaults_fill_missing_parameters(deployed):
    assert run_deployment(deployed, timeout=0).parameters == {"name": "Bob"}


def test_run_deployment_by_id_with_tags_and_a_run_name(deployed):
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployed)

    run = run_deployment(deployment.id, tags=["adhoc"], flow_run_name="by-id", timeout=0)

    assert (sorted(run.tags), run.name, run.deployment_id) == (
        ["adhoc", "from-deployment"],
        "by-id",
        deployment.id,
    )


def test_the_same_idempotency_key_gives_the_same_run(deployed):
    first = run_deployment(deployed, idempotency_key="once", timeout=0)
    second = run_deployment(deployed, idempotency_key="once", timeout=0)

    assert first.id == second.id


def test_a_scheduled_time_sets_the_expected_start(deployed):
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=3)

    run = run_deployment(deployed, scheduled_time=when, timeout=0)

    assert run.expected_start_time == when


def test_a_timeout_returns_the_run_as_it_is_when_time_is_up(deployed):
    started = time.monotonic()

    run = run_deployment(deployed, timeout=0.5, poll_interval=0.1)

    assert run.state.is_scheduled()
    assert 0.4 <= time.monotonic() - started < 10


def test_an_unknown_deployment_says_how_to_list_them(project, store):
    with pytest.raises(ObjectNotFound, match="legato deployment ls"):
        run_deployment("greet/nope", timeout=0)
    with pytest.raises(ObjectNotFound, match="legato deployment ls"):
        run_deployment(uuid.uuid4(), timeout=0)


@pytest.mark.parametrize("name", ["just-a-name", "/x", "flow/"])
def test_a_malformed_name_is_refused(name):
    with pytest.raises(ParameterError, match="flow-name/deployment-name"):
        run_deployment(name, timeout=0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"timeout": -1}, "timeout"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"parameters": [1]}, "parameters"),
        ({"scheduled_time": dt.datetime(2030, 1, 1)}, "time zone"),
    ],
    ids=["negative-timeout", "zero-poll", "parameters-list", "naive-time"],
)
def test_bad_arguments_are_refused(arguments, message):
    with pytest.raises(ParameterError, match=message):
        run_deployment("greet/x", **arguments)


def test_inside_a_flow_the_run_is_linked_as_a_subflow(deployed):
    @flow
    def parent() -> tuple[object, object]:
        linked = run_deployment(deployed, timeout=0)
        unlinked = run_deployment(deployed, timeout=0, as_subflow=False)
        return linked, unlinked

    state = parent(return_state=True)
    linked, unlinked = state.result()

    assert unlinked.parent_task_run_id is None
    with get_client(sync_client=True) as client:
        link = client.read_task_run(linked.parent_task_run_id)
        parent_run = client.read_flow_run(linked.parent_flow_run_id)
    assert link.flow_run_id == parent_run.id
    assert parent_run.flow_name == "parent"
    assert link.name.startswith(f"{deployed}-")


def test_arun_deployment_is_the_async_twin(deployed):
    run = asyncio.run(arun_deployment(deployed, parameters={"name": "Eve"}, timeout=0))

    assert run.parameters == {"name": "Eve"}


def test_run_deployment_in_async_code_returns_a_coroutine(deployed):
    async def main():
        pending = run_deployment(deployed, timeout=0)
        assert asyncio.iscoroutine(pending)
        return await pending

    assert asyncio.run(main()).state.is_scheduled()


def test_in_an_async_flow_run_deployment_is_awaited(deployed):
    @flow
    async def async_parent() -> object:
        return await run_deployment(deployed, timeout=0)

    run = asyncio.run(async_parent())

    assert run.parent_task_run_id is not None
