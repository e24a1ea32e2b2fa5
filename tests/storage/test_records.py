"""The recorder's rows keep the records.py contract, and write as they are."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from legato.engine import recorder
from legato.engine.runs import FlowRun, TaskRun
from legato.states import Completed, Pending, Running
from legato.storage import sqlite, writes
from legato.storage.records import (
    FLOW_RUN_FIELDS,
    STATE_FIELDS,
    TASK_RUN_FIELDS,
    RecordBatch,
)


def make_runs(task_runs: int = 3) -> tuple[FlowRun, list[TaskRun]]:
    flow_run = FlowRun(
        "brave-otter", uuid.uuid4(), "etl", Running(), ["nightly"], {"x": 1}, flow_version="2"
    )
    runs = [
        TaskRun(
            f"add-{index}",
            "add-abc",
            "add",
            str(index),
            Completed(),
            [],
            {},
            flow_run.id,
            task_inputs={"x": [uuid.uuid4()]} if index else {},
        )
        for index in range(task_runs)
    ]
    return flow_run, runs


def test_rows_are_tuples_of_the_record_fields_with_id_texts():
    flow_run, task_runs = make_runs()

    flow_row = recorder._flow_run_row(flow_run, 12.5)
    task_rows = recorder._task_run_rows(task_runs, 12.5)

    assert type(flow_row) is tuple and len(flow_row) == len(FLOW_RUN_FIELDS)
    flow = dict(zip(FLOW_RUN_FIELDS, flow_row, strict=True))
    assert flow["id"] == str(flow_run.id) == flow_run.id_text
    assert flow["parameters"] == '{"x": 1}' and flow["tags"] == '["nightly"]'
    assert flow["created"] == flow_run.created and flow["updated"] == 12.5
    for run, row in zip(task_runs, task_rows, strict=True):
        assert type(row) is tuple and len(row) == len(TASK_RUN_FIELDS)
        task = dict(zip(TASK_RUN_FIELDS, row, strict=True))
        assert task["id"] == str(run.id)
        assert task["flow_run_id"] == str(flow_run.id)
        assert task["state_type"] == "COMPLETED"
        assert task["updated"] == 12.5
    assert '"input_type": "task_run"' in task_rows[1][TASK_RUN_FIELDS.index("task_inputs")]
    assert isinstance(flow_run.id, uuid.UUID), "the public id stays a UUID"


def test_task_runs_of_different_flow_runs_keep_their_own_flow_run_id():
    first, first_tasks = make_runs(2)
    second, second_tasks = make_runs(2)
    loose = TaskRun("t-0", "t", "t", "0", Pending(), [], {}, None)
    copy = TaskRun("t-1", "t", "t", "1", Pending(), [], {}, uuid.UUID(str(second.id)))

    rows = recorder._task_run_rows([*first_tasks, loose, *second_tasks, copy], 1.0)

    assert [row[1] for row in rows] == [
        str(first.id),
        str(first.id),
        None,
        str(second.id),
        str(second.id),
        str(second.id),
    ]


def test_state_rows_have_new_increasing_uuid7_ids():
    flow_run, task_runs = make_runs(2)
    pending = [(flow_run.state, flow_run, None)] + [(run.state, None, run) for run in task_runs]

    rows = recorder._state_rows(pending) + recorder._state_rows(pending)

    assert all(len(row) == len(STATE_FIELDS) for row in rows)
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids)
    assert ids[:3] == sorted(ids[:3]) and ids[3:] == sorted(ids[3:])
    for id_ in ids:
        parsed = uuid.UUID(id_)
        assert str(parsed) == id_
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert rows[0][1:3] == (flow_run.id_text, None)
    assert rows[1][1:3] == (None, task_runs[0].id_text)
    assert rows[0][6] == flow_run.state.timestamp_seconds
    assert recorder._state_rows([]) == []


def test_id_text_is_made_once():
    flow_run, _ = make_runs(0)
    assert flow_run.id_text is flow_run.id_text


@pytest.mark.parametrize("task_runs", [1, 300])
def test_recorder_rows_write_and_read_back(database_path, task_runs):
    flow_run, runs = make_runs(task_runs)
    pending = [(run.state, None, run) for run in runs]
    batch = RecordBatch(
        flows=[(str(flow_run.flow_id), flow_run.flow_name)],
        flow_runs=[recorder._flow_run_row(flow_run, 5.0)],
        task_runs=recorder._task_run_rows(runs, 5.0),
        states=recorder._state_rows(pending),
    )
    connection = sqlite.open_database(database_path)
    try:
        writes.write_batch(connection, batch)
        connection.row_factory = sqlite3.Row
        stored = connection.execute("SELECT * FROM task_runs ORDER BY rowid").fetchall()
    finally:
        connection.close()
    assert [row["id"] for row in stored] == [run.id_text for run in runs]
    assert {row["flow_run_id"] for row in stored} == {flow_run.id_text}
    assert {row["updated"] for row in stored} == {5.0}
