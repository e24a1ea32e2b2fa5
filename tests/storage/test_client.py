"""EmbeddedClient: reads with filters and paging, deletes, lifecycle."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from legato.client import Client, EmbeddedClient, get_client
from legato.exceptions import ObjectNotFound, StorageError
from legato.storage.records import FLOW_RUN_FIELDS, FLOW_RUN_ORCHESTRATION_FIELDS, RecordBatch


def test_embedded_client_is_a_client(client):
    assert isinstance(client, Client)


def test_flow_runs_come_back_decoded_with_flow_name(client, factory):
    batch, run = factory.flow_run_batch()
    client.record(batch)

    row = client.read_flow_run(run.id)

    assert row["flow_name"] == "etl"
    assert row["parameters"] == {"x": 1}
    assert row["tags"] == ["nightly"]
    assert row["created"] == datetime.fromtimestamp(run.created, UTC)
    assert row["created"].tzinfo is UTC
    assert row["updated"] == datetime.fromtimestamp(run.updated, UTC)
    assert row["end_time"] is None
    assert set(row) == {*FLOW_RUN_FIELDS, *FLOW_RUN_ORCHESTRATION_FIELDS, "flow_name"}
    assert (row["job_variables"], row["auto_scheduled"], row["work_pool_name"]) == ({}, False, None)


def test_read_flow_runs_filters_and_pages_newest_first(client, factory):
    etl, report = factory.flow("etl"), factory.flow("report")
    runs = [
        factory.flow_run(etl, state_type="COMPLETED", state_name="Completed"),
        factory.flow_run(report, state_type="FAILED", state_name="Failed"),
        factory.flow_run(etl, state_type="COMPLETED", state_name="Cached"),
    ]
    child = factory.flow_run(etl, parent_flow_run_id=runs[0].id)
    client.record(RecordBatch(flows=[etl, report], flow_runs=[*runs, child]))

    def ids(rows: list[dict[str, object]]) -> list[object]:
        return [row["id"] for row in rows]

    assert ids(client.read_flow_runs()) == [
        child.id,
        runs[2].id,
        runs[1].id,
        runs[0].id,
    ]
    assert ids(client.read_flow_runs(flow_name="report")) == [runs[1].id]
    assert ids(client.read_flow_runs(state_types=["COMPLETED"])) == [runs[2].id, runs[0].id]
    assert ids(client.read_flow_runs(state_names=["Cached"])) == [runs[2].id]
    assert ids(client.read_flow_runs(parent_flow_run_id=runs[0].id)) == [child.id]
    assert ids(client.read_flow_runs(limit=2, offset=1)) == [runs[2].id, runs[1].id]
    assert client.read_flow_runs(state_types=[]) == []
    assert client.count_flow_runs() == 4
    assert client.count_flow_runs(flow_name="etl", state_types=["COMPLETED"]) == 2


def test_read_flows_by_substring_newest_first(client, factory):
    client.record(RecordBatch(flows=[factory.flow("etl-daily")]))
    client.record(RecordBatch(flows=[factory.flow("etl-weekly"), factory.flow("100%_report")]))

    assert [row["name"] for row in client.read_flows(name="etl")][-1] == "etl-daily"
    assert {row["name"] for row in client.read_flows(name="etl")} == {"etl-daily", "etl-weekly"}
    assert [row["name"] for row in client.read_flows(name="%_")] == ["100%_report"]
    assert len(client.read_flows(limit=1)) == 1


def test_read_task_runs_filters(client, factory):
    batch, run = factory.flow_run_batch(task_runs=3)
    batch.task_runs[0] = batch.task_runs[0]._replace(state_type="FAILED")
    batch.task_runs[1] = batch.task_runs[1]._replace(name="load-1")
    loose = factory.task_run(None, name="load-2")
    batch.task_runs.append(loose)
    client.record(batch)

    assert len(client.read_task_runs(flow_run_id=run.id)) == 3
    assert [row["name"] for row in client.read_task_runs(name="load")] == ["load-2", "load-1"]
    assert [row["id"] for row in client.read_task_runs(state_types=["FAILED"])] == [
        batch.task_runs[0].id
    ]
    assert [row["id"] for row in client.read_task_runs(limit=1)] == [loose.id]
    assert client.read_task_run(loose.id)["task_inputs"] == {}
    with pytest.raises(ObjectNotFound, match="task run"):
        client.read_task_run("00000000-0000-0000-0000-000000000000")


def test_read_states_oldest_first(client, factory):
    run = factory.flow_run()
    states = [factory.state(run.id, type_=t) for t in ("PENDING", "RUNNING", "COMPLETED")]
    client.record(RecordBatch(flow_runs=[run], states=list(reversed(states))))

    assert [row["type"] for row in client.read_states(flow_run_id=run.id)] == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
    ]
    assert client.read_states(task_run_id=run.id) == []
    with pytest.raises(ValueError, match="flow_run_id or a task_run_id"):
        client.read_states()


def test_read_logs_follows_with_after_and_limit(client, factory):
    run = factory.flow_run()
    logs = [factory.log(run.id, message=f"line {i}") for i in range(5)]
    client.record(RecordBatch(flow_runs=[run], logs=logs + [factory.log(None, message="other")]))

    assert [row["message"] for row in client.read_logs(flow_run_id=run.id, limit=2)] == [
        "line 0",
        "line 1",
    ]
    tail = client.read_logs(flow_run_id=run.id, after=logs[2][6])
    assert [row["message"] for row in tail] == ["line 3", "line 4"]
    assert tail[0]["level"] == 20
    assert len(client.read_logs()) == 6


def test_ids_are_matched_case_insensitively(client, factory):
    batch, run = factory.flow_run_batch()
    client.record(batch)
    assert client.read_flow_run(run.id.upper())["id"] == run.id


def test_delete_flow_run_cascades_to_its_task_runs_states_and_logs(client, factory):
    doomed_batch, doomed = factory.flow_run_batch(task_runs=2)
    kept_batch, kept = factory.flow_run_batch(task_runs=1)
    client.record(doomed_batch)
    client.record(kept_batch)

    client.delete_flow_run(doomed.id)

    assert [row["id"] for row in client.read_flow_runs()] == [kept.id]
    assert client.read_task_runs(flow_run_id=doomed.id) == []
    assert len(client.read_task_runs()) == 1
    assert client.read_states(flow_run_id=doomed.id) == []
    for task_run in doomed_batch.task_runs:
        assert client.read_states(task_run_id=task_run.id) == []
        assert client.read_logs(task_run_id=task_run.id) == []
    assert len(client.read_logs()) == 2
    with pytest.raises(ObjectNotFound, match=doomed.id):
        client.delete_flow_run(doomed.id)
    with pytest.raises(ObjectNotFound):
        client.read_flow_run(doomed.id)


def test_negative_paging_is_refused(client):
    with pytest.raises(ValueError, match="limit and offset"):
        client.read_flow_runs(limit=-1)


def test_threads_share_one_client(client, factory):
    batches = [factory.flow_run_batch(task_runs=5)[0] for _ in range(40)]
    errors: list[BaseException] = []

    def write(chunk):
        try:
            for batch in chunk:
                client.record(batch)
                client.read_flow_runs(limit=1)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(batches[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert client.count_flow_runs() == 40
    assert len(client.read_task_runs(limit=1000)) == 200


def test_closed_client_refuses_work_and_close_is_idempotent(database_path, factory):
    client = EmbeddedClient(database_path)
    client.read_flows()
    client.close()
    client.close()
    with pytest.raises(StorageError, match="closed"):
        client.record(factory.flow_run_batch()[0])
    with pytest.raises(StorageError, match="closed"):
        client.read_flows()


def test_get_client_uses_the_settings_database(tmp_path, factory):
    from legato.settings import temporary_settings

    with (
        temporary_settings(LEGATO_HOME=str(tmp_path / "elsewhere")),
        get_client(sync_client=True) as client,
    ):
        assert client.database_path == tmp_path / "elsewhere" / "legato.db"
        client.record(factory.flow_run_batch()[0])
        assert client.count_flow_runs() == 1
    from legato.client.async_embedded import AsyncEmbeddedClient

    assert isinstance(get_client(), AsyncEmbeddedClient)
