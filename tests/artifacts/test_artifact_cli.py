"""legato artifact: ls, inspect, delete."""

from __future__ import annotations

import json
import uuid

import pytest


def ok(result):
    assert result.exit_code == 0, result.output
    return result.stdout


def fails_with(result, message):
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def seeded(embedded_client):
    """Two versions of "report", one of "metrics", one artifact without a key."""
    client = embedded_client
    flow_run_id = str(uuid.uuid4())
    rows = {
        "report-v1": client.create_artifact(key="report", type="markdown", data="# Week 1"),
        "metrics": client.create_artifact(key="metrics", type="table", data=[{"rows": 10}]),
        "loose": client.create_artifact(type="link", data="[x](https://x.org)"),
        "report-v2": client.create_artifact(
            key="report", type="markdown", data="# Week 2", flow_run_id=flow_run_id
        ),
    }
    return rows


def json_ids(result):
    return [row["id"] for row in json.loads(ok(result))]


def test_ls_shows_the_latest_version_of_each_key(invoke, seeded):
    table = ok(invoke("artifact", "ls"))

    for text in ("report", "# Week 2", "metrics", '[{"rows":10}]', seeded["report-v2"]["id"]):
        assert text in table
    assert "# Week 1" not in table
    assert "[x](https://x.org)" not in table
    assert json_ids(invoke("artifact", "ls", "-o", "json")) == [
        seeded["report-v2"]["id"],
        seeded["metrics"]["id"],
    ]


def test_ls_all_versions_key_and_limit(invoke, seeded):
    everything = json_ids(invoke("artifact", "ls", "--all-versions", "-o", "json"))
    assert everything == [
        seeded[name]["id"] for name in ("report-v2", "loose", "metrics", "report-v1")
    ]
    versions = json_ids(invoke("artifact", "ls", "--key", "report", "-a", "-o", "json"))
    assert versions == [seeded["report-v2"]["id"], seeded["report-v1"]["id"]]
    assert json_ids(invoke("artifact", "ls", "-a", "--limit", "1", "-o", "json")) == [
        seeded["report-v2"]["id"]
    ]


def test_ls_on_an_empty_store_hints_at_all_versions(invoke):
    assert "No artifacts match. Add --all-versions" in ok(invoke("artifact", "ls"))


def test_inspect_a_key_shows_its_versions_newest_first(invoke, seeded):
    rows = json.loads(ok(invoke("artifact", "inspect", "report", "-o", "json")))
    assert [row["data"] for row in rows] == ["# Week 2", "# Week 1"]
    assert rows[0]["flow_run_id"] == seeded["report-v2"]["flow_run_id"]
    assert rows[0]["created"].endswith("+00:00")

    newest = json.loads(ok(invoke("artifact", "inspect", "report", "--limit", "1", "-o", "json")))
    assert [row["data"] for row in newest] == ["# Week 2"]

    table = ok(invoke("artifact", "inspect", "metrics"))
    assert '"rows": 10' in table
    assert seeded["metrics"]["id"] in table


def test_inspect_an_id(invoke, seeded):
    rows = json.loads(ok(invoke("artifact", "inspect", seeded["loose"]["id"], "-o", "json")))

    assert [row["id"] for row in rows] == [seeded["loose"]["id"]]


@pytest.mark.parametrize("key_or_id", ["nothing", "0b8f5a6e-5c39-4bb4-a3ab-2b1f1f0a8a5d"])
def test_inspect_unknown_exits_1(invoke, seeded, key_or_id):
    fails_with(
        invoke("artifact", "inspect", key_or_id),
        f"No artifact with key or id {key_or_id!r}. List artifacts with",
    )


def test_delete_a_key_deletes_every_version(invoke, embedded_client, seeded):
    result = invoke("artifact", "delete", "report", "--yes")

    assert ok(result).strip() == "Deleted 2 version(s) of artifact 'report'."
    assert embedded_client.count_artifacts(key="report") == 0
    assert embedded_client.count_artifacts() == 2


def test_delete_asks_first(invoke, embedded_client, seeded):
    refused = invoke("artifact", "delete", "report", input="n\n")
    assert refused.exit_code == 1
    assert "Delete 2 version(s) of artifact 'report'?" in refused.stdout
    assert embedded_client.count_artifacts(key="report") == 2

    ok(invoke("artifact", "delete", "report", input="y\n"))
    assert embedded_client.count_artifacts(key="report") == 0


def test_delete_an_id_deletes_one_version(invoke, embedded_client, seeded):
    artifact_id = seeded["report-v2"]["id"]

    assert ok(invoke("artifact", "delete", artifact_id, "-y")).strip() == (
        f"Deleted artifact {artifact_id}."
    )
    assert embedded_client.read_latest_artifact("report")["id"] == seeded["report-v1"]["id"]


@pytest.mark.parametrize("key_or_id", ["nothing", "0e4f6b8a-3c1d-4d2e-9f70-5a6b7c8d9e0f"])
def test_delete_unknown_exits_1(invoke, seeded, key_or_id):
    fails_with(invoke("artifact", "delete", key_or_id, "--yes"), "No artifact with key or id")
