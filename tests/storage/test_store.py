"""The store contract, on a SQLite file and on a PostgreSQL database alike.

Every test here runs twice (``db_url``): batches written with
``batches.write_batch`` in a SQLAlchemy transaction, read back with
``storage.queries``, deleted with ``batches.delete_flow_run``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from legato.storage import batches, queries
from legato.storage.queries import blocks
from legato.storage.records import FLOW_RUN_FIELDS, TASK_RUN_FIELDS, RecordBatch


def write(store, batch: RecordBatch) -> None:
    with store.begin() as connection:
        batches.write_batch(connection, batch)


def read(store, query, *args, **kwargs):
    with store.connect() as connection:
        return query(connection, *args, **kwargs)


def count(store, table: str) -> int:
    with store.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def counts(store) -> list[int]:
    return [count(store, t) for t in ("flows", "flow_runs", "task_runs", "states", "logs")]


def ids(rows) -> list[str]:
    return [row["id"] for row in rows]


# -- writes -------------------------------------------------------------------


def test_a_batch_reads_back_exactly(store, factory):
    batch, run = factory.flow_run_batch(task_runs=3)

    write(store, batch)

    assert counts(store) == [1, 1, 3, 4, 4]
    row = read(store, queries.read_flow_run, run.id)
    assert {name: row[name] for name in FLOW_RUN_FIELDS} == {
        **run._asdict(),
        "parameters": {"x": 1},
        "tags": ["nightly"],
        **{
            name: datetime.fromtimestamp(getattr(run, name), UTC)
            for name in ("state_timestamp", "expected_start_time", "start_time", "created")
        },
        "updated": datetime.fromtimestamp(run.updated, UTC),
    }
    assert row["flow_name"] == "etl"
    assert row["created"].tzinfo is UTC
    task_run = batch.task_runs[0]
    stored = read(store, queries.read_task_run, task_run.id)
    assert {name: stored[name] for name in TASK_RUN_FIELDS} == {
        **task_run._asdict(),
        "tags": [],
        "task_inputs": {},
        **{
            name: datetime.fromtimestamp(getattr(task_run, name), UTC)
            for name in (
                "state_timestamp",
                "expected_start_time",
                "start_time",
                "end_time",
                "created",
                "updated",
            )
        },
    }


def test_timestamps_keep_every_microsecond(store, factory):
    # Seconds whose fraction rounds differently depending on how it is computed
    stamps = [1_700_000_000.0000005, 1_700_000_000.9999995, 1_234_567_890.1234565, 0.5, 86_400.25]
    run = factory.flow_run()
    states = [factory.state(run.id) for _ in stamps]
    states = [(*state[:6], stamp, None) for state, stamp in zip(states, stamps, strict=True)]

    write(store, RecordBatch(flow_runs=[run], states=states))

    read_back = [row["timestamp"] for row in read(store, queries.read_states, flow_run_id=run.id)]
    assert read_back == sorted(datetime.fromtimestamp(stamp, UTC) for stamp in stamps)


def test_latest_snapshot_of_a_run_wins_and_created_is_kept(store, factory):
    run = factory.flow_run()
    write(store, RecordBatch(flows=[factory.flow()], flow_runs=[run]))

    # When the same run is written again, later, with a new state and a new created
    finished = run._replace(
        state_type="COMPLETED",
        state_name="Completed",
        end_time=factory.now(),
        created=factory.now(),
        updated=factory.now(),
    )
    write(store, RecordBatch(flow_runs=[finished]))

    row = read(store, queries.read_flow_run, run.id)
    assert (row["state_type"], row["end_time"], row["created"], row["updated"]) == (
        "COMPLETED",
        datetime.fromtimestamp(finished.end_time, UTC),
        datetime.fromtimestamp(run.created, UTC),
        datetime.fromtimestamp(finished.updated, UTC),
    )


def test_last_snapshot_within_one_batch_wins_and_the_first_created_is_kept(store, factory):
    task_run = factory.task_run(None, state_type="RUNNING")
    done = task_run._replace(state_type="COMPLETED", run_count=2, created=factory.now())
    again = done._replace(state_name="Cached")

    write(store, RecordBatch(task_runs=[task_run, done, again]))

    [row] = read(store, queries.read_task_runs)
    assert (row["state_type"], row["state_name"], row["run_count"]) == ("COMPLETED", "Cached", 2)
    assert row["created"] == datetime.fromtimestamp(task_run.created, UTC)


def test_many_rows_and_repeated_snapshots_in_one_batch(store, factory):
    flow_run = factory.flow_run()
    task_runs = [factory.task_run(flow_run.id, dynamic_key=str(i)) for i in range(700)]

    def failed(runs):
        return [run._replace(state_type="FAILED", run_count=2) for run in runs]

    rows = task_runs[:30] + failed(task_runs[:10]) + task_runs[30:] + failed(task_runs[250:260])
    states = [factory.state(task_run_id=run.id) for run in task_runs]
    write(store, RecordBatch(flow_runs=[flow_run], task_runs=rows, states=states))

    assert count(store, "task_runs") == 700
    assert count(store, "states") == 700
    failed_rows = read(store, queries.read_task_runs, state_types=["FAILED"], limit=1000)
    assert sorted(int(row["dynamic_key"]) for row in failed_rows) == [
        *range(10),
        *range(250, 260),
    ]
    assert {row["run_count"] for row in failed_rows} == {2}


def test_a_batch_is_a_few_statements_whatever_its_size(store, factory):
    batch, _ = factory.flow_run_batch(task_runs=2000)  # five tables, 8,002 rows
    executed: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        executed.append(statement)

    sa.event.listen(store, "before_cursor_execute", record)
    try:
        write(store, batch)
    finally:
        sa.event.remove(store, "before_cursor_execute", record)

    # PostgreSQL: one INSERT ... SELECT FROM unnest per table; SQLite: one
    # executemany of 256-row INSERTs per table, and one for the rows left over
    inserts = [sql for sql in executed if sql.startswith("INSERT")]
    assert len(inserts) == (5 if store.dialect.name == "postgresql" else 8)
    assert counts(store) == [1, 1, 2000, 2001, 2001]


def test_a_repeated_batch_changes_nothing(store, factory):
    batch, _ = factory.flow_run_batch(task_runs=2)
    write(store, batch)
    second, _ = factory.flow_run_batch(task_runs=1)
    write(store, second)

    # When the first batch is written again (a retry after an ambiguous failure)
    write(store, batch)
    # and a batch repeats a state and a log within itself
    third, _ = factory.flow_run_batch(task_runs=1)
    third.states.append(third.states[0])
    third.logs.append(third.logs[0])
    write(store, third)

    assert counts(store) == [1, 3, 4, 3 + 2 + 2, 3 + 2 + 2]


def test_rows_may_arrive_in_any_order_across_batches(store, factory):
    flow_run = factory.flow_run()
    task_run = factory.task_run(flow_run.id)
    subflow_run = factory.flow_run(parent_flow_run_id=flow_run.id, parent_task_run_id=task_run.id)

    # The task run and the subflow are written before their parents exist
    write(store, RecordBatch(flow_runs=[subflow_run], task_runs=[task_run]))
    assert read(store, queries.read_flow_run, subflow_run.id)["flow_name"] is None
    write(store, RecordBatch(flows=[factory.flow()], flow_runs=[flow_run]))

    assert ids(read(store, queries.read_flow_runs, parent_flow_run_id=flow_run.id)) == [
        subflow_run.id
    ]
    assert read(store, queries.read_flow_run, subflow_run.id)["flow_name"] == "etl"


def test_task_run_outside_any_flow_run(store, factory):
    task_run = factory.task_run(None)
    write(
        store,
        RecordBatch(task_runs=[task_run], states=[factory.state(task_run_id=task_run.id)]),
    )
    assert read(store, queries.read_task_run, task_run.id)["flow_run_id"] is None
    assert len(read(store, queries.read_states, task_run_id=task_run.id)) == 1


def test_numbers_of_either_kind_are_accepted(store, factory):
    # The recorder gives floats, but 0 for 0.0 (or 2.0 for 2) must not fail a batch
    run = factory.flow_run(total_run_time=0, run_count=1)
    task_run = factory.task_run(run.id, total_run_time=1.5)
    other = factory.task_run(run.id, total_run_time=2, start_time=int(factory.now()))

    write(store, RecordBatch(flow_runs=[run], task_runs=[task_run, other]))

    assert read(store, queries.read_flow_run, run.id)["total_run_time"] == 0.0
    assert {row["total_run_time"] for row in read(store, queries.read_task_runs)} == {1.5, 2.0}


def test_a_failing_batch_is_rolled_back_whole(store, factory):
    batch, _ = factory.flow_run_batch(task_runs=2)
    batch.logs.append((factory.log()[0], None, None, "x", 20, None, 1.0))  # message NOT NULL

    with pytest.raises(sa.exc.IntegrityError):
        write(store, batch)

    assert counts(store) == [0, 0, 0, 0, 0]


def test_a_row_with_the_wrong_number_of_values_fails_before_writing(store, factory):
    batch, _ = factory.flow_run_batch(task_runs=300)
    batch.task_runs[3] = tuple(batch.task_runs[3])[:-1]
    batch.task_runs[4] = (*batch.task_runs[4], None)

    with pytest.raises(ValueError, match="task_runs row does not have 20 values"):
        write(store, batch)
    assert counts(store) == [0, 0, 0, 0, 0]


def test_an_empty_batch_writes_nothing(store):
    write(store, RecordBatch())
    assert counts(store) == [0, 0, 0, 0, 0]


def test_the_callers_transaction_decides(store, factory):
    batch, run = factory.flow_run_batch(task_runs=1)
    with store.connect() as connection:
        batches.write_batch(connection, batch)
        connection.rollback()
    assert counts(store) == [0, 0, 0, 0, 0]

    with store.connect() as connection:
        batches.write_batch(connection, batch)
        assert queries.read_flow_run(connection, run.id) is not None  # seen inside
        connection.commit()
    assert counts(store) == [1, 1, 1, 2, 2]


# -- reads --------------------------------------------------------------------


def test_read_flow_runs_filters_and_pages_newest_first(store, factory):
    etl, report = factory.flow("etl"), factory.flow("report")
    runs = [
        factory.flow_run(etl, state_type="COMPLETED", state_name="Completed"),
        factory.flow_run(report, state_type="FAILED", state_name="Failed"),
        factory.flow_run(etl, state_type="COMPLETED", state_name="Cached"),
    ]
    child = factory.flow_run(etl, parent_flow_run_id=runs[0].id)
    write(store, RecordBatch(flows=[etl, report], flow_runs=[*runs, child]))

    def flow_runs(**filters):
        return ids(read(store, queries.read_flow_runs, **filters))

    assert flow_runs() == [child.id, runs[2].id, runs[1].id, runs[0].id]
    assert flow_runs(flow_name="report") == [runs[1].id]
    assert flow_runs(flow_name="REPORT") == []  # names match exactly
    assert flow_runs(state_types=["COMPLETED"]) == [runs[2].id, runs[0].id]
    assert flow_runs(state_names=["Cached"]) == [runs[2].id]
    assert flow_runs(parent_flow_run_id=runs[0].id) == [child.id]
    assert flow_runs(parent_flow_run_id=runs[0].id.upper()) == [child.id]
    assert flow_runs(limit=2, offset=1) == [runs[2].id, runs[1].id]
    assert flow_runs(state_types=[]) == []
    assert read(store, queries.count_flow_runs) == 4
    assert read(store, queries.count_flow_runs, flow_name="etl", state_types=["COMPLETED"]) == 2
    with pytest.raises(ValueError, match="limit and offset"):
        read(store, queries.read_flow_runs, offset=-1)


def test_ties_in_time_are_ordered_by_id(store, factory):
    same = factory.now()
    runs = [factory.flow_run(created=same) for _ in range(5)]
    write(store, RecordBatch(flow_runs=runs))

    assert ids(read(store, queries.read_flow_runs)) == sorted(
        (run.id for run in runs), reverse=True
    )


def test_read_flows_by_substring_ignoring_case_with_wildcards_escaped(store, factory):
    write(store, RecordBatch(flows=[factory.flow("etl-daily")]))
    write(store, RecordBatch(flows=[factory.flow("ETL-weekly"), factory.flow("100%_report")]))

    def names(**filters):
        return [row["name"] for row in read(store, queries.read_flows, **filters)]

    assert set(names(name="etl")) == {"etl-daily", "ETL-weekly"}
    assert set(names(name="Etl-")) == {"etl-daily", "ETL-weekly"}
    assert names(name="%_") == ["100%_report"]
    assert names(name="0_r") == []  # "_" is no wildcard
    assert names(name="y\\") == []
    assert len(names(limit=1)) == 1


def test_read_task_runs_filters(store, factory):
    batch, run = factory.flow_run_batch(task_runs=3)
    batch.task_runs[0] = batch.task_runs[0]._replace(state_type="FAILED")
    batch.task_runs[1] = batch.task_runs[1]._replace(name="load-1")
    loose = factory.task_run(None, name="Load-2", task_inputs='{"x": [{"input_type": "t"}]}')
    batch.task_runs.append(loose)
    write(store, batch)

    def task_runs(**filters):
        return read(store, queries.read_task_runs, **filters)

    assert len(task_runs(flow_run_id=run.id)) == 3
    assert [row["name"] for row in task_runs(name="load")] == ["Load-2", "load-1"]
    assert ids(task_runs(state_types=["FAILED"])) == [batch.task_runs[0].id]
    assert ids(task_runs(limit=1)) == [loose.id]
    assert read(store, queries.read_task_run, loose.id)["task_inputs"] == {
        "x": [{"input_type": "t"}]
    }


def test_read_states_oldest_first(store, factory):
    run = factory.flow_run()
    states = [factory.state(run.id, type_=t) for t in ("PENDING", "RUNNING", "COMPLETED")]
    data = '{"storage_key": "k", "serializer": "pickle"}'
    states[2] = (*states[2][:7], data)
    write(store, RecordBatch(flow_runs=[run], states=list(reversed(states))))

    rows = read(store, queries.read_states, flow_run_id=run.id)
    assert [row["type"] for row in rows] == ["PENDING", "RUNNING", "COMPLETED"]
    assert [row["data"] for row in rows] == [
        None,
        None,
        {"storage_key": "k", "serializer": "pickle"},
    ]
    assert read(store, queries.read_states, task_run_id=run.id) == []
    with pytest.raises(ValueError, match="flow_run_id or a task_run_id"):
        read(store, queries.read_states)


def test_read_logs_follows_with_after_and_limit(store, factory):
    run = factory.flow_run()
    logs = [factory.log(run.id, message=f"line {i}") for i in range(5)]
    write(store, RecordBatch(flow_runs=[run], logs=logs + [factory.log(None, message="other")]))

    def messages(**filters):
        return [row["message"] for row in read(store, queries.read_logs, **filters)]

    assert messages(flow_run_id=run.id, limit=2) == ["line 0", "line 1"]
    assert messages(flow_run_id=run.id, after=logs[2][6]) == ["line 3", "line 4"]
    after = datetime.fromtimestamp(logs[3][6], UTC)
    assert messages(flow_run_id=run.id, after=after) == ["line 4"]
    assert read(store, queries.read_logs, flow_run_id=run.id)[0]["level"] == 20
    assert len(messages()) == 6


@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "", "'; DROP TABLE flow_runs; --", "1234", "g" * 36]
)
def test_an_id_that_is_no_uuid_is_simply_not_found(store, factory, bad_id):
    batch, run = factory.flow_run_batch(task_runs=1)
    write(store, batch)

    assert read(store, queries.read_flow_run, bad_id) is None
    assert read(store, queries.read_task_run, bad_id) is None
    assert read(store, queries.read_flow_runs, parent_flow_run_id=bad_id) == []
    assert read(store, queries.read_task_runs, flow_run_id=bad_id) == []
    assert read(store, queries.read_states, flow_run_id=bad_id) == []
    assert read(store, queries.read_logs, task_run_id=bad_id) == []
    with store.begin() as connection:
        assert batches.delete_flow_run(connection, bad_id) is False
    assert counts(store) == [1, 1, 1, 2, 2]


def test_ids_match_in_any_spelling(store, factory):
    batch, run = factory.flow_run_batch()
    write(store, batch)

    for spelling in (run.id.upper(), "{" + run.id + "}", run.id.replace("-", "")):
        assert read(store, queries.read_flow_run, spelling)["id"] == run.id


# -- deletes ------------------------------------------------------------------


def test_delete_flow_run_cascades_to_its_task_runs_states_and_logs(store, factory):
    doomed_batch, doomed = factory.flow_run_batch(task_runs=2)
    kept_batch, kept = factory.flow_run_batch(task_runs=1)
    write(store, doomed_batch)
    write(store, kept_batch)

    with store.begin() as connection:
        assert batches.delete_flow_run(connection, doomed.id.upper()) is True

    assert ids(read(store, queries.read_flow_runs)) == [kept.id]
    assert read(store, queries.read_task_runs, flow_run_id=doomed.id) == []
    assert read(store, queries.read_states, flow_run_id=doomed.id) == []
    for task_run in doomed_batch.task_runs:
        assert read(store, queries.read_states, task_run_id=task_run.id) == []
        assert read(store, queries.read_logs, task_run_id=task_run.id) == []
    assert counts(store) == [1, 1, 1, 2, 2]
    with store.begin() as connection:
        assert batches.delete_flow_run(connection, doomed.id) is False


def test_a_delete_rolled_back_deletes_nothing(store, factory):
    batch, run = factory.flow_run_batch(task_runs=2)
    write(store, batch)

    with store.connect() as connection:
        assert batches.delete_flow_run(connection, run.id)
        connection.rollback()

    assert counts(store) == [1, 1, 2, 3, 3]


# -- saved blocks ---------------------------------------------------------------


def test_block_documents_save_read_replace_delete(store):
    data = {"basepath": "/tmp/results", "nested": {"n": [1, 2.5, None, True]}}

    with store.begin() as connection:
        assert blocks.save_block_document(
            connection, "local-file-system", "a", data, overwrite=False
        )
        assert not blocks.save_block_document(
            connection, "local-file-system", "a", {}, overwrite=False
        )
        assert blocks.save_block_document(connection, "local-file-system", "b", {}, overwrite=False)
    row = read(store, blocks.read_block_document, "local-file-system", "a")
    assert row["data"] == data
    assert row["created"].tzinfo is UTC

    with store.begin() as connection:
        assert blocks.save_block_document(
            connection, "local-file-system", "a", {"x": 1}, overwrite=True
        )
    assert read(store, blocks.read_block_document, "local-file-system", "a")["data"] == {"x": 1}
    assert [row["name"] for row in read(store, blocks.read_block_documents)] == ["a", "b"]

    with store.begin() as connection:
        assert blocks.delete_block_document(connection, "local-file-system", "a")
        assert not blocks.delete_block_document(connection, "local-file-system", "a")
    assert read(store, blocks.read_block_document, "local-file-system", "a") is None


def test_text_sorts_by_code_point_on_both(store):
    # PostgreSQL's default collation is linguistic here (ICU, like most servers)
    names = ["b", "B", "a", "_x", "A", "10", "9", "é"]
    with store.begin() as connection:
        for name in names:
            blocks.save_block_document(connection, "json", name, {}, overwrite=False)

    rows = read(store, blocks.read_block_documents)

    assert [row["name"] for row in rows] == sorted(names)
