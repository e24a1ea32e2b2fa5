"""legato work-pool create / ls / inspect / pause / resume / limits / delete / templates."""

from __future__ import annotations

import json

import pytest
from _cli_helpers import as_json, failed, ok, unique


@pytest.fixture
def pool(invoke, any_store) -> str:
    name = unique("pool")
    ok(invoke("work-pool", "create", name, "--type", "process"))
    return name


def test_create_then_ls_and_inspect(invoke, pool):
    listed = ok(invoke("work-pool", "ls"))
    data = as_json(invoke("work-pool", "inspect", pool, "-o", "json"))

    assert pool in listed
    assert data["name"] == pool
    assert data["type"] == "process"
    assert "command" in data["base_job_template"]["variables"]["properties"]
    assert data["is_paused"] is False


def test_create_says_how_to_start_a_worker(invoke, cli_store):
    out = ok(invoke("work-pool", "create", "mine"))

    assert "legato worker start --pool mine" in out


def test_create_twice_needs_overwrite(invoke, pool):
    assert "--overwrite" in failed(invoke("work-pool", "create", pool, "--type", "process"))

    ok(invoke("work-pool", "create", pool, "--overwrite", "--concurrency-limit", "3"))
    assert as_json(invoke("work-pool", "inspect", pool, "-o", "json"))["concurrency_limit"] == 3


def test_create_paused_with_a_limit(invoke, cli_store):
    ok(invoke("work-pool", "create", "held", "--paused", "--concurrency-limit", "2"))

    data = as_json(invoke("work-pool", "inspect", "held", "-o", "json"))
    assert (data["is_paused"], data["concurrency_limit"]) == (True, 2)


def test_create_with_an_unknown_type_names_the_known_ones(invoke, cli_store):
    err = failed(invoke("work-pool", "create", "k8s", "--type", "kubernetes"))

    assert "kubernetes" in err
    assert "process" in err


def test_a_base_job_template_file_is_used(invoke, cli_store, tmp_path):
    template_file = tmp_path / "template.json"
    ok(
        invoke(
            "work-pool",
            "get-default-base-job-template",
            "--type",
            "process",
            "--file",
            str(template_file),
        )
    )
    template = json.loads(template_file.read_text())
    template["variables"]["properties"]["env"]["default"] = {"FROM_TEMPLATE": "1"}
    template_file.write_text(json.dumps(template))

    ok(invoke("work-pool", "create", "templated", "--base-job-template", str(template_file)))

    data = as_json(invoke("work-pool", "inspect", "templated", "-o", "json"))
    assert data["base_job_template"]["variables"]["properties"]["env"]["default"] == {
        "FROM_TEMPLATE": "1"
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [("{nope", "not valid JSON"), ('{"variables": {}}', "job_configuration")],
    ids=["not-json", "missing-key"],
)
def test_a_bad_base_job_template_file_is_refused(invoke, cli_store, tmp_path, content, message):
    template_file = tmp_path / "bad.json"
    template_file.write_text(content)

    assert message in failed(
        invoke("work-pool", "create", "bad", "--base-job-template", str(template_file))
    )


def test_get_default_base_job_template_prints_json(invoke, cli_store):
    template = as_json(invoke("work-pool", "get-default-base-job-template", "--type", "process"))

    assert set(template) == {"job_configuration", "variables"}


def test_pause_resume_and_limits(invoke, pool):
    def read():
        return as_json(invoke("work-pool", "inspect", pool, "-o", "json"))

    ok(invoke("work-pool", "pause", pool))
    assert read()["is_paused"] is True
    ok(invoke("work-pool", "resume", pool))
    assert read()["is_paused"] is False
    ok(invoke("work-pool", "set-concurrency-limit", pool, "5"))
    assert read()["concurrency_limit"] == 5
    ok(invoke("work-pool", "clear-concurrency-limit", pool))
    assert read()["concurrency_limit"] is None


def test_inspect_lists_the_pool_queues(invoke, pool):
    ok(invoke("work-queue", "create", "urgent", "--pool", pool, "--priority", "1"))

    assert "urgent" in ok(invoke("work-pool", "inspect", pool))
    assert [
        q["name"]
        for q in as_json(invoke("work-pool", "inspect", pool, "-o", "json"))["work_queues"]
    ].count("urgent") == 1


def test_delete(invoke, pool):
    ok(invoke("work-pool", "delete", pool))

    assert "legato work-pool create" in failed(invoke("work-pool", "inspect", pool))


@pytest.mark.parametrize(
    "args",
    [
        ("inspect",),
        ("pause",),
        ("resume",),
        ("delete",),
        ("set-concurrency-limit", "1"),
        ("clear-concurrency-limit",),
    ],
    ids=lambda args: args[0],
)
def test_an_unknown_pool_is_named_with_the_fix(invoke, cli_store, args):
    err = failed(invoke("work-pool", args[0], "ghost", *args[1:]))

    assert "Work pool 'ghost' not found" in err
    assert "legato work-pool create ghost --type process" in err
