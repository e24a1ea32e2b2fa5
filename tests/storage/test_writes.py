"""The write path: upserts, appends, idempotence, multi-row statements, timestamps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateTable

from legato.storage import schema, sqlite, writes
from legato.storage.records import FLOW_RUN_FIELDS, TASK_RUN_FIELDS, RecordBatch
from legato.storage.types import Timestamp, to_datetime


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
    ] == [1, 1, 3, 4, 4]
    row = connection.execute("SELECT name, parameters, created, updated FROM flow_runs").fetchone()
    assert row == ("happy-otter", '{"x": 1}', run.created, run.updated)


def test_timestamps_are_stored_as_the_posix_seconds_given(connection, factory):
    batch, run = factory.flow_run_batch(task_runs=1)
    writes.write_batch(connection, batch)

    assert connection.execute(
        "SELECT typeof(created), typeof(end_time), start_time FROM flow_runs"
    ).fetchone() == ("real", "null", run.start_time)
    assert connection.execute("SELECT timestamp FROM states").fetchall() == [
        (state[6],) for state in batch.states
    ]


def test_latest_snapshot_of_a_run_wins_and_created_is_kept(connection, factory):
    run = factory.flow_run()
    writes.write_batch(connection, RecordBatch(flows=[factory.flow()], flow_runs=[run]))

    # When the same run is written again, later, with a new state and a new created
    finished = run._replace(
        state_type="COMPLETED",
        state_name="Completed",
        end_time=factory.now(),
        created=factory.now(),
        updated=factory.now(),
    )
    writes.write_batch(connection, RecordBatch(flow_runs=[finished]))

    row = connection.execute(
        "SELECT state_type, end_time, created, updated FROM flow_runs"
    ).fetchone()
    assert row == ("COMPLETED", finished.end_time, run.created, finished.updated)


def test_last_snapshot_within_one_batch_wins(connection, factory):
    task_run = factory.task_run(None, state_type="RUNNING")
    done = task_run._replace(state_type="COMPLETED", run_count=2)

    writes.write_batch(connection, RecordBatch(task_runs=[task_run, done]))

    assert connection.execute("SELECT state_type, run_count FROM task_runs").fetchall() == [
        ("COMPLETED", 2)
    ]


def test_many_rows_are_written_many_a_statement_and_the_last_snapshot_wins(connection, factory):
    flow_run = factory.flow_run()
    task_runs = [factory.task_run(flow_run.id, dynamic_key=str(i)) for i in range(700)]

    def failed(runs):
        return [run._replace(state_type="FAILED", run_count=2) for run in runs]

    # Later snapshots of runs in the same chunk (0-9) and in an earlier one (250-259)
    rows = task_runs[:30] + failed(task_runs[:10]) + task_runs[30:] + failed(task_runs[250:260])
    batch = RecordBatch(
        flow_runs=[flow_run],
        task_runs=rows,
        states=[factory.state(task_run_id=run.id) for run in task_runs],
    )
    statements = writes.sqlite_statements(batch, max_variables=100_000, rows_per_statement=256)
    task_run_statements = [(sql, params) for sql, params in statements if "task_runs" in sql]
    assert [len(params) for _, params in task_run_statements] == [2, 720 - 512]
    assert len(task_run_statements[0][1][0]) == 256 * len(TASK_RUN_FIELDS)

    writes.write_batch(connection, batch)

    assert count(connection, "task_runs") == 700
    assert count(connection, "states") == 700
    keys = connection.execute(
        "SELECT dynamic_key FROM task_runs WHERE state_type = 'FAILED' AND run_count = 2"
    ).fetchall()
    assert sorted(int(key) for (key,) in keys) == [*range(10), *range(250, 260)]


def test_statements_bind_no_more_values_than_sqlite_allows(factory):
    batch, _ = factory.flow_run_batch(task_runs=30)

    statements = writes.sqlite_statements(batch, max_variables=100)

    for sql, params in statements:
        assert all(len(values) <= 100 for values in params), sql
    task_run_sql = [sql for sql, _ in statements if "INTO task_runs" in sql]
    assert task_run_sql == [writes.TASK_RUNS.values_sql(5)]  # 100 // 20 fields


def test_a_row_with_the_wrong_number_of_values_fails_the_batch(connection, factory):
    batch, _ = factory.flow_run_batch(task_runs=300)
    # A short row and a long one: flattened together they would shift values silently
    batch.task_runs[3] = tuple(batch.task_runs[3])[:-1]
    batch.task_runs[4] = (*batch.task_runs[4], None)

    with pytest.raises(sqlite3.ProgrammingError, match="task_runs row"):
        writes.write_batch(connection, batch)
    assert count(connection, "task_runs") == 0


def test_rows_are_plain_tuples_in_field_order(connection, factory):
    run = factory.flow_run()
    plain = tuple(run)
    assert type(plain) is tuple and len(plain) == len(FLOW_RUN_FIELDS)

    writes.write_batch(connection, RecordBatch(flows=[factory.flow()], flow_runs=[plain]))

    columns = ", ".join(FLOW_RUN_FIELDS)
    assert connection.execute(f"SELECT {columns} FROM flow_runs").fetchone() == plain


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
    task_run = factory.task_run(flow_run.id)
    subflow_run = factory.flow_run(parent_flow_run_id=flow_run.id, parent_task_run_id=task_run.id)

    # The task run and the subflow are written before their parents exist
    writes.write_batch(connection, RecordBatch(flow_runs=[subflow_run], task_runs=[task_run]))
    writes.write_batch(connection, RecordBatch(flows=[factory.flow()], flow_runs=[flow_run]))

    assert count(connection, "flow_runs") == 2
    assert count(connection, "task_runs") == 1


def test_task_run_outside_any_flow(connection, factory):
    task_run = factory.task_run(None)
    writes.write_batch(
        connection,
        RecordBatch(task_runs=[task_run], states=[factory.state(task_run_id=task_run.id)]),
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


def test_table_rows_pass_the_rows_as_they_are(factory):
    batch, _ = factory.flow_run_batch(task_runs=1)

    tables = writes.table_rows(batch, now=5.0)

    assert tables == [
        (writes.FLOWS, [(*batch.flows[0], 5.0, 5.0)]),
        (writes.FLOW_RUNS, batch.flow_runs),
        (writes.TASK_RUNS, batch.task_runs),
        (writes.STATES, batch.states),
        (writes.LOGS, batch.logs),
    ]
    assert tables[2][1] is batch.task_runs
    assert writes.table_rows(RecordBatch(logs=batch.logs)) == [(writes.LOGS, batch.logs)]


def test_check_row_widths_names_the_table():
    tables = [(writes.STATES, [("a",) * 8, ("b",) * 7])]
    with pytest.raises(ValueError, match="a states row does not have 8 values"):
        writes.check_row_widths(tables)


def test_write_sql_is_upsert_text():
    for table in writes.TABLE_WRITES:
        assert "ON CONFLICT" in table.sql
        assert ":" not in table.sql
        assert table.sql.count("?") == len(table.columns)
        assert table.values_sql(3).count("?") == 3 * len(table.columns)
    assert "created = excluded.created" not in writes.TASK_RUNS.sql
    assert "updated = excluded.updated" in writes.TASK_RUNS.sql
    assert writes.TASK_RUNS.columns == TASK_RUN_FIELDS


def test_none_binds_null(connection):
    # sqlite.py registers an adapter for None (for speed): it must still mean NULL
    assert connection.execute("SELECT ? IS NULL, typeof(?)", (None, None)).fetchone() == (
        1,
        "null",
    )


# -- the Timestamp column type ------------------------------------------------


@given(st.floats(min_value=0, max_value=4_102_444_800))  # 1970 .. 2100
def test_timestamps_read_back_like_datetime_fromtimestamp(seconds):
    dialect = sqlite_dialect.dialect()
    stored = Timestamp().process_bind_param(seconds, dialect)
    assert stored == seconds
    read = Timestamp().process_result_value(stored, dialect)
    assert read == datetime.fromtimestamp(seconds, UTC)
    assert read is not None and read.tzinfo is UTC


def test_timestamp_binds_datetimes_as_seconds_on_sqlite():
    dialect = sqlite_dialect.dialect()
    bind = Timestamp().process_bind_param
    aware = datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=2)))
    assert bind(aware, dialect) == aware.timestamp()
    assert bind(datetime(2024, 5, 1, 10, 0, 0, 250_000), dialect) == aware.timestamp()
    assert bind(None, dialect) is None


def test_timestamp_is_real_on_sqlite_and_timestamptz_on_postgresql():
    assert "created REAL NOT NULL" in str(
        CreateTable(schema.task_runs).compile(dialect=sqlite_dialect.dialect())
    )
    assert "created TIMESTAMP WITH TIME ZONE NOT NULL" in str(
        CreateTable(schema.task_runs).compile(dialect=postgresql.dialect())
    )
    pg = postgresql.dialect()
    assert Timestamp().process_bind_param(0.5, pg) == datetime(1970, 1, 1, 0, 0, 0, 500_000, UTC)
    local = datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert Timestamp().process_result_value(local, pg) == datetime(2024, 1, 1, tzinfo=UTC)
    assert to_datetime(local).tzinfo is UTC


def test_timestamp_comparisons_bind_seconds(database_path, factory):
    from legato.storage import database

    batch, run = factory.flow_run_batch(task_runs=0)
    connection = sqlite.open_database(database_path)
    writes.write_batch(connection, batch)
    connection.close()
    engine = database.create_engine(database.sqlite_url(database_path))
    try:
        with engine.connect() as conn:
            created = schema.flow_runs.c.created
            at = datetime.fromtimestamp(run.created, UTC)
            half = timedelta(seconds=0.5)
            assert conn.execute(sa.select(sa.func.count()).where(created > at - half)).scalar() == 1
            assert conn.execute(sa.select(sa.func.count()).where(created > at + half)).scalar() == 0
    finally:
        engine.dispose()
