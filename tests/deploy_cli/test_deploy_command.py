"""legato deploy: the deployments of legato.yaml / prefect.yaml, created through the client."""

from __future__ import annotations

import textwrap

import pytest
from _cli_helpers import as_json, failed, ok, unique

from legato.client import get_client


def write(project, name, text):
    (project / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def pool(invoke, any_store) -> str:
    name = unique("pool")
    ok(invoke("work-pool", "create", name))
    return name


@pytest.fixture
def two_deployments(project, pool) -> tuple[str, str]:
    first, second = unique("daily"), unique("hourly")
    write(
        project,
        "legato.yaml",
        f"""
        name: demo
        deployments:
          - name: {first}
            entrypoint: flows.py:greet
            parameters: {{name: Ada}}
            tags: [nightly]
            work_pool:
              name: {pool}
              job_variables: {{env: {{MODE: prod}}}}
            schedules:
              - cron: "0 6 * * *"
                timezone: Europe/Paris
          - name: {second}
            entrypoint: flows.py:other
            work_pool: {{name: {pool}, work_queue_name: fast}}
            schedules:
              - interval: 3600
        """,
    )
    return first, second


def read(full_name):
    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(full_name)


def test_deploy_all_creates_every_deployment(invoke, project, pool, two_deployments):
    first, second = two_deployments

    out = ok(invoke("deploy", "--all"))

    daily, hourly = read(f"greet/{first}"), read(f"other/{second}")
    assert (daily.entrypoint, daily.parameters, daily.tags) == (
        "flows.py:greet",
        {"name": "Ada"},
        ["nightly"],
    )
    assert daily.work_pool_name == pool
    assert daily.job_variables == {"env": {"MODE": "prod"}}
    assert daily.schedules[0].schedule.cron == "0 6 * * *"
    assert daily.parameter_openapi_schema["properties"]["times"]["type"] == "integer"
    assert daily.pull_steps == [
        {"legato.deployments.steps.set_working_directory": {"directory": str(project)}}
    ]
    assert hourly.work_queue_name == "fast"
    assert f"legato worker start --pool {pool}" in out
    assert "legato deployment run" in out


def test_deploy_by_name_creates_only_that_one(invoke, two_deployments, pool):
    first, second = two_deployments

    ok(invoke("deploy", "-n", second))

    names = {row["name"] for row in as_json(invoke("deployment", "ls", "-o", "json"))}
    assert second in names
    assert first not in names


def test_several_deployments_need_a_choice(invoke, two_deployments, pool):
    err = failed(invoke("deploy"))

    assert "--all" in err
    assert two_deployments[0] in err


def test_a_name_that_matches_nothing_lists_the_names(invoke, two_deployments, pool):
    err = failed(invoke("deploy", "-n", "nope"))

    assert two_deployments[1] in err


def test_a_prefect_yaml_as_prefect_writes_it(invoke, project, pool):
    write(
        project,
        "prefect.yaml",
        f"""
        # Welcome to your prefect.yaml file!
        name: project
        prefect-version: 3.1.0
        build: null
        push: null
        pull:
        - prefect.deployments.steps.set_working_directory:
            directory: {project}
        deployments:
        - name: from-prefect
          version: null
          tags: []
          description: null
          schedule: {{}}
          flow_name: null
          entrypoint: flows.py:greet
          parameters: {{}}
          work_pool:
            name: {pool}
            work_queue_name: null
            job_variables: {{}}
        """,
    )

    ok(invoke("deploy", "--prefect-file", "prefect.yaml"))

    deployment = read("greet/from-prefect")
    assert deployment.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(project)}}
    ]


def test_a_deployment_without_a_pool_is_refused(invoke, cli_store, project):
    write(
        project, "legato.yaml", "deployments:\n  - name: poolless\n    entrypoint: flows.py:greet\n"
    )

    err = failed(invoke("deploy"))

    assert "no work pool" in err
    assert "legato.yaml:2" in err


def test_a_missing_pool_names_the_create_command(invoke, cli_store, project):
    write(
        project,
        "legato.yaml",
        "deployments:\n  - name: x\n    entrypoint: flows.py:greet\n    work_pool: {name: ghost}\n",
    )

    assert "legato work-pool create ghost --type process" in failed(invoke("deploy"))


@pytest.mark.parametrize(
    ("entrypoint", "message"),
    [("missing.py:greet", "does not exist"), ("flows.py:nothing", "has no attribute")],
    ids=["no-file", "no-flow"],
)
def test_a_bad_entrypoint_is_explained(invoke, project, pool, entrypoint, message):
    write(
        project,
        "legato.yaml",
        f"deployments:\n  - name: x\n    entrypoint: {entrypoint}\n    work_pool: {{name: {pool}}}\n",
    )

    assert message in failed(invoke("deploy"))


def test_an_unknown_key_names_the_file_and_line(invoke, cli_store, project):
    write(project, "legato.yaml", "deployments:\n  - name: x\n    entrypiont: flows.py:greet\n")

    err = failed(invoke("deploy"))

    assert "legato.yaml" in err
    assert "entrypiont" in err


def test_parameters_that_do_not_fit_the_flow_are_refused(invoke, project, pool):
    write(
        project,
        "legato.yaml",
        f"deployments:\n  - name: x\n    entrypoint: flows.py:greet\n    parameters: {{times: many}}\n"
        f"    work_pool: {{name: {pool}}}\n",
    )

    assert "times" in failed(invoke("deploy"))


def test_no_project_file_says_how_to_make_one(invoke, cli_store, project):
    assert "legato init" in failed(invoke("deploy"))


def test_deploy_an_entrypoint_without_a_project_file(invoke, project, pool):
    name = unique("direct")

    out = ok(
        invoke(
            "deploy", "flows.py:greet", "-n", name, "--pool", pool,
            "--cron", "0 6 * * *", "--timezone", "Europe/Paris",
            "--param", "times=2", "--tag", "direct", "-jv", "stream_output=false",
        )
    )  # fmt: skip

    deployment = read(f"greet/{name}")
    assert f"Deployed 'greet/{name}'" in out
    assert (deployment.work_pool_name, deployment.parameters, deployment.tags) == (
        pool,
        {"times": 2},
        ["direct"],
    )
    assert deployment.job_variables == {"stream_output": False}
    assert deployment.schedules[0].schedule.timezone == "Europe/Paris"
    assert deployment.entrypoint == "flows.py:greet"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("flows.py:greet", "--pool", "p"), "-n NAME"),
        (("flows.py:greet", "-n", "x"), "--pool POOL"),
        (
            ("flows.py:greet", "-n", "x", "--pool", "p", "--cron", "* * * * *", "--interval", "5"),
            "not --cron and --interval",
        ),
        (("--all", "--pool", "p"), "go with an ENTRYPOINT"),
    ],
    ids=["no-name", "no-pool", "two-schedules", "options-without-entrypoint"],
)
def test_entrypoint_mode_mistakes_are_explained(invoke, cli_store, project, args, message):
    assert message in failed(invoke("deploy", *args))
