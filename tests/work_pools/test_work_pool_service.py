"""The orchestration service of work pools on SQLite and PostgreSQL, with an injected clock.

Statuses are computed when read, from heartbeats and polls: these tests pass
``now`` explicitly instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from legato.client.schemas._work_pools import validate_base_job_template, validate_name
from legato.client.schemas.actions import (
    FlowRunCreate,
    StateCreate,
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueueUpdate,
)
from legato.client.schemas.filters import WorkerFilter, WorkerFilterLastHeartbeatTime
from legato.client.schemas.objects import StateDetails
from legato.exceptions import ObjectNotFound, ParameterError, StorageError
from legato.orchestration import (
    flow_runs,
    flows,
    work_pool_runs,
    work_pools,
    work_queues,
    workers,
)
from legato.states import StateType
from legato.storage.schema import flow_runs as flow_runs_table
from legato.storage.schema import work_pools as work_pools_table
from legato.storage.schema import work_queues as work_queues_table
from legato.storage.schema import workers as workers_table

T0 = 1_900_000_000.0  # an injected "now" (2030-03-17)


def _pool(store, name="pool", **fields):
    return store.write(
        lambda c: work_pools.create_work_pool(c, WorkPoolCreate(name=name, **fields), now=T0)
    )


def _heartbeat(store, pool, worker, at, interval=None):
    return store.write(lambda c: workers.send_worker_heartbeat(c, pool, worker, interval, now=at))


def _status(store, pool, at):
    return store.read(lambda c: work_pools.require_work_pool(c, pool, now=at))["status"]


def _scheduled_run(store, pool, queue=None, at=T0, key=None):
    def work(connection):
        flow, _ = flows.get_or_create_flow(connection, "service-flow")
        state = StateCreate(
            type=StateType.SCHEDULED,
            state_details=StateDetails(scheduled_time=dt.datetime.fromtimestamp(at, dt.UTC)),
        )
        body = FlowRunCreate(
            flow_id=flow["id"],
            state=state,
            work_pool_name=pool,
            work_queue_name=queue,
            idempotency_key=key,
        )
        return flow_runs.create_flow_run(connection, body)

    return store.write(work)


def test_a_worker_is_online_for_three_intervals_and_keeps_its_pool_ready(store):
    _pool(store)
    assert _status(store, "pool", T0) == "NOT_READY"

    _heartbeat(store, "pool", "w", T0, interval=10)

    def worker_at(at):
        return store.read(lambda c: workers.filter_workers(c, "pool", now=at))[0]["status"]

    assert (worker_at(T0 + 29.9), _status(store, "pool", T0 + 29.9)) == ("ONLINE", "READY")
    assert (worker_at(T0 + 30.1), _status(store, "pool", T0 + 30.1)) == ("OFFLINE", "NOT_READY")
    # Without an interval of its own, a worker has the default one (30 s): 90 s
    _heartbeat(store, "pool", "quiet", T0)
    assert _status(store, "pool", T0 + 89.9) == "READY"
    assert _status(store, "pool", T0 + 90.1) == "NOT_READY"
    # A paused pool is PAUSED whatever its workers do
    store.write(lambda c: work_pools.update_work_pool(c, "pool", WorkPoolUpdate(is_paused=True)))
    assert _status(store, "pool", T0 + 1) == "PAUSED"


def test_workers_filter_by_heartbeat_time_and_status(store):
    _pool(store)
    _heartbeat(store, "pool", "old", T0, interval=5)
    _heartbeat(store, "pool", "new", T0 + 100, interval=5)

    def names(worker_filter, at=T0 + 101):
        rows = store.read(lambda c: workers.filter_workers(c, "pool", worker_filter, now=at))
        return [row["name"] for row in rows]

    after = dt.datetime.fromtimestamp(T0 + 50, dt.UTC)
    assert names(None) == ["new", "old"]
    assert names(WorkerFilter(last_heartbeat_time=WorkerFilterLastHeartbeatTime(after_=after))) == [
        "new"
    ]
    online = WorkerFilter.model_validate({"status": {"any_": ["ONLINE"]}})
    not_online = WorkerFilter.model_validate({"status": {"not_any_": ["ONLINE"]}})
    assert (names(online), names(not_online)) == (["new"], ["old"])
    assert names(WorkerFilter.model_validate({"status": {"any_": []}})) == []


def test_a_poll_keeps_the_queue_and_the_pool_ready(store):
    _pool(store)

    store.write(lambda c: work_pool_runs.get_scheduled_flow_runs(c, "pool", now=T0))

    def queue_status(at):
        return store.read(
            lambda c: work_queues.read_work_queue_by_name(c, "default", "pool", now=at)
        )["status"]

    assert (queue_status(T0 + 89), _status(store, "pool", T0 + 89)) == ("READY", "READY")
    assert (queue_status(T0 + 91), _status(store, "pool", T0 + 91)) == ("NOT_READY", "NOT_READY")


def test_the_stored_status_follows_events(store):
    _pool(store)

    def stored():
        return store.read(lambda c: c.execute(sa.select(work_pools_table.c.status)).scalar_one())

    assert stored() == "NOT_READY"
    _heartbeat(store, "pool", "w", T0)
    assert stored() == "READY"
    store.write(lambda c: work_pools.update_work_pool(c, "pool", WorkPoolUpdate(is_paused=True)))
    assert stored() == "PAUSED"
    _heartbeat(store, "pool", "w", T0 + 1)  # a paused pool stays paused
    assert stored() == "PAUSED"
    store.write(lambda c: work_pools.update_work_pool(c, "pool", WorkPoolUpdate(is_paused=False)))
    assert stored() == "NOT_READY"


def test_polling_honours_time_bounds(store):
    _pool(store)
    early = _scheduled_run(store, "pool", at=T0 - 100)
    late = _scheduled_run(store, "pool", at=T0 + 100)

    def ids(**bounds):
        items = store.write(
            lambda c: work_pool_runs.get_scheduled_flow_runs(c, "pool", now=T0, **bounds)
        )
        return [item["flow_run"]["id"] for item in items]

    assert ids() == [early["id"], late["id"]]
    assert ids(scheduled_before=T0) == [early["id"]]
    assert ids(scheduled_after=dt.datetime.fromtimestamp(T0, dt.UTC)) == [late["id"]]
    assert ids(limit=0) == []
    with pytest.raises(ValueError, match="limit"):
        ids(limit=-1)


def test_deleting_a_pool_deletes_its_queues_and_workers_and_keeps_its_runs(store):
    _pool(store)
    _pool(store, "other")
    _heartbeat(store, "pool", "w", T0)
    run = _scheduled_run(store, "pool", "extra")

    assert store.write(lambda c: work_pools.delete_work_pool(c, "pool")) is True

    def count(table):
        return store.read(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        )

    assert (count(work_pools_table), count(work_queues_table), count(workers_table)) == (1, 1, 0)
    kept = store.read(lambda c: flow_runs.read_flow_run(c, run["id"]))
    assert (kept["work_pool_name"], kept["work_queue_name"]) == ("pool", "extra")
    assert store.write(lambda c: work_pools.delete_work_pool(c, "pool")) is False


def test_a_queue_made_on_demand_gets_a_valid_name(store):
    _pool(store)

    with pytest.raises(ParameterError, match="may not hold '/'"):
        _scheduled_run(store, "pool", "a/b")
    with pytest.raises(ObjectNotFound, match="legato work-pool create missing --type process"):
        _scheduled_run(store, "missing")
    # The default queue's row gone (a store edited by hand): runs still find a queue
    store.write(lambda c: c.execute(sa.delete(work_queues_table)))
    assert _scheduled_run(store, "pool")["work_queue_name"] == "default"


def test_idempotency_keys_hold_under_the_unique_index(store):
    _pool(store)
    first = _scheduled_run(store, "pool", key="k")

    def created(connection):
        flow, _ = flows.get_or_create_flow(connection, "service-flow")
        body = FlowRunCreate(flow_id=flow["id"], idempotency_key="k")
        return flow_runs.create_or_read_flow_run(connection, body)

    row, was_created = store.write(created)
    assert (row["id"], was_created) == (first["id"], False)
    # A second insert of the key, as a racing writer would do, is refused by the index
    duplicate = sa.insert(flow_runs_table).values(
        id=str(uuid.uuid4()),
        flow_id=first["flow_id"],
        name="dup",
        created=T0,
        updated=T0,
        idempotency_key="k",
    )
    with pytest.raises(StorageError, match="(?i)unique"):
        store.write(lambda c: c.execute(duplicate))


def test_renaming_a_queue_to_a_taken_name_is_refused(store):
    _pool(store)
    queue = store.write(lambda c: work_queues.resolve_work_queue(c, "pool", "second", now=T0))

    with pytest.raises(Exception, match="has a queue named 'default'"):
        store.write(
            lambda c: work_queues.update_work_queue(c, queue["id"], WorkQueueUpdate(name="default"))
        )
    assert store.read(lambda c: work_queues.read_work_queue(c, queue["id"]))["name"] == "second"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ([], "is a JSON object"),
        ({"variables": {}}, "lacks 'job_configuration'"),
        ({"job_configuration": [], "variables": {}}, "are JSON objects"),
        ({"job_configuration": {}, "variables": {"properties": []}}, "properties is a JSON object"),
        (
            {
                "job_configuration": {"command": "{{ command }} {{ extra }}"},
                "variables": {"properties": {"command": {}}},
            },
            "uses extra",
        ),
    ],
    ids=["not-an-object", "no-configuration", "wrong-types", "properties-not-object", "undeclared"],
)
def test_base_job_templates_are_checked(template, message):
    with pytest.raises(ParameterError, match=message):
        validate_base_job_template(template)


def test_empty_and_complete_templates_pass():
    assert validate_base_job_template({}) == {}
    template = {
        "job_configuration": {"command": "{{ command }}", "env": {"A": "{{ a }}"}},
        "variables": {"type": "object", "properties": {"command": {}, "a": {}}},
    }
    assert validate_base_job_template(template) is template


@pytest.mark.parametrize(
    "name",
    ["", " padded", "a/b", "100%", "tab\there", "x" * 256],
    ids=["empty", "padded", "slash", "percent", "control", "too-long"],
)
def test_bad_names_are_refused(name):
    with pytest.raises(ParameterError):
        validate_name(name)


def test_good_names_pass():
    for name in ("pool", "My Pool", "prod:eu-1", "é-pool", "x" * 255):
        assert validate_name(name) == name
