"""A run created ahead of time (scheduled, placed in a pool) and then recorded by the
engine keeps what orchestration set: its deployment, pool, queue, idempotency key,
job variables, infrastructure pid, ``auto_scheduled`` and expected start time.

The engine records runs with upserts of the recorder's fields only
(``storage.records.FLOW_RUN_FIELDS``); these tests write such snapshots of an
existing run through every write path: the stdlib ``sqlite3`` path, the
SQLAlchemy path on SQLite and PostgreSQL, a real ``Recorder`` on the embedded
client, and ``/api/records/batch`` on both servers.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid

import pytest

from legato.client.schemas.actions import (
    FlowRunCreate,
    FlowRunUpdate,
    StateCreate,
    WorkPoolCreate,
)
from legato.client.schemas.objects import StateDetails
from legato.engine.recorder import Recorder
from legato.engine.runs import FlowRun as EngineFlowRun
from legato.orchestration import flow_runs, flows, work_pools
from legato.states import Completed, Running, Scheduled, StateType
from legato.storage import batches, writes
from legato.storage.engine import sqlite_url
from legato.storage.records import FLOW_RUN_FIELDS, RecordBatch

SCHEDULED_AT = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
DEPLOYMENT_ID = "4f7c2a8e-1b6d-4c1e-9a2f-3d5e6f708192"
KEPT = {
    "deployment_id": DEPLOYMENT_ID,
    "deployment_version": "v7",
    "work_pool_name": "pool",
    "work_queue_name": "nightly",
    "idempotency_key": "scheduled-2030-01-01",
    "job_variables": {"env": {"MODE": "prod"}},
    "infrastructure_pid": "host-1:4242",
    "auto_scheduled": True,
    "expected_start_time": SCHEDULED_AT,
}


def _create_scheduled_run(connection) -> dict:
    work_pools.create_work_pool(connection, WorkPoolCreate(name="pool"))
    flow, _ = flows.get_or_create_flow(connection, "deployed-flow")
    body = FlowRunCreate(
        flow_id=flow["id"],
        name="adopted",
        deployment_id=DEPLOYMENT_ID,
        work_pool_name="pool",
        work_queue_name="nightly",
        idempotency_key="scheduled-2030-01-01",
        job_variables={"env": {"MODE": "prod"}},
        state=StateCreate(
            type=StateType.SCHEDULED, state_details=StateDetails(scheduled_time=SCHEDULED_AT)
        ),
    )
    run = flow_runs.create_flow_run(connection, body, deployment_version="v7", auto_scheduled=True)
    flow_runs.update_flow_run(
        connection, run["id"], FlowRunUpdate(infrastructure_pid="host-1:4242")
    )
    return run


def _engine_snapshot(run: dict, state_type: str, at: float) -> tuple:
    """The row the recorder writes for this run: its own expected start (its creation)."""
    values = dict.fromkeys(FLOW_RUN_FIELDS)
    values.update(
        id=run["id"],
        flow_id=run["flow_id"],
        name="adopted",
        parameters="{}",
        tags="[]",
        run_count=1,
        state_type=state_type,
        state_name=state_type.capitalize(),
        state_timestamp=at,
        expected_start_time=at,  # the engine's own value: must not replace the scheduled one
        start_time=at,
        end_time=at if state_type == "COMPLETED" else None,
        total_run_time=0.5,
        created=at,
        updated=at,
    )
    return tuple(values[name] for name in FLOW_RUN_FIELDS)


def _assert_kept(row, state_type: str) -> None:
    assert row["state_type"] == state_type  # the engine's snapshot did land
    assert {key: row[key] for key in KEPT} == KEPT
    assert row["work_queue_id"] is not None


def test_recording_through_sqlalchemy_keeps_orchestration_columns(store):
    run = store.write(_create_scheduled_run)
    now = time.time()

    # Two snapshots in one batch (merged on PostgreSQL), then one more batch
    batch = RecordBatch(
        flow_runs=[_engine_snapshot(run, "RUNNING", now), _engine_snapshot(run, "RUNNING", now + 1)]
    )
    store.write(lambda c: batches.write_batch(c, batch))
    final = RecordBatch(flow_runs=[_engine_snapshot(run, "COMPLETED", now + 2)])
    store.write(lambda c: batches.write_batch(c, final))

    _assert_kept(store.read(lambda c: flow_runs.read_flow_run(c, run["id"])), "COMPLETED")


def test_recording_through_stdlib_sqlite_keeps_orchestration_columns(store, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the stdlib write path is SQLite's")
    run = store.write(_create_scheduled_run)
    path = db_url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        writes.write_batch(
            connection, RecordBatch(flow_runs=[_engine_snapshot(run, "COMPLETED", time.time())])
        )
    finally:
        connection.close()

    _assert_kept(store.read(lambda c: flow_runs.read_flow_run(c, run["id"])), "COMPLETED")


def test_a_recorder_adopting_the_run_keeps_orchestration_columns(tmp_path):
    """The engine's own path: a real Recorder writing an engine FlowRun with the run's id."""
    from legato.client.embedded import EmbeddedClient
    from legato.orchestration.store import Store

    path = tmp_path / "store" / "legato.db"
    client = EmbeddedClient(path)
    store = Store(sqlite_url(path))
    try:
        run = store.write(_create_scheduled_run)
        engine_run = EngineFlowRun(
            "adopted", uuid.UUID(run["flow_id"]), "deployed-flow", Running(), [], {}
        )
        engine_run.id = uuid.UUID(run["id"])
        recorder = Recorder(client, flush_interval_seconds=1000, max_batch_size=100_000)
        recorder.flow_state(engine_run)
        engine_run.state = Completed()
        recorder.flow_state(engine_run)
        recorder.flush()
        read = client.read_flow_run(run["id"])
        recorder.close()  # (closes the client too)
    finally:
        store.close()
        client.close()

    _assert_kept(read, "COMPLETED")
    assert [state.type for state in _states(path, run["id"])][-2:] == [
        StateType.RUNNING,
        StateType.COMPLETED,
    ]


def _states(path, run_id):
    from legato.client.embedded import EmbeddedClient

    with EmbeddedClient(path) as client:
        return client.read_flow_run_states(run_id)


def test_recording_through_the_server_keeps_orchestration_columns(client, server, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    run = client.create_flow_run(
        flow,
        state=Scheduled(scheduled_time=SCHEDULED_AT),
        work_pool_name=pool,
        work_queue_name="nightly",
        job_variables={"env": {"MODE": "prod"}},
        idempotency_key="scheduled-2030-01-01",
    )
    client.update_flow_run(run.id, infrastructure_pid="host-1:4242")
    as_row = {"id": str(run.id), "flow_id": str(run.flow_id)}

    client.record(RecordBatch(flow_runs=[_engine_snapshot(as_row, "COMPLETED", time.time())]))

    read = client.read_flow_run(run.id)
    assert read.state_type is StateType.COMPLETED
    assert (read.work_pool_name, read.work_queue_name, read.work_queue_id) == (
        pool,
        "nightly",
        run.work_queue_id,
    )
    assert (read.idempotency_key, read.job_variables, read.infrastructure_pid) == (
        "scheduled-2030-01-01",
        {"env": {"MODE": "prod"}},
        "host-1:4242",
    )
    assert read.expected_start_time == SCHEDULED_AT
