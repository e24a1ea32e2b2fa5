"""legato work-queue create / ls / inspect / pause / resume / limits / delete."""

from __future__ import annotations

import pytest
from _cli_helpers import as_json, failed, ok, unique


@pytest.fixture
def pool(invoke, any_store) -> str:
    name = unique("pool")
    ok(invoke("work-pool", "create", name))
    return name


def test_create_and_list_by_priority(invoke, pool):
    ok(invoke("work-queue", "create", "low", "--pool", pool, "--priority", "5", "--limit", "2"))
    ok(invoke("work-queue", "create", "high", "--pool", pool, "--priority", "1"))

    rows = as_json(invoke("work-queue", "ls", "--pool", pool, "-o", "json"))
    table = ok(invoke("work-queue", "ls", "--pool", pool))

    by_name = {row["name"]: row for row in rows}
    assert by_name["low"]["concurrency_limit"] == 2
    assert by_name["high"]["priority"] == 1
    assert table.index("high") < table.index("low")


def test_inspect_pause_resume_and_limits(invoke, pool):
    ok(invoke("work-queue", "create", "lane", "-p", pool))

    def read():
        return as_json(invoke("work-queue", "inspect", "lane", "--pool", pool, "-o", "json"))

    ok(invoke("work-queue", "pause", "lane", "--pool", pool))
    assert read()["is_paused"] is True
    ok(invoke("work-queue", "resume", "lane", "--pool", pool))
    assert read()["is_paused"] is False
    ok(invoke("work-queue", "set-concurrency-limit", "lane", "4", "--pool", pool))
    assert read()["concurrency_limit"] == 4
    ok(invoke("work-queue", "clear-concurrency-limit", "lane", "--pool", pool))
    assert read()["concurrency_limit"] is None


def test_delete(invoke, pool):
    ok(invoke("work-queue", "create", "gone", "--pool", pool))

    ok(invoke("work-queue", "delete", "gone", "--pool", pool))

    assert "not found" in failed(invoke("work-queue", "inspect", "gone", "--pool", pool))


def test_create_in_an_unknown_pool_names_the_fix(invoke, cli_store):
    err = failed(invoke("work-queue", "create", "q", "--pool", "ghost"))

    assert "legato work-pool create ghost --type process" in err


def test_an_unknown_queue_says_how_to_list_queues(invoke, pool):
    err = failed(invoke("work-queue", "pause", "ghost", "--pool", pool))

    assert f"legato work-queue ls --pool {pool}" in err


def test_create_needs_a_pool(invoke, cli_store):
    result = invoke("work-queue", "create", "q")

    assert result.exit_code == 2
    assert "--pool" in result.output
