"""legato flow / flow-run / task-run against a store seeded through the client."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest


def parse_json(result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_flow_ls(invoke, store):
    result = invoke("flow", "ls")

    assert result.exit_code == 0, result.output
    assert "etl" in result.stdout
    assert "report" in result.stdout


def test_flow_ls_json(invoke, store):
    rows = parse_json(invoke("flow", "ls", "--output", "json"))

    assert {row["name"] for row in rows} == {"etl", "report"}
    assert {row["id"] for row in rows} == {store.etl_flow, store.report_flow}
    assert all(datetime.fromisoformat(row["created"]).tzinfo for row in rows)


def test_flow_ls_on_an_empty_store(invoke, home):
    result = invoke("flow", "ls")

    assert result.exit_code == 0
    assert "No flows recorded yet." in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), {"brave-otter", "calm-heron", "quick-lynx"}),
        (("--flow-name", "etl"), {"brave-otter", "calm-heron"}),
        (("--state", "FAILED"), {"calm-heron"}),
        (("--state", "failed", "--state", "running"), {"calm-heron", "quick-lynx"}),
        (("--limit", "1"), {"quick-lynx"}),
    ],
)
def test_flow_run_ls_filters(invoke, store, args, expected):
    rows = parse_json(invoke("flow-run", "ls", *args, "-o", "json"))

    assert {row["name"] for row in rows} == expected


def test_flow_run_ls_table_shows_states_and_flow_names(invoke, store):
    result = invoke("flow-run", "ls")

    assert result.exit_code == 0, result.output
    for text in ("brave-otter", "Completed", "Failed", "Running", "etl", "report", "1.50s"):
        assert text in result.stdout


def test_an_unknown_state_type_suggests_one(invoke, store):
    result = invoke("flow-run", "ls", "--state", "COMPLETD")

    assert result.exit_code == 1
    assert "Unknown state type 'COMPLETD'. Did you mean COMPLETED?" in result.stderr


def test_flow_run_inspect(invoke, store):
    result = invoke("flow-run", "inspect", store.completed)

    assert result.exit_code == 0, result.output
    assert "brave-otter" in result.stdout
    assert "State history" in result.stdout
    assert "Pending" in result.stdout


def test_flow_run_inspect_json(invoke, store):
    data = parse_json(invoke("flow-run", "inspect", store.completed, "--output", "json"))

    assert data["id"] == store.completed
    assert data["flow_name"] == "etl"
    assert data["task_run_count"] == 2
    assert [state["type"] for state in data["state_history"]] == ["PENDING", "RUNNING", "COMPLETED"]
    assert datetime.fromisoformat(data["start_time"]).tzinfo


@pytest.mark.parametrize("command", ["inspect", "logs", "delete"])
def test_an_unknown_flow_run_is_one_red_line(invoke, home, command):
    result = invoke("flow-run", command, "x")

    assert result.exit_code == 1
    assert result.stderr == "Flow run 'x' not found. List runs with `legato flow-run ls`.\n"
    assert result.stdout == ""


def test_flow_run_logs(invoke, store):
    result = invoke("flow-run", "logs", store.completed)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.rsplit(" - ", 1)[1] for line in lines] == [f"line {n}" for n in range(5)]
    assert "| INFO     | legato.flow_runs - line 0" in lines[0]


@pytest.mark.parametrize(
    ("option", "expected"), [("--head", ["line 0", "line 1"]), ("--tail", ["line 3", "line 4"])]
)
def test_flow_run_logs_head_and_tail(invoke, store, option, expected):
    result = invoke("flow-run", "logs", store.completed, option, "2")

    assert [line.rsplit(" - ", 1)[1] for line in result.stdout.splitlines()] == expected


def test_flow_run_logs_head_excludes_tail(invoke, store):
    result = invoke("flow-run", "logs", store.completed, "--head", "1", "--tail", "1")

    assert result.exit_code == 1
    assert "--head cannot be combined" in result.stderr


def test_follow_returns_at_once_for_a_final_run(invoke, store):
    result = invoke("flow-run", "logs", store.completed, "--follow")

    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 5


def test_log_cursor_pages_without_losing_or_repeating_rows(store, monkeypatch):
    from legato.cli import flow_run
    from legato.storage.records import RecordBatch

    # Given pages of 3 rows over 9 rows of which several share a timestamp
    monkeypatch.setattr(flow_run, "_PAGE", 3)
    batch = RecordBatch()
    for number in range(9):
        store.log(batch, store.running, f"m{number}", store.start + number // 3)
    store.record(batch)
    cursor = flow_run._LogCursor(store.client, store.running)

    messages = [row["message"] for row in cursor.read_new()]
    assert sorted(messages) == [f"m{n}" for n in range(9)]
    assert list(cursor.read_new()) == []

    # When two more lines arrive, one at the last timestamp seen
    batch = RecordBatch()
    store.log(batch, store.running, "late", store.start + 2)
    store.log(batch, store.running, "later", store.start + 3)
    store.record(batch)

    assert sorted(row["message"] for row in cursor.read_new()) == ["late", "later"]
    assert list(cursor.read_new()) == []


def test_flow_run_delete(invoke, store):
    result = invoke("flow-run", "delete", store.failed)

    assert result.exit_code == 0
    assert f"Deleted flow run '{store.failed}'." in result.stdout
    assert invoke("flow-run", "inspect", store.failed).exit_code == 1
    assert {row["name"] for row in parse_json(invoke("task-run", "ls", "-o", "json"))} == {
        f"task-{task[:4]}" for task in store.tasks[:2]
    }


@pytest.mark.parametrize(
    ("args", "count"),
    [((), 3), (("--state", "FAILED"), 1), (("--limit", "2"), 2)],
)
def test_task_run_ls(invoke, store, args, count):
    rows = parse_json(invoke("task-run", "ls", *args, "--output", "json"))

    assert len(rows) == count


def test_task_run_ls_by_flow_run(invoke, store):
    rows = parse_json(invoke("task-run", "ls", "--flow-run-id", store.completed, "-o", "json"))

    assert {row["id"] for row in rows} == set(store.tasks[:2])
    table = invoke("task-run", "ls", "--flow-run-id", store.failed)
    assert "Failed" in table.stdout
