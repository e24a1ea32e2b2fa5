"""The write path: upserts, appends, idempotence, timestamps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.storage import sqlite, writes
from legato.storage.records import RecordBatch
from legato.storage.types import parse_timestamp


@pytest.fixture
def connection(database_path):
    connection = sqlite.open_database(database_path)
    yield connection
    connection.close()


def count(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_batch_writes_every_table(connection, factory):
    batch, run = factory.flow_run_batch(task_runs=3)

    writes.write_batch(connection, batch)

    assert [
        count(connection, t) for t in ("flows", "flow_runs", "task_runs", "states", "logs")
    ] == [
        1,
        1,
        3,
        4,
        4,
    ]
    row = connection.execute("SELECT name, parameters, created FROM flow_runs").fetchone()
    assert row == ("happy-otter", '{"x": 1}', writes.format_timestamp(run["created"]))


def test_latest_snapshot_of_a_run_wins_and_created_is_kept(connection, factory):
    run = factory.flow_run()
    writes.write_batch(connection, RecordBatch(flows=[factory.flow()], flow_runs=[run]))
    first_updated = connection.execute("SELECT updated FROM flow_runs").fetchone()[0]

    # When the same run is written again, later, with a new state and a new created
    finished = {
        **run,
        "state_type": "COMPLETED",
        "state_name": "Completed",
        "end_time": factory.now(),
    }
    finished["created"] = factory.now()
    writes.write_batch(connection, RecordBatch(flow_runs=[finished]))

    row = connection.execute(
        "SELECT state_type, end_time, created, updated FROM flow_runs"
    ).fetchone()
    assert row[0] == "COMPLETED"
    assert row[1] == writes.format_timestamp(finished["end_time"])
    assert row[2] == writes.format_timestamp(run["created"])
    assert row[3] >= first_updated


def test_last_snapshot_within_one_batch_wins(connection, factory):
    task_run = factory.task_run(None, state_type="RUNNING")
    done = {**task_run, "state_type": "COMPLETED", "run_count": 2}

    writes.write_batch(connection, RecordBatch(task_runs=[task_run, done]))

    assert connection.execute("SELECT state_type, run_count FROM task_runs").fetchall() == [
        ("COMPLETED", 2)
    ]


def test_states_and_logs_append_and_a_repeated_batch_changes_nothing(connection, factory):
    batch, _ = factory.flow_run_batch(task_runs=2)
    writes.write_batch(connection, batch)
    second, _ = factory.flow_run_batch(task_runs=1)
    writes.write_batch(connection, second)

    # When the first batch is written again (a retry after an ambiguous failure)
    writes.write_batch(connection, batch)

    assert count(connection, "states") == 3 + 2
    assert count(connection, "logs") == 3 + 2
    assert count(connection, "flow_runs") == 2
    assert count(connection, "flows") == 1


def test_rows_may_arrive_in_any_order_across_batches(connection, factory):
    flow_run = factory.flow_run()
    task_run = factory.task_run(flow_run["id"])
    subflow_run = factory.flow_run(
        parent_flow_run_id=flow_run["id"], parent_task_run_id=task_run["id"]
    )

    # The task run and the subflow are written before their parents exist
    writes.write_batch(connection, RecordBatch(flow_runs=[subflow_run], task_runs=[task_run]))
    writes.write_batch(connection, RecordBatch(flows=[factory.flow()], flow_runs=[flow_run]))

    assert count(connection, "flow_runs") == 2
    assert count(connection, "task_runs") == 1


def test_task_run_outside_any_flow(connection, factory):
    task_run = factory.task_run(None)
    writes.write_batch(
        connection,
        RecordBatch(task_runs=[task_run], states=[factory.state(task_run_id=task_run["id"])]),
    )
    assert connection.execute("SELECT flow_run_id FROM task_runs").fetchall() == [(None,)]


def test_empty_batch_opens_no_transaction(connection):
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    writes.write_batch(connection, RecordBatch())
    assert statements == []


def test_a_failing_batch_is_rolled_back_whole(connection, factory):
    batch, _ = factory.flow_run_batch(task_runs=2)
    batch.logs.append(
        (batch.logs[0][0].upper(), None, None, "x", 20, None, 1.0)
    )  # message NOT NULL

    with pytest.raises(sqlite3.IntegrityError):
        writes.write_batch(connection, batch)

    assert not connection.in_transaction
    assert [count(connection, t) for t in ("flows", "flow_runs", "task_runs", "states")] == [
        0,
        0,
        0,
        0,
    ]


def test_prepare_batch_orders_statements_and_takes_a_converter(factory):
    batch, run = factory.flow_run_batch(task_runs=1)
    batch.flows.clear()

    statements = writes.prepare_batch(
        batch, lambda seconds: datetime.fromtimestamp(seconds, UTC), now=0.0
    )

    assert [sql for sql, _ in statements] == [
        writes.UPSERT_FLOW_RUN,
        writes.UPSERT_TASK_RUN,
        writes.INSERT_STATE,
        writes.INSERT_LOG,
    ]
    flow_run_params = statements[0][1][0]
    assert flow_run_params["created"] == datetime.fromtimestamp(run["created"], UTC)
    assert flow_run_params["end_time"] is None
    assert flow_run_params["updated"] == datetime.fromtimestamp(0, UTC)
    assert run["created"] != flow_run_params["created"], "the record itself is not modified"


def test_write_sql_is_portable_upsert_text():
    for sql in (writes.INSERT_FLOW, writes.UPSERT_FLOW_RUN, writes.INSERT_STATE, writes.INSERT_LOG):
        assert "ON CONFLICT" in sql and "?" not in sql
    assert "created = excluded.created" not in writes.UPSERT_TASK_RUN
    assert "updated = excluded.updated" in writes.UPSERT_TASK_RUN


@given(st.floats(min_value=0, max_value=4_102_444_800))  # 1970 .. 2100
def test_format_timestamp_rounds_like_datetime(seconds):
    text = writes.format_timestamp(seconds)
    assert len(text) == 26
    assert parse_timestamp(text) == datetime.fromtimestamp(seconds, UTC)


@given(
    st.floats(min_value=0, max_value=4_102_444_800), st.floats(min_value=0, max_value=4_102_444_800)
)
def test_timestamp_text_sorts_like_time(first, second):
    if first <= second:
        assert writes.format_timestamp(first) <= writes.format_timestamp(second)
    else:
        assert writes.format_timestamp(first) >= writes.format_timestamp(second)


def test_format_timestamp_examples():
    assert writes.format_timestamp(0) == "1970-01-01 00:00:00.000000"
    assert writes.format_timestamp(1.9999999) == "1970-01-01 00:00:02.000000"
    assert writes.format_timestamp(1_700_000_000.123456) == "2023-11-14 22:13:20.123456"
