"""Deployments in the store (orchestration functions), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from legato.client.schemas.actions import (
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
)
from legato.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterFlowOrDeploymentName,
    DeploymentFilterName,
    DeploymentFilterPaused,
    DeploymentFilterTags,
    DeploymentFilterWorkPoolName,
    DeploymentSort,
    FlowFilter,
    FlowFilterName,
)
from legato.client.schemas.objects import Deployment
from legato.engine.parameter_schema import parameter_schema
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.orchestration import (
    deployment_runs,
    deployment_schedules,
    deployments,
    flows,
    scheduling,
    states,
)
from legato.schedules import Cron, Interval
from legato.states import Completed
from legato.storage.schema import deployment_schedules as schedules_table
from legato.storage.schema import flow_runs

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def etl(day: str, limit: int = 10, dry_run: bool = False) -> None:
    """The flow function the schemas below describe."""


SCHEMA = parameter_schema(etl)


def schedule(store, **options):
    """One scheduler pass at NOW (1 day ahead, 3 to 5 runs a schedule)."""
    options = {"horizon": dt.timedelta(days=1), "min_runs": 3, "max_runs": 5, **options}
    return store.write(lambda c: scheduling.schedule_runs(c, NOW, **options))


def runs_of(store, deployment_id, **where):
    conditions = [flow_runs.c.deployment_id == deployment_id]
    conditions += [flow_runs.c[name] == value for name, value in where.items()]
    statement = sa.select(flow_runs).where(*conditions).order_by(flow_runs.c.expected_start_time)
    return store.read(lambda c: [dict(row) for row in c.execute(statement).mappings()])


def run_now(store, deployment_id, **fields):
    body = DeploymentFlowRunCreate(**fields)
    return store.write(
        lambda c: deployment_runs.create_flow_run_from_deployment(c, deployment_id, body)
    )


# -- create, read


def test_a_deployment_reads_back_with_its_flow_name_and_schedules(store, deploy, flow_id):
    row = deploy(
        "nightly",
        version="1.2",
        description="Loads the warehouse",
        tags=["prod", "etl"],
        parameters={"day": "today"},
        parameter_openapi_schema=SCHEMA,
        entrypoint="flows/etl.py:etl",
        path="/srv/app",
        pull_steps=[{"legato.deployments.steps.set_working_directory": {"directory": "/srv"}}],
        job_variables={"env": {"A": "1"}},
        concurrency_limit=2,
        concurrency_options={"collision_strategy": "CANCEL_NEW"},
        schedules=[Cron("0 6 * * *", timezone="Europe/Paris"), Interval(3600, active=False)],
    )

    read = store.read(lambda c: deployments.read_deployment(c, row["id"]))
    assert read == row
    deployment = Deployment.from_row(read)
    assert (deployment.flow_name, deployment.name, str(deployment.flow_id)) == (
        "etl",
        "nightly",
        flow_id,
    )
    assert deployment.tags == ["prod", "etl"]
    assert deployment.parameters == {"day": "today"}
    assert deployment.parameter_openapi_schema == SCHEMA
    assert deployment.enforce_parameter_schema is True
    assert deployment.job_variables == {"env": {"A": "1"}}
    assert deployment.concurrency_limit == 2
    assert deployment.concurrency_options.collision_strategy == "CANCEL_NEW"
    assert deployment.paused is False
    assert deployment.status == "NOT_READY"
    cron, interval = deployment.schedules
    assert cron.schedule == Cron("0 6 * * *", timezone="Europe/Paris")
    assert (interval.active, interval.schedule.active) == (False, False)
    assert interval.schedule.interval == dt.timedelta(hours=1)
    by_name = store.read(lambda c: deployments.read_deployment_by_name(c, "etl", "nightly"))
    assert by_name == row
    assert store.read(lambda c: deployments.read_deployment_by_name(c, "etl", "other")) is None
    assert store.read(lambda c: deployments.read_deployment(c, "not-an-id")) is None


def test_creating_an_existing_deployment_replaces_it_and_its_future_scheduled_runs(store, deploy):
    first = deploy("nightly", description="v1", tags=["a"], schedules=[Interval(3600)])
    schedule(store)
    manual = run_now(store, first["id"])
    assert len(runs_of(store, first["id"], auto_scheduled=True)) == 5

    body = DeploymentCreate(name="nightly", flow_id=first["flow_id"], description="v2", tags=["b"])
    second, created = store.write(lambda c: deployments.create_deployment(c, body))

    assert created is False
    assert second["id"] == first["id"]
    assert (second["description"], second["tags"], second["schedules"]) == ("v2", ["b"], [])
    assert runs_of(store, first["id"], auto_scheduled=True) == []
    assert [run["id"] for run in runs_of(store, first["id"])] == [manual["id"]]


def test_bad_names_unknown_flows_and_unknown_work_pools_are_refused(store, deploy):
    with pytest.raises(ParameterError, match="holds no '/'"):
        deploy("a/b")
    with pytest.raises(ObjectNotFound, match="No flow with id"):
        deploy("x", flow_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(ObjectNotFound, match="legato work-pool create missing"):
        deploy("x", work_pool_name="missing")


def test_a_work_pool_deployment_places_its_runs_in_the_pool_queues(store, deploy, make_pool):
    make_pool("pool")
    row = deploy("placed", work_pool_name="pool", schedules=[Interval(3600)])
    manual = run_now(store, row["id"])
    named = run_now(store, row["id"], work_queue_name="urgent")  # made on demand
    schedule(store)

    queues = {run["work_queue_name"] for run in runs_of(store, row["id"], auto_scheduled=True)}
    assert queues == {"default"}
    assert (manual["work_pool_name"], manual["work_queue_name"]) == ("pool", "default")
    assert manual["work_queue_id"] is not None
    assert named["work_queue_name"] == "urgent"
    assert named["work_queue_id"] not in (None, manual["work_queue_id"])


# -- parameters


def test_parameters_are_checked_against_the_schema_when_it_is_enforced(store, deploy):
    with pytest.raises(ParameterError) as refused:
        deploy("bad", parameter_openapi_schema=SCHEMA, parameters={"limit": "many", "days": 1})
    message = str(refused.value)
    assert "'limit': expected integer, got 'many' (string)" in message
    assert "'days': unknown parameter (the flow takes day, limit, dry_run)" in message
    assert "enforce_parameter_schema=False" in message

    # A required parameter may be left to the runs...
    deploy("partial", parameter_openapi_schema=SCHEMA, parameters={"limit": 3})
    # ...but not by a schedule: its runs have nobody to supply it.
    with pytest.raises(
        ParameterError, match="(?s)schedule 1 of deployment 'etl/sched'.*'day': missing"
    ):
        deploy("sched", parameter_openapi_schema=SCHEMA, schedules=[Interval(60)])
    deploy(
        "sched",
        parameter_openapi_schema=SCHEMA,
        schedules=[Interval(60, parameters={"day": "monday"})],
    )
    unchecked = deploy(
        "loose",
        parameter_openapi_schema=SCHEMA,
        enforce_parameter_schema=False,
        parameters={"limit": "many"},
    )
    assert unchecked["parameters"] == {"limit": "many"}
    with pytest.raises(ParameterError, match="not a valid JSON schema"):
        deploy("broken", parameter_openapi_schema={"type": "no-such-type"})


def test_updated_parameters_are_checked_against_the_stored_schema(store, deploy):
    row = deploy("nightly", parameter_openapi_schema=SCHEMA, parameters={"day": "mon"})

    with pytest.raises(ParameterError, match="'dry_run': expected boolean"):
        store.write(
            lambda c: deployments.update_deployment(
                c, row["id"], DeploymentUpdate(parameters={"dry_run": "yes"})
            )
        )
    assert store.read(lambda c: deployments.read_deployment(c, row["id"]))["parameters"] == {
        "day": "mon"
    }


# -- filter, count


def test_filters_sorts_and_counts(store, deploy, make_pool):
    make_pool("pool")
    other_flow, _ = store.write(lambda c: flows.get_or_create_flow(c, "reports"))
    deploy("alpha", tags=["prod", "eu"])
    deploy("beta", tags=["dev"], paused=True, work_pool_name="pool")
    deploy("gamma", flow_id=other_flow["id"], tags=["prod"])

    def names(**options):
        rows = store.read(lambda c: deployments.filter_deployments(c, **options))
        return [row["name"] for row in rows]

    def count(**options):
        return store.read(lambda c: deployments.count_deployments(c, **options))

    assert names() == ["alpha", "beta", "gamma"]
    assert names(sort=DeploymentSort.NAME_DESC, limit=2) == ["gamma", "beta"]
    assert names(offset=1, limit=1) == ["beta"]
    by_flow = FlowFilter(name=FlowFilterName(any_=["etl"]))
    assert names(flow_filter=by_flow) == ["alpha", "beta"]
    assert count(flow_filter=by_flow) == 2
    cases = {
        "name": (DeploymentFilter(name=DeploymentFilterName(like_="ALP")), ["alpha"]),
        "tags all": (DeploymentFilter(tags=DeploymentFilterTags(all_=["prod", "eu"])), ["alpha"]),
        "tags any": (
            DeploymentFilter(tags=DeploymentFilterTags(any_=["dev", "eu"])),
            ["alpha", "beta"],
        ),
        "paused": (DeploymentFilter(paused=DeploymentFilterPaused(eq_=True)), ["beta"]),
        "pool": (
            DeploymentFilter(work_pool_name=DeploymentFilterWorkPoolName(any_=["pool"])),
            ["beta"],
        ),
        "flow or name": (
            DeploymentFilter(
                flow_or_deployment_name=DeploymentFilterFlowOrDeploymentName(like_="report")
            ),
            ["gamma"],
        ),
    }
    for case, (model, expected) in cases.items():
        assert names(deployment_filter=model) == expected, case
        assert count(deployment_filter=model) == len(expected), case
    either = DeploymentFilter(
        operator="or_",
        paused=DeploymentFilterPaused(eq_=True),
        name=DeploymentFilterName(any_=["gamma"]),
    )
    assert names(deployment_filter=either) == ["beta", "gamma"]


# -- update, pause, delete


def test_an_update_changes_only_what_it_sets_and_replaces_schedules(store, deploy):
    row = deploy("nightly", description="old", tags=["a"], schedules=[Interval(3600)])
    schedule(store)

    update = DeploymentUpdate(
        description="new", schedules=[DeploymentScheduleCreate(schedule=Cron("0 * * * *"))]
    )
    assert store.write(lambda c: deployments.update_deployment(c, row["id"], update))

    read = store.read(lambda c: deployments.read_deployment(c, row["id"]))
    assert (read["description"], read["tags"]) == ("new", ["a"])
    assert [item["schedule"]["kind"] for item in read["schedules"]] == ["cron"]
    assert runs_of(store, row["id"]) == []  # the old schedule's runs are gone
    assert schedule(store) == 5
    missing = "00000000-0000-4000-8000-000000000000"
    assert store.write(lambda c: deployments.update_deployment(c, missing, update)) is False


def test_pausing_deletes_waiting_auto_runs_and_stops_scheduling(store, deploy):
    row = deploy("nightly", schedules=[Interval(3600)])
    schedule(store)
    manual = run_now(store, row["id"])

    assert store.write(lambda c: deployments.set_deployment_paused(c, row["id"], True))
    assert [run["id"] for run in runs_of(store, row["id"])] == [manual["id"]]
    assert schedule(store) == 0

    assert store.write(lambda c: deployments.set_deployment_paused(c, row["id"], False))
    assert schedule(store) == 5
    assert store.write(lambda c: deployments.set_deployment_paused(c, "nope", True)) is False


def test_deleting_a_deployment_deletes_its_schedules_and_runs_not_started(store, deploy):
    row = deploy("nightly", schedules=[Interval(3600)])
    schedule(store)
    waiting = run_now(store, row["id"])
    finished = run_now(store, row["id"])
    store.write(
        lambda c: states.set_run_state(c, "flow_run", finished["id"], _completed(), force=True)
    )

    assert store.write(lambda c: deployments.delete_deployment(c, row["id"]))

    assert store.read(lambda c: deployments.read_deployment(c, row["id"])) is None
    assert [run["id"] for run in runs_of(store, row["id"])] == [finished["id"]]
    assert waiting["id"] != finished["id"]
    left = store.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(schedules_table)).scalar()
    )
    assert left == 0
    assert store.write(lambda c: deployments.delete_deployment(c, row["id"])) is False


def _completed():
    from legato.client.schemas.actions import StateCreate

    return StateCreate.from_state(Completed())


# -- schedules


def test_schedules_can_be_added_changed_and_deleted_one_at_a_time(store, deploy):
    row = deploy("nightly", schedules=[Interval(3600, slug="hourly")])
    added = store.write(
        lambda c: deployment_schedules.create_deployment_schedules(
            c, row["id"], [DeploymentScheduleCreate(schedule=Cron("30 * * * *"), slug="half")]
        )
    )
    assert [item["slug"] for item in added] == ["half"]
    hourly, half = store.read(
        lambda c: deployment_schedules.read_deployment_schedules(c, row["id"])
    )
    assert (hourly["slug"], half["slug"]) == ("hourly", "half")
    schedule(store)
    assert len(runs_of(store, row["id"])) == 10

    # Deactivating one schedule deletes its runs only.
    update = DeploymentScheduleUpdate(active=False)
    assert store.write(
        lambda c: deployment_schedules.update_deployment_schedule(c, row["id"], half["id"], update)
    )
    remaining = runs_of(store, row["id"])
    assert len(remaining) == 5
    assert all(run["expected_start_time"].minute == 0 for run in remaining)
    assert schedule(store) == 0

    assert store.write(
        lambda c: deployment_schedules.delete_deployment_schedule(c, row["id"], hourly["id"])
    )
    assert runs_of(store, row["id"]) == []
    assert [
        item["id"]
        for item in store.read(
            lambda c: deployment_schedules.read_deployment_schedules(c, row["id"])
        )
    ] == [half["id"]]
    assert (
        store.write(
            lambda c: deployment_schedules.delete_deployment_schedule(c, row["id"], hourly["id"])
        )
        is False
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert store.read(lambda c: deployment_schedules.read_deployment_schedules(c, missing)) is None


def test_schedule_slugs_are_unique_within_a_deployment(store, deploy):
    row = deploy("nightly", schedules=[Interval(3600, slug="hourly")])
    again = [DeploymentScheduleCreate(schedule=Interval(60), slug="hourly")]

    with pytest.raises(ObjectAlreadyExists, match="hourly"):
        store.write(lambda c: deployment_schedules.create_deployment_schedules(c, row["id"], again))
    twice = [DeploymentScheduleCreate(schedule=Interval(60), slug="x")] * 2
    with pytest.raises(ParameterError, match="unique within a deployment"):
        store.write(lambda c: deployment_schedules.create_deployment_schedules(c, row["id"], twice))
    # The same slug on another deployment is fine.
    deploy("other", schedules=[Interval(3600, slug="hourly")])


def test_a_new_schedule_must_complete_the_required_parameters(store, deploy):
    row = deploy("nightly", parameter_openapi_schema=SCHEMA)
    bare = [DeploymentScheduleCreate(schedule=Interval(60))]

    with pytest.raises(ParameterError, match="'day': missing"):
        store.write(lambda c: deployment_schedules.create_deployment_schedules(c, row["id"], bare))
    with_day = [DeploymentScheduleCreate(schedule=Interval(60), parameters={"day": "x"})]
    assert store.write(
        lambda c: deployment_schedules.create_deployment_schedules(c, row["id"], with_day)
    )


def test_deleting_a_flow_deletes_its_deployments(store, deploy, flow_id):
    row = deploy("nightly", schedules=[Interval(3600)])

    assert store.write(lambda c: flows.delete_flow(c, flow_id))

    assert store.read(lambda c: deployments.read_deployment(c, row["id"])) is None
    count = sa.select(sa.func.count()).select_from(schedules_table)
    assert store.read(lambda c: c.execute(count).scalar()) == 0
