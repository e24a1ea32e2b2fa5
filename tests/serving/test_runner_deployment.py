"""flow.to_deployment(), RunnerDeployment.apply(), flow.deploy() and Flow.from_source()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from _serve_process import unique

from legato import flow
from legato.client import get_client
from legato.client.schemas.actions import WorkPoolCreate
from legato.deployments import EntrypointType, RunnerDeployment
from legato.exceptions import ObjectNotFound, ParameterError
from legato.flows import Flow, load_flow_from_entrypoint
from legato.schedules import Cron, Interval, RRule


@flow
def module_level(count: int, label: str = "x") -> int:
    return count


@pytest.fixture
def greet(project: Path) -> Flow:
    return load_flow_from_entrypoint("flows.py:greet")


def test_to_deployment_describes_the_flow_relative_to_the_current_folder(greet, project):
    deployment = greet.to_deployment("nightly", tags=["etl"], parameters={"name": "Ada"})

    assert isinstance(deployment, RunnerDeployment)
    assert deployment.full_name == "greet/nightly"
    assert deployment.entrypoint == "flows.py:greet"
    assert deployment.path == str(project)
    assert deployment.parameters == {"name": "Ada"}
    assert deployment.tags == ["etl"]
    assert deployment.parameter_openapi_schema["properties"]["name"]["default"] == "world"
    assert deployment.schedules == []


def test_a_flow_outside_the_current_folder_gets_an_absolute_entrypoint(project):
    deployment = module_level.to_deployment("abs")

    assert deployment.entrypoint == f"{Path(__file__).resolve().as_posix()}:module_level"


def test_module_path_entrypoints_name_the_module(project):
    deployment = module_level.to_deployment("mod", entrypoint_type=EntrypointType.MODULE_PATH)

    assert deployment.entrypoint == f"{module_level.fn.__module__}:module_level"


def test_a_flow_defined_in_a_function_cannot_be_deployed(project):
    @flow
    def local() -> None:
        pass

    with pytest.raises(ParameterError, match="inside a function"):
        local.to_deployment("nope")


@pytest.mark.parametrize(
    ("parameters", "named"),
    [({"cuont": 1}, "cuont"), ({"count": "many"}, "count")],
    ids=["unknown-name", "wrong-type"],
)
def test_bad_parameters_are_refused_naming_the_parameter(project, parameters, named):
    with pytest.raises(ParameterError, match=named):
        module_level.to_deployment("bad", parameters=parameters)


def test_a_required_parameter_may_be_left_to_the_runs(project):
    assert module_level.to_deployment("later").parameters == {}


def test_enforce_parameter_schema_false_skips_the_check(project):
    deployment = module_level.to_deployment(
        "loose", parameters={"count": "many"}, enforce_parameter_schema=False
    )

    assert deployment.parameters == {"count": "many"}


@pytest.mark.parametrize(
    ("options", "kinds"),
    [
        ({"interval": 60}, [Interval]),
        ({"interval": dt.timedelta(hours=1)}, [Interval]),
        ({"interval": [60, 120]}, [Interval, Interval]),
        ({"cron": "0 6 * * *"}, [Cron]),
        ({"rrule": "FREQ=DAILY"}, [RRule]),
        ({"schedules": [Cron("0 6 * * *"), Interval(30)]}, [Cron, Interval]),
        ({"schedule": Cron("0 6 * * *")}, [Cron]),
    ],
    ids=["seconds", "timedelta", "two-intervals", "cron", "rrule", "schedules", "schedule"],
)
def test_schedule_arguments_become_schedules(greet, options, kinds):
    deployment = greet.to_deployment("scheduled", **options)

    assert [type(schedule) for schedule in deployment.schedules] == kinds


def test_two_kinds_of_schedule_arguments_are_refused(greet):
    with pytest.raises(ParameterError, match="not interval and cron"):
        greet.to_deployment("both", interval=60, cron="* * * * *")


def test_a_cron_that_does_not_parse_is_refused(greet):
    with pytest.raises(ValueError, match="cron"):
        greet.to_deployment("bad-cron", cron="every day at noon")


def test_a_deployment_name_with_a_slash_is_refused(greet):
    with pytest.raises(ParameterError, match="'/'"):
        greet.to_deployment("a/b")


def test_apply_creates_then_updates_the_deployment(greet, store):
    name = unique("applied")
    first = greet.to_deployment(name, interval=3600, tags=["v1"]).apply()
    second = greet.to_deployment(name, cron="0 6 * * *", tags=["v2"]).apply()

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"greet/{name}")
    assert first == second == deployment.id
    assert deployment.tags == ["v2"]
    assert deployment.entrypoint == "flows.py:greet"
    assert [type(item.schedule) for item in deployment.schedules] == [Cron]


def test_deploy_refuses_docker_images(greet):
    with pytest.raises(ParameterError, match="Docker"):
        greet.deploy("img", work_pool_name="pool", image="me/flows:1")


def test_deploy_needs_a_work_pool(greet):
    with pytest.raises(ParameterError, match="work_pool_name"):
        greet.deploy("no-pool")


def test_deploy_to_a_missing_pool_names_the_command_that_creates_it(greet, store):
    with pytest.raises(ObjectNotFound, match="legato work-pool create missing-pool --type process"):
        greet.deploy("orphan", work_pool_name="missing-pool")


def test_deploy_creates_a_deployment_for_the_pool(greet, store, capsys):
    pool, name = unique("pool"), unique("deployed")
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))

    deployment_id = greet.deploy(name, work_pool_name=pool, job_variables={"env": {"A": "1"}})

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
    assert deployment.work_pool_name == pool
    assert deployment.job_variables == {"env": {"A": "1"}}
    assert deployment.pull_steps == [
        {"legato.deployments.steps.set_working_directory": {"directory": str(Path.cwd())}}
    ]
    assert f"legato worker start --pool {pool}" in capsys.readouterr().out


def test_from_source_loads_a_flow_from_a_folder(tmp_path, project, monkeypatch):
    monkeypatch.chdir(tmp_path)

    loaded = Flow.from_source(project, "flows.py:greet")
    deployment = loaded.to_deployment("from-source")

    assert loaded.name == "greet"
    assert deployment.entrypoint == "flows.py:greet"
    assert deployment.path == str(project)


def test_from_source_refuses_remote_repositories():
    with pytest.raises(ParameterError, match="git_clone"):
        Flow.from_source("https://github.com/org/repo.git", "flows.py:greet")
