"""legato.yaml / prefect.yaml: Prefect 3's shape, anchors, env placeholders, errors with file:line:key."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from legato.deployments.project import find_project_file, load_project
from legato.exceptions import ConfigurationError, ProjectFileError

PREFECT_3_FILE = """\
# Welcome to your prefect.yaml file!
name: my-project
prefect-version: 3.1.4

build: null
push: null

pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/project

definitions:
  work_pools:
    local_pool: &local_pool
      name: local
      work_queue_name: default
      job_variables:
        env:
          MODE: prod
  schedules:
    hourly: &hourly
      cron: "0 * * * *"
      timezone: Europe/Paris

deployments:
- name: etl-nightly
  version: null
  tags: ["etl", "{{ $TEAM }}"]
  description: The nightly load
  schedule: {}
  flow_name: null
  entrypoint: flows/etl.py:etl
  parameters:
    day: "2024-01-01"
  work_pool: *local_pool
  schedules:
  - *hourly
  - interval: 600
    anchor_date: "2024-01-01T00:00:00Z"
    active: false
    parameters: {day: "x"}
  concurrency_limit: 2
  enforce_parameter_schema: true
- name: report
  entrypoint: flows/report.py:report
  paused: true
  concurrency_limit:
    limit: 1
    collision_strategy: CANCEL_NEW
  work_pool:
    <<: *local_pool
    work_queue_name: reports
  pull:
  - prefect.deployments.steps.git_clone:
      id: clone
      repository: https://example.com/org/repo.git
      access_token: "{{ $GIT_TOKEN }}"
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ clone.directory }}"
"""


def write(folder: Path, text: str, name: str = "prefect.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_prefect_3_file_loads(tmp_path):
    path = write(tmp_path, PREFECT_3_FILE)

    project = load_project(path, environ={"TEAM": "data"})

    assert project.name == "my-project"
    assert project.path == path.resolve()
    assert project.folder == tmp_path.resolve()
    etl, report = project.deployments
    assert etl.tags == ["etl", "data"]
    assert etl.work_pool is not None and etl.work_pool.name == "local"
    assert etl.work_pool.job_variables == {"env": {"MODE": "prod"}}
    assert etl.schedule is None
    assert [spec.cron for spec in etl.all_schedules()] == ["0 * * * *", None]
    assert etl.schedules[1].interval == 600 and etl.schedules[1].active is False
    assert etl.concurrency_limit is not None and etl.concurrency_limit.limit == 2
    assert report.work_pool is not None and report.work_pool.work_queue_name == "reports"
    assert report.work_pool.name == "local"  # from the merge key
    assert report.concurrency_limit is not None
    assert report.concurrency_limit.collision_strategy == "CANCEL_NEW"
    assert report.paused is True


def test_steps_keep_their_placeholders_for_the_worker(tmp_path):
    project = load_project(write(tmp_path, PREFECT_3_FILE), environ={"TEAM": "data"})
    etl, report = project.deployments

    assert project.pull_steps_for(etl) == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "/opt/project"}}
    ]
    steps = project.pull_steps_for(report)
    assert steps is not None
    assert steps[0]["prefect.deployments.steps.git_clone"]["access_token"] == "{{ $GIT_TOKEN }}"
    assert steps[1]["prefect.deployments.steps.set_working_directory"] == {
        "directory": "{{ clone.directory }}"
    }


def test_deployment_arguments_are_create_deployment_keywords(tmp_path):
    project = load_project(write(tmp_path, PREFECT_3_FILE), environ={"TEAM": "data"})

    arguments = project.deployment_arguments(project.deployments[0])

    assert arguments["name"] == "etl-nightly"
    assert arguments["entrypoint"] == "flows/etl.py:etl"
    assert arguments["path"] == str(tmp_path.resolve())
    assert arguments["work_pool_name"] == "local"
    assert arguments["work_queue_name"] == "default"
    assert arguments["job_variables"] == {"env": {"MODE": "prod"}}
    assert arguments["concurrency_limit"] == 2
    assert arguments["parameters"] == {"day": "2024-01-01"}
    cron, interval = arguments["schedules"]
    assert cron.cron == "0 * * * *"
    assert str(cron.timezone) == "Europe/Paris"
    assert interval.active is False


def test_select_by_name_and_pattern(tmp_path):
    project = load_project(write(tmp_path, PREFECT_3_FILE), environ={"TEAM": "data"})

    assert [spec.name for spec in project.select(None)] == ["etl-nightly", "report"]
    assert [spec.name for spec in project.select(["rep*"])] == ["report"]
    assert [spec.name for spec in project.select(["etl/etl-nightly"])] == ["etl-nightly"]
    lines = PREFECT_3_FILE.splitlines()
    expected = lines.index("  entrypoint: flows/report.py:report") + 1
    assert project.line_of("deployments", 1, "entrypoint") == expected


def problems_of(path: Path, environ: dict[str, str] | None = None) -> ProjectFileError:
    with pytest.raises(ProjectFileError) as caught:
        load_project(path, environ=environ or {})
    return caught.value


def test_an_unknown_key_reports_file_line_and_key_with_the_valid_keys(tmp_path):
    path = write(
        tmp_path,
        """\
        name: p
        deployments:
        - name: a
          entrypoint: f.py:f
          work_pool:
            name: pool
            job_variabels: {}
        """,
    )

    error = problems_of(path)

    assert error.problems[0][:2] == (7, "deployments[0].work_pool.job_variabels")
    message = str(error)
    assert f"{path}:7: deployments[0].work_pool.job_variabels: unknown key" in message
    assert "valid keys here: name, work_queue_name, job_variables" in message


def test_wrong_types_are_all_reported_with_their_lines(tmp_path):
    path = write(
        tmp_path,
        """\
        name: p
        deployments:
        - name: a
          tags: nightly
          paused: sometimes
          schedules:
          - cron: "0 * * * *"
            interval: 60
          concurrency_limit: 0
        unknown_top: 1
        """,
    )

    error = problems_of(path)

    found = {key: (line, message) for line, key, message in error.problems}
    assert found["deployments[0].tags"][0] == 4
    assert "valid list" in found["deployments[0].tags"][1]
    assert "'nightly'" in found["deployments[0].tags"][1]
    assert found["deployments[0].paused"][0] == 5
    assert found["deployments[0].schedules[0]"][0] == 7
    assert "exactly one of cron, interval or rrule" in found["deployments[0].schedules[0]"][1]
    assert found["deployments[0].concurrency_limit"][0] == 9
    assert "greater than or equal to 1, got 0" in found["deployments[0].concurrency_limit"][1]
    assert found["unknown_top"][0] == 10
    assert [line for line, _, _ in error.problems] == sorted(line for line, _, _ in error.problems)


def test_a_bad_cron_expression_is_reported_at_its_schedule(tmp_path):
    path = write(
        tmp_path,
        """\
        deployments:
        - name: a
          schedules:
          - cron: "not a cron"
        """,
    )

    error = problems_of(path)

    (line, key, message), *_ = error.problems
    assert (line, key) == (4, "deployments[0].schedules[0]")
    assert "not a cron" in message


def test_a_missing_environment_variable_is_reported_at_its_key(tmp_path):
    path = write(
        tmp_path,
        """\
        deployments:
        - name: a
          work_pool:
            name: "{{ $POOL_NAME }}"
        """,
    )

    error = problems_of(path)

    assert error.problems == [
        (
            4,
            "deployments[0].work_pool.name",
            "the environment variable POOL_NAME is not set ('{{ $POOL_NAME }}'); "
            "set it, or write the value instead",
        )
    ]
    project = load_project(path, environ={"POOL_NAME": "gpu"})
    assert project.deployments[0].work_pool is not None
    assert project.deployments[0].work_pool.name == "gpu"


def test_invalid_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "name: p\ndeployments:\n- name: [unclosed\n")

    error = problems_of(path)

    assert "not valid YAML" in str(error)
    assert error.problems[0][0] >= 3


@pytest.mark.parametrize("text", ["", "# only a comment\n", "deployments:\n"])
def test_an_empty_file_or_section_has_no_deployments(tmp_path, text):
    assert load_project(write(tmp_path, text)).deployments == []


def test_a_file_that_is_not_a_mapping(tmp_path):
    error = problems_of(write(tmp_path, "- a\n- b\n"))

    assert error.problems == [(1, "(top level)", error.problems[0][2])]


def test_build_and_push_steps_are_accepted_with_a_warning(tmp_path, caplog):
    path = write(
        tmp_path,
        """\
        push:
        - prefect_aws.deployments.steps.push_to_s3:
            bucket: b
        deployments: []
        """,
    )

    with caplog.at_level(logging.WARNING, logger="legato.deployments.project"):
        load_project(path)

    assert "push steps are not run by legato" in caplog.text


def test_a_step_must_have_one_name(tmp_path):
    path = write(
        tmp_path,
        """\
        pull:
        - a.step: {}
          b.step: {}
        """,
    )

    error = problems_of(path)

    assert error.problems[0][:2] == (2, "pull[0]")
    assert "exactly one key" in error.problems[0][2]


def test_find_project_file_prefers_legato_yaml(tmp_path, monkeypatch):
    assert find_project_file(tmp_path) is None
    write(tmp_path, "name: p\n", "prefect.yaml")
    assert find_project_file(tmp_path) == tmp_path / "prefect.yaml"
    write(tmp_path, "name: q\n", "legato.yaml")
    assert find_project_file(tmp_path) == tmp_path / "legato.yaml"
    monkeypatch.chdir(tmp_path)
    assert load_project().name == "q"


def test_no_project_file_or_a_missing_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigurationError, match="legato init"):
        load_project()
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_project(tmp_path / "nope.yaml")
