"""The deployment methods of the clients: one suite on the embedded client and on the HTTP
client (on SQLite and on PostgreSQL), and their async twins."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from legato.client.schemas.actions import DeploymentScheduleCreate, DeploymentUpdate
from legato.client.schemas.filters import DeploymentFilter, DeploymentFilterTags, DeploymentSort
from legato.client.schemas.objects import Deployment, DeploymentSchedule, FlowRun
from legato.engine.parameter_schema import parameter_schema
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.schedules import Cron, Interval, RRule
from legato.states import Pending, Scheduled

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def etl(day: str, limit: int = 10) -> None:
    """The flow function of the schema below."""


SCHEMA = parameter_schema(etl)


def test_create_read_update_and_delete_a_deployment(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)
    deployment_id = client.create_deployment(
        flow_id,
        "nightly",
        version="1",
        tags=["etl"],
        parameters={"day": "mon"},
        parameter_openapi_schema=SCHEMA,
        entrypoint="flows.py:etl",
        job_variables={"env": {"A": "1"}},
        schedules=[Cron("0 6 * * *", timezone="Europe/Paris"), (Interval(3600), False)],
        concurrency_limit=1,
    )

    assert isinstance(deployment_id, uuid.UUID)
    deployment = client.read_deployment(deployment_id)
    assert isinstance(deployment, Deployment)
    assert (deployment.name, deployment.flow_id, deployment.flow_name) == (
        "nightly",
        flow_id,
        flow_name,
    )
    assert (deployment.version, deployment.tags, deployment.entrypoint) == (
        "1",
        ["etl"],
        "flows.py:etl",
    )
    assert deployment.parameter_openapi_schema == SCHEMA
    assert deployment.job_variables == {"env": {"A": "1"}}
    assert deployment.concurrency_limit == 1
    assert [item.schedule for item in deployment.schedules] == [
        Cron("0 6 * * *", timezone="Europe/Paris"),
        Interval(3600, active=False),
    ]
    assert [item.active for item in deployment.schedules] == [True, False]
    assert client.read_deployment_by_name(f"{flow_name}/nightly") == deployment
    # Reads like its row too (the CLI prints them so).
    assert deployment["name"] == "nightly"

    # Created again: replaced, same id.
    assert client.create_deployment(flow_id, "nightly", description="v2") == deployment_id
    replaced = client.read_deployment(deployment_id)
    assert (replaced.description, replaced.schedules, replaced.tags) == ("v2", [], [])

    client.update_deployment(deployment_id, DeploymentUpdate(version="3", tags=["x"]))
    client.update_deployment(deployment_id, {"schedules": [RRule("FREQ=DAILY")]})
    updated = client.read_deployment(deployment_id)
    assert (updated.version, updated.tags, updated.description) == ("3", ["x"], "v2")
    assert [item.schedule.kind for item in updated.schedules] == ["rrule"]

    client.pause_deployment(deployment_id)
    assert client.read_deployment(deployment_id).paused is True
    client.resume_deployment(deployment_id)
    assert client.read_deployment(deployment_id).paused is False

    client.delete_deployment(deployment_id)
    with pytest.raises(ObjectNotFound):
        client.read_deployment(deployment_id)


def test_reads_filter_sort_and_count(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)
    other_flow = client.create_flow_from_name(f"{flow_name}-other")
    for name, tags in (("b", ["x"]), ("a", ["x", "y"]), ("c", [])):
        client.create_deployment(flow_id, name, tags=tags)
    client.create_deployment(other_flow, "a")

    found = client.read_deployments(flow_name=flow_name)
    assert [item.name for item in found] == ["a", "b", "c"]
    assert [
        item.name
        for item in client.read_deployments(
            flow_name=flow_name, sort=DeploymentSort.NAME_DESC, limit=2
        )
    ] == ["c", "b"]
    tagged = DeploymentFilter(tags=DeploymentFilterTags(all_=["x"]))
    by_tag = client.read_deployments(
        flow_filter={"name": {"any_": [flow_name]}}, deployment_filter=tagged
    )
    assert [item.name for item in by_tag] == ["a", "b"]
    assert client.count_deployments(flow_name=flow_name) == 3
    assert client.count_deployments(flow_name=f"{flow_name}-other") == 1
    assert client.read_deployments(flow_name=flow_name, offset=3) == []


def test_schedules_of_a_deployment(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)
    deployment_id = client.create_deployment(flow_id, "d")

    added = client.create_deployment_schedules(
        deployment_id,
        [
            Interval(60, slug="minutely", parameters={"x": 1}),
            DeploymentScheduleCreate(schedule=Cron("0 0 * * *"), active=False),
        ],
    )
    assert [type(item) for item in added] == [DeploymentSchedule, DeploymentSchedule]
    assert [(item.slug, item.active) for item in added] == [("minutely", True), (None, False)]
    assert client.read_deployment_schedules(deployment_id) == added
    with pytest.raises(ObjectAlreadyExists):
        client.create_deployment_schedules(deployment_id, [Interval(5, slug="minutely")])

    client.update_deployment_schedule(deployment_id, added[1].id, active=True)
    client.update_deployment_schedule(deployment_id, added[0].id, schedule=Interval(120))
    first, second = client.read_deployment_schedules(deployment_id)
    assert first.schedule.interval == dt.timedelta(seconds=120)
    # A new timing keeps the schedule's slug and parameters.
    assert (first.slug, first.parameters, first.schedule.parameters) == (
        "minutely",
        {"x": 1},
        {"x": 1},
    )
    assert second.active is True

    client.delete_deployment_schedule(deployment_id, added[0].id)
    assert [item.id for item in client.read_deployment_schedules(deployment_id)] == [added[1].id]
    with pytest.raises(ObjectNotFound):
        client.delete_deployment_schedule(deployment_id, added[0].id)
    with pytest.raises(ObjectNotFound):
        client.update_deployment_schedule(deployment_id, "not-an-id", active=False)


def test_runs_of_a_deployment(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)
    deployment_id = client.create_deployment(
        flow_id, "d", parameters={"limit": 2}, parameter_openapi_schema=SCHEMA, tags=["etl"]
    )

    run = client.create_flow_run_from_deployment(
        deployment_id, parameters={"day": "mon"}, tags=["adhoc"], idempotency_key="once"
    )
    again = client.create_flow_run_from_deployment(
        deployment_id, parameters={"day": "tue"}, idempotency_key="once"
    )
    later = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    scheduled = client.create_flow_run_from_deployment(
        deployment_id, parameters={"day": "x"}, state=Scheduled(scheduled_time=later), name="later"
    )
    pending = client.create_flow_run_from_deployment(
        deployment_id, parameters={"day": "x"}, state=Pending()
    )

    assert isinstance(run, FlowRun)
    assert again.id == run.id
    assert (run.deployment_id, run.parameters, run.tags) == (
        deployment_id,
        {"day": "mon", "limit": 2},
        ["etl", "adhoc"],
    )
    assert run.state is not None and run.state.is_scheduled()
    assert (scheduled.name, scheduled.expected_start_time) == ("later", later)
    assert pending.state is not None and pending.state.is_pending()
    assert client.read_flow_run(run.id).deployment_id == deployment_id
    with pytest.raises(ParameterError, match="'day': missing"):
        client.create_flow_run_from_deployment(deployment_id)


def test_a_serve_poll_gives_the_due_runs_and_marks_the_deployments_ready(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)
    served = client.create_deployment(flow_id, "served")
    also = client.create_deployment(flow_id, "also")
    other = client.create_deployment(flow_id, "other")
    now = dt.datetime.now(dt.UTC)

    def at(deployment_id, seconds):
        state = Scheduled(scheduled_time=now + dt.timedelta(seconds=seconds))
        return client.create_flow_run_from_deployment(deployment_id, state=state).id

    second, first = at(served, -5), at(also, -10)
    at(served, 3600)  # due in an hour
    at(other, -20)  # another deployment's
    client.create_flow_run_from_deployment(served, state=Pending())  # not scheduled

    found = client.get_scheduled_flow_runs_for_deployments(
        [served, str(also)], scheduled_before=now
    )

    assert [run.id for run in found] == [first, second]
    assert all(isinstance(run, FlowRun) for run in found)
    assert len(client.get_scheduled_flow_runs_for_deployments([served], limit=1)) == 1
    assert len(client.get_scheduled_flow_runs_for_deployments([served])) == 2  # no time bound
    assert client.get_scheduled_flow_runs_for_deployments([]) == []
    statuses = [client.read_deployment(d).status for d in (served, also, other)]
    assert [str(getattr(s, "value", s)) for s in statuses] == ["READY", "READY", "NOT_READY"]
    with pytest.raises(ParameterError, match="not a deployment id"):
        client.get_scheduled_flow_runs_for_deployments(["nope"])
    with pytest.raises(ParameterError, match="limit"):
        client.get_scheduled_flow_runs_for_deployments([served], limit=-1)


def test_bad_input_raises_the_same_errors(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)

    for call in (
        lambda: client.read_deployment(UNKNOWN),
        lambda: client.read_deployment("not-an-id"),
        lambda: client.read_deployment_by_name(f"{flow_name}/none"),
        lambda: client.delete_deployment(UNKNOWN),
        lambda: client.pause_deployment(UNKNOWN),
        lambda: client.update_deployment(UNKNOWN, DeploymentUpdate(version="1")),
        lambda: client.read_deployment_schedules(UNKNOWN),
        lambda: client.create_flow_run_from_deployment(UNKNOWN),
        lambda: client.create_deployment(UNKNOWN, "d"),
    ):
        with pytest.raises(ObjectNotFound):
            call()
    for call, words in (
        (lambda: client.create_deployment(flow_id, "a/b"), "holds no '/'"),
        (lambda: client.create_deployment(flow_id, "d", schedules=[{"cron": "nonsense"}]), "cron"),
        (
            lambda: client.create_deployment(flow_id, "d", schedules="0 * * * *"),
            "list of schedules",
        ),
        (lambda: client.create_deployment(flow_id, "d", concurrency_limit=0), "concurrency_limit"),
        (lambda: client.read_deployment_by_name("no-slash"), "flow-name/deployment-name"),
        (
            lambda: client.create_deployment(
                flow_id, "d", parameter_openapi_schema=SCHEMA, parameters={"limit": "x"}
            ),
            "'limit': expected integer",
        ),
    ):
        with pytest.raises(ParameterError, match=words):
            call()


def test_async_clients_have_the_same_answers(make_async_client, flow_name):
    async def scenario():
        async with make_async_client() as client:
            flow_id = await client.create_flow_from_name(flow_name)
            deployment_id = await client.create_deployment(flow_id, "d", schedules=[Interval(60)])
            deployment = await client.read_deployment_by_name(f"{flow_name}/d")
            run = await client.create_flow_run_from_deployment(deployment_id, idempotency_key="k")
            schedules = await client.read_deployment_schedules(deployment_id)
            await client.pause_deployment(deployment_id)
            paused = (await client.read_deployment(deployment_id)).paused
            await client.delete_deployment(deployment_id)
            with pytest.raises(ObjectNotFound):
                await client.read_deployment(deployment_id)
            return deployment, run, schedules, paused

    deployment, run, schedules, paused = asyncio.run(scenario())

    assert deployment.name == "d"
    assert run.deployment_id == deployment.id
    assert [item.schedule for item in schedules] == [Interval(60)]
    assert paused is True
