"""legato concurrency-limit and legato global-concurrency-limit, embedded and through a server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from legato.client.embedded import EmbeddedClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _server_process import running_server  # type: ignore[import-not-found]

RUN_ID = "0b6c3f4e-1d2a-4c5b-8e9f-0a1b2c3d4e5f"


def ok(result):
    assert result.exit_code == 0, result.output
    return result.stdout


def fails_with(result, message):
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def client(home):
    with EmbeddedClient(home / "legato.db") as opened:
        yield opened


# -- global limits ---------------------------------------------------------------------


def test_create_list_and_inspect_global_limits(invoke, client):
    created = ok(invoke("global-concurrency-limit", "create", "db", "--limit", "3"))
    assert created.startswith("Created global concurrency limit 'db' (3 slots)")
    rate = ok(invoke("global-concurrency-limit", "create", "api", "-l", "5", "-d", "2.5"))
    assert rate.startswith("Created global rate limit 'api'")
    client.acquire_concurrency_slots_with_lease(
        ["db"], 2, holder={"pid": 4242, "hostname": "box-7", "task_run_id": RUN_ID}
    )

    listed = ok(invoke("global-concurrency-limit", "ls"))
    assert "api" in listed and "2.5" in listed and "db" in listed
    rows = json.loads(ok(invoke("global-concurrency-limit", "ls", "-o", "json")))
    assert [(row["name"], row["limit"], row["active_slots"]) for row in rows] == [
        ("api", 5, 0),
        ("db", 3, 2),
    ]
    shown = ok(invoke("global-concurrency-limit", "inspect", "db"))
    for text in ("In use", "pid 4242 on box-7", f"task run {RUN_ID}", "in 2"):
        assert text in shown
    data = json.loads(ok(invoke("global-concurrency-limit", "inspect", "db", "-o", "json")))
    assert data["active_slots"] == 2
    assert [lease["holder"]["pid"] for lease in data["leases"]] == [4242]


def test_update_enable_disable_delete(invoke, client):
    ok(invoke("global-concurrency-limit", "create", "db", "--limit", "3"))

    ok(invoke("global-concurrency-limit", "update", "db", "--limit", "7", "-d", "0.5"))
    read = client.read_global_concurrency_limit_by_name("db")
    assert (read.limit, read.slot_decay_per_second) == (7, 0.5)
    assert ok(invoke("global-concurrency-limit", "disable", "db")).startswith("Disabled")
    assert client.read_global_concurrency_limit_by_name("db").active is False
    assert ok(invoke("global-concurrency-limit", "enable", "db")).startswith("Enabled")
    assert client.read_global_concurrency_limit_by_name("db").active is True

    aborted = invoke("global-concurrency-limit", "delete", "db", input="n\n")
    assert aborted.exit_code == 1
    assert client.read_global_concurrency_limit_by_name("db").limit == 7
    ok(invoke("global-concurrency-limit", "delete", "db", "--yes"))
    assert client.read_global_concurrency_limits() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "db", "--limit", "0"), "--limit must be at least 1, got 0"),
        (("create", "db", "--limit", "-2"), "--limit must be at least 1, got -2"),
        (("create", "db", "-l", "1", "-d", "-1"), "--slot-decay-per-second must be a number >= 0"),
        (("create", "a/b", "--limit", "1"), "'a/b' holds '/'"),
        (("update", "db"), "Nothing to update"),
        (("update", "missing", "--limit", "2"), "No concurrency limit named 'missing'"),
        (("inspect", "missing"), "global-concurrency-limit create 'missing'"),
        (("enable", "missing"), "No concurrency limit named 'missing'"),
        (("delete", "missing", "--yes"), "No concurrency limit named 'missing'"),
    ],
    ids=[
        "zero",
        "negative",
        "negative-decay",
        "bad-name",
        "nothing-to-update",
        "update-missing",
        "inspect-missing",
        "enable-missing",
        "delete-missing",
    ],
)
def test_bad_input_is_one_clear_line(invoke, args, message):
    fails_with(invoke("global-concurrency-limit", *args), message)


def test_a_taken_name_and_a_non_integer(invoke):
    ok(invoke("global-concurrency-limit", "create", "db", "--limit", "1"))

    fails_with(invoke("global-concurrency-limit", "create", "db", "--limit", "2"), "exists already")
    not_int = invoke("global-concurrency-limit", "create", "x", "--limit", "2.5")
    assert not_int.exit_code == 2 and "valid integer" in not_int.output


# -- tag limits ------------------------------------------------------------------------------


def test_tag_limits_create_ls_inspect_reset_delete(invoke, client):
    first = ok(invoke("concurrency-limit", "create", "etl", "2"))
    assert first.startswith("Concurrency limit for tag 'etl' set to 2")
    ok(invoke("concurrency-limit", "create", "etl", "3"))  # changes it
    client.acquire_concurrency_slots_with_lease(
        ["tag:etl"], 1, holder={"pid": 99, "task_run_id": RUN_ID}
    )

    [row] = json.loads(ok(invoke("concurrency-limit", "ls", "-o", "json")))
    assert (row["tag"], row["concurrency_limit"], row["active_slots"]) == ("etl", 3, [RUN_ID])
    assert RUN_ID in ok(invoke("concurrency-limit", "ls"))
    shown = ok(invoke("concurrency-limit", "inspect", "etl"))
    assert "pid 99" in shown and f"task run {RUN_ID}" in shown
    assert "tag:etl" in ok(invoke("global-concurrency-limit", "ls"))

    ok(invoke("concurrency-limit", "reset", "etl"))
    assert client.read_concurrency_limit_by_tag("etl").slots_in_use == 0
    ok(invoke("concurrency-limit", "delete", "etl"))
    fails_with(invoke("concurrency-limit", "inspect", "etl"), "No concurrency limit for tag 'etl'")
    fails_with(invoke("concurrency-limit", "reset", "etl"), "concurrency-limit create 'etl'")
    fails_with(invoke("concurrency-limit", "delete", "etl"), "No concurrency limit for tag")
    fails_with(invoke("concurrency-limit", "create", "etl", "0"), "at least 1, got 0")


def test_empty_lists(invoke):
    assert "No tag limits yet." in ok(invoke("concurrency-limit", "ls"))
    assert "No limits yet." in ok(invoke("global-concurrency-limit", "ls"))


# -- through a server -------------------------------------------------------------------------


def test_the_commands_work_through_a_server(invoke, tmp_path, monkeypatch):
    with running_server(tmp_path / "server-home") as server:
        monkeypatch.setenv("LEGATO_API_URL", server.api_url)

        ok(invoke("global-concurrency-limit", "create", "db", "--limit", "2"))
        ok(invoke("concurrency-limit", "create", "etl", "4"))
        rows = json.loads(ok(invoke("global-concurrency-limit", "ls", "-o", "json")))
        assert [(row["name"], row["limit"]) for row in rows] == [("db", 2), ("tag:etl", 4)]
        assert "Limit" in ok(invoke("concurrency-limit", "inspect", "etl"))
        fails_with(invoke("global-concurrency-limit", "inspect", "nope"), "'nope'")
        ok(invoke("concurrency-limit", "delete", "etl"))
        ok(invoke("global-concurrency-limit", "delete", "db", "-y"))
        assert json.loads(ok(invoke("global-concurrency-limit", "ls", "-o", "json"))) == []
