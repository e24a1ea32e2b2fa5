"""Job variables and configurations: pool < deployment < run, template rendering, the registry."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from legato.exceptions import ConfigurationError
from legato.workers import get_worker_class, register_worker_type, worker_types
from legato.workers.configuration import (
    FLOW_RUN_ID_ENV,
    BaseJobConfiguration,
    environment_for,
    merge_job_variables,
    render_job_configuration,
)
from legato.workers.process import ProcessJobConfiguration, ProcessWorker

TEMPLATE = {
    "job_configuration": {
        "command": "{{ command }}",
        "env": "{{ env }}",
        "name": "run-{{ name }}",
        "stream_output": "{{ stream_output }}",
        "working_dir": "{{ working_dir }}",
        "labels": {"team": "{{ team }}", "fixed": "yes"},
    },
    "variables": {
        "type": "object",
        "properties": {
            "command": {"type": "string"},
            "env": {"type": "object", "default": {"POOL": "1", "SHARED": "pool"}},
            "name": {"type": "string", "default": "x"},
            "stream_output": {"type": "boolean", "default": True},
            "working_dir": {"type": "string"},
            "team": {"type": "string", "default": "data"},
        },
    },
}


def flow_run(**fields):
    values = {"id": uuid.uuid4(), "name": "brave-otter"}
    values.update(fields)
    return SimpleNamespace(**values)


def test_merge_job_variables_run_over_deployment_over_pool():
    merged = merge_job_variables(
        TEMPLATE,
        {"env": {"DEPLOYMENT": "1"}, "team": "ml", "working_dir": "/srv"},
        {"team": "ops", "stream_output": False},
    )

    assert merged == {
        "env": {"DEPLOYMENT": "1"},  # one level: the deployment's env replaces the pool's
        "name": "x",
        "stream_output": False,
        "team": "ops",
        "working_dir": "/srv",
    }


def test_merge_copies_so_the_template_is_not_changed():
    merged = merge_job_variables(TEMPLATE)
    merged["env"]["POOL"] = "changed"

    assert TEMPLATE["variables"]["properties"]["env"]["default"] == {"POOL": "1", "SHARED": "pool"}
    assert merge_job_variables(None, {"a": 1}, None) == {"a": 1}
    assert merge_job_variables({"variables": "not a schema"}) == {}


def test_rendering_keeps_types_drops_missing_and_fills_embedded_placeholders():
    variables = merge_job_variables(TEMPLATE, {"team": 7})

    rendered = render_job_configuration(TEMPLATE, variables)

    assert rendered == {
        "env": {"POOL": "1", "SHARED": "pool"},
        "name": "run-x",
        "stream_output": True,
        "labels": {"team": 7, "fixed": "yes"},
    }


def test_a_configuration_from_a_template_and_values():
    configuration = BaseJobConfiguration.from_template_and_values(
        TEMPLATE, {"env": {"N": 1, "FLAG": True, "GONE": None}, "working_dir": "/tmp"}
    )

    assert configuration.env == {"N": "1", "FLAG": "true", "GONE": None}
    assert configuration.working_dir == Path("/tmp")
    assert configuration.command is None
    assert configuration.labels == {"team": "data", "fixed": "yes"}


def test_prepare_for_flow_run_adds_the_run_id_the_store_labels_and_the_command(monkeypatch):
    run = flow_run()
    deployment = SimpleNamespace(id=uuid.uuid4(), name="nightly", path="/srv/project")
    configuration = ProcessJobConfiguration.from_template_and_values(
        TEMPLATE, {"env": {"LEGATO_HOME": "/elsewhere", FLOW_RUN_ID_ENV: "spoofed"}}
    )

    configuration.prepare_for_flow_run(run, deployment, "worker-1")

    assert configuration.env[FLOW_RUN_ID_ENV] == str(run.id)
    assert configuration.env["LEGATO_HOME"] == "/elsewhere"  # the job's env wins over the worker's
    assert configuration.env["LEGATO_API_URL"] == ""  # embedded worker: keep children embedded
    assert configuration.labels["legato.io/flow-run-id"] == str(run.id)
    assert configuration.labels["legato.io/deployment-name"] == "nightly"
    assert configuration.labels["legato.io/worker-name"] == "worker-1"
    assert configuration.labels["team"] == "data"
    assert configuration.name == "run-x"
    assert configuration.command is not None
    assert configuration.command.endswith("-m legato.engine.deployed_run")
    assert sys.executable in configuration.command
    assert configuration.working_dir == Path("/srv/project")


def test_an_explicit_working_dir_and_name_win(monkeypatch):
    configuration = ProcessJobConfiguration(working_dir=Path("/mine"))

    configuration.prepare_for_flow_run(flow_run(), SimpleNamespace(id=1, name="d", path="/srv"))

    assert configuration.working_dir == Path("/mine")
    assert configuration.name == "brave-otter"


def test_environment_for_applies_env_and_removes_none(monkeypatch):
    monkeypatch.setenv("INHERITED", "yes")
    monkeypatch.setenv("REMOVED", "yes")
    configuration = BaseJobConfiguration(env={"ADDED": "1", "REMOVED": None})

    environment = environment_for(configuration)

    assert environment["INHERITED"] == "yes"
    assert environment["ADDED"] == "1"
    assert "REMOVED" not in environment


def test_the_process_worker_default_template_renders_its_own_defaults():
    template = ProcessWorker.default_base_job_template()

    assert set(template["variables"]["properties"]) == {
        "command",
        "env",
        "labels",
        "name",
        "working_dir",
        "stream_output",
    }
    assert template["variables"]["properties"]["stream_output"]["default"] is True
    configuration = ProcessJobConfiguration.from_template_and_values(
        template, {"env": {"A": "1"}, "working_dir": "/srv"}
    )
    assert configuration == ProcessJobConfiguration(env={"A": "1"}, working_dir=Path("/srv"))


def test_the_worker_registry(monkeypatch):
    import legato.workers

    monkeypatch.setattr(legato.workers, "_registered", {})
    assert get_worker_class("process") is ProcessWorker
    assert "process" in worker_types()
    with pytest.raises(ConfigurationError, match=r"No worker type 'docker'. Available: .*process"):
        get_worker_class("docker")

    class EchoWorker(ProcessWorker):
        type = "echo-test"

    register_worker_type(EchoWorker)
    assert get_worker_class("echo-test") is EchoWorker
    assert "echo-test" in worker_types()
