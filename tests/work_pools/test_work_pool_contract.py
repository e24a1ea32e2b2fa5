"""Work pools, queues, workers and worker polling: one suite on every client.

Each test runs on the embedded client, the HTTP client on SQLite and the
HTTP client on PostgreSQL (conftest ``client``).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from pydantic import ValidationError

from legato.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from legato.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterIdempotencyKey,
    FlowRunFilterWorkPoolName,
    FlowRunFilterWorkQueueName,
    WorkerFilter,
    WorkerFilterStatus,
    WorkPoolFilter,
    WorkPoolFilterName,
    WorkQueueFilter,
    WorkQueueFilterName,
)
from legato.client.schemas.objects import (
    SetStateStatus,
    Worker,
    WorkerFlowRunResponse,
    WorkerStatus,
    WorkPool,
    WorkPoolStatus,
    WorkQueue,
    WorkQueueStatus,
)
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.states import Completed, Pending, Running, Scheduled, StateType

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _due(seconds_ago: float = 60.0) -> Scheduled:
    return Scheduled(scheduled_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago))


def _schedule(client, flow, pool, queue=None, seconds_ago=60.0, **kwargs):
    return client.create_flow_run(
        flow,
        state=_due(seconds_ago),
        work_pool_name=pool,
        work_queue_name=queue,
        **kwargs,
    )


# -- work pools


def test_a_pool_is_created_with_its_default_queue_and_read_back(client, unique):
    name = unique("pool")
    template = {
        "job_configuration": {"command": "{{ command }}", "env": "{{ env }}"},
        "variables": {"type": "object", "properties": {"command": {}, "env": {}}},
    }
    pool = client.create_work_pool(
        WorkPoolCreate(name=name, description="etl", base_job_template=template)
    )

    assert isinstance(pool, WorkPool)
    assert (pool.name, pool.type, pool.description) == (name, "process", "etl")
    assert pool.base_job_template == template
    assert (pool.is_paused, pool.concurrency_limit) == (False, None)
    assert pool.status is WorkPoolStatus.NOT_READY  # no worker yet
    read = client.read_work_pool(name)
    assert read.id == pool.id and read.base_job_template == template
    assert read["name"] == name  # reads like a row, as the CLI prints it
    queues = client.read_work_queues(work_pool_name=name)
    assert [(queue.name, queue.priority, queue.id) for queue in queues] == [
        ("default", 1, pool.default_queue_id)
    ]
    assert queues[0].work_pool_name == name and queues[0].work_pool_id == pool.id


def test_pool_names_are_unique_unless_overwritten(client, unique):
    name = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=name, concurrency_limit=1))

    with pytest.raises(ObjectAlreadyExists, match="exists already"):
        client.create_work_pool(WorkPoolCreate(name=name))
    replaced = client.create_work_pool(
        WorkPoolCreate(name=name, description="new", concurrency_limit=5, is_paused=True),
        overwrite=True,
    )

    assert (replaced.description, replaced.concurrency_limit) == ("new", 5)
    assert replaced.status is WorkPoolStatus.PAUSED
    with pytest.raises(ParameterError, match="type cannot change"):
        client.create_work_pool(WorkPoolCreate(name=name, type="docker"), overwrite=True)


def test_update_pause_resume_and_delete_a_pool(client, unique):
    name = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=name, concurrency_limit=3))

    client.update_work_pool(name, WorkPoolUpdate(is_paused=True, description="paused"))
    paused = client.read_work_pool(name)
    assert (paused.is_paused, paused.status, paused.description) == (
        True,
        WorkPoolStatus.PAUSED,
        "paused",
    )
    assert paused.concurrency_limit == 3  # left out: kept
    client.update_work_pool(name, WorkPoolUpdate(is_paused=False, concurrency_limit=None))
    resumed = client.read_work_pool(name)
    assert (resumed.status, resumed.concurrency_limit) == (WorkPoolStatus.NOT_READY, None)

    client.delete_work_pool(name)
    for call in (
        lambda: client.read_work_pool(name),
        lambda: client.delete_work_pool(name),
        lambda: client.update_work_pool(name, WorkPoolUpdate(is_paused=True)),
        lambda: client.read_work_queues(work_pool_name=name),
    ):
        with pytest.raises(ObjectNotFound, match="work-pool create"):
            call()


def test_read_work_pools_by_name_with_filters_and_paging(client, unique):
    names = sorted(unique(prefix) for prefix in ("b-pool", "a-pool", "c-pool"))
    for name in names:
        client.create_work_pool(
            WorkPoolCreate(name=name, type="docker" if "c-" in name else "process")
        )
    by_name = WorkPoolFilter(name=WorkPoolFilterName(any_=names))

    assert [pool.name for pool in client.read_work_pools(work_pool_filter=by_name)] == names
    page = client.read_work_pools(work_pool_filter=by_name, limit=1, offset=1)
    assert [pool.name for pool in page] == names[1:2]
    every = {pool.name for pool in client.read_work_pools()}
    assert set(names) <= every


def test_bad_pool_input_is_refused_with_the_fix(client, unique):
    with pytest.raises(ValidationError, match="may not hold '/'"):
        WorkPoolCreate(name="a/b")
    with pytest.raises(ValidationError, match="lowercase slug"):
        WorkPoolCreate(name="p", type="Process Worker")
    with pytest.raises(ValidationError, match="lacks 'variables'"):
        WorkPoolCreate(name="p", base_job_template={"job_configuration": {}})
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        WorkPoolCreate(name="p", concurrency_limit=-1)
    with pytest.raises(ObjectNotFound, match="legato work-pool create nowhere-x --type process"):
        client.read_work_pool("nowhere-x")


# -- work queues


def test_queues_get_priorities_and_limits_and_are_read_by_name(client, unique):
    pool = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=pool))

    high = client.create_work_queue("high", work_pool_name=pool, priority=1, concurrency_limit=2)
    low = client.create_work_queue("low", work_pool_name=pool, description="batch")

    assert isinstance(high, WorkQueue)
    assert (high.priority, high.concurrency_limit, high.status) == (
        1,
        2,
        WorkQueueStatus.NOT_READY,
    )
    assert (low.priority, low.description) == (2, "batch")  # after the others
    assert client.read_work_queue_by_name("low", work_pool_name=pool).id == low.id
    assert client.read_work_queue(high.id).name == "high"
    names = [queue.name for queue in client.read_work_queues(work_pool_name=pool)]
    assert names == ["default", "high", "low"]  # by priority, then name
    starting_with_h = WorkQueueFilter(name=WorkQueueFilterName(startswith_=["h"]))
    assert [q.name for q in client.read_work_queues(pool, work_queue_filter=starting_with_h)] == [
        "high"
    ]
    with pytest.raises(ObjectAlreadyExists, match="has a queue named 'high'"):
        client.create_work_queue("high", work_pool_name=pool)
    with pytest.raises(ObjectNotFound):
        client.read_work_queue_by_name("nope", work_pool_name=pool)
    with pytest.raises(ParameterError, match="needs work_pool_name"):
        client.create_work_queue("orphan")


def test_a_queue_name_unique_across_pools_needs_no_pool(client, unique):
    first, second, queue = unique("pool-1"), unique("pool-2"), unique("queue")
    for pool in (first, second):
        client.create_work_pool(WorkPoolCreate(name=pool))
    made = client.create_work_queue(queue, work_pool_name=first)

    assert client.read_work_queue_by_name(queue).id == made.id
    client.create_work_queue(queue, work_pool_name=second)
    with pytest.raises(ParameterError, match="Several work pools have a queue named"):
        client.read_work_queue_by_name(queue)
    assert {q.work_pool_name for q in client.read_work_queues() if q.name == queue} == {
        first,
        second,
    }


def test_update_and_delete_a_queue(client, unique, flow_name_for):
    pool = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=pool))
    queue = client.create_work_queue("q", work_pool_name=pool, concurrency_limit=4)
    run = _schedule(client, flow_name_for(client), pool, "q")

    client.update_work_queue(queue.id, name="renamed", priority=7, is_paused=True)
    client.update_work_queue(queue.id, concurrency_limit=None)

    read = client.read_work_queue(queue.id)
    assert (read.name, read.priority, read.is_paused, read.concurrency_limit) == (
        "renamed",
        7,
        True,
        None,
    )
    assert read.status is WorkQueueStatus.PAUSED
    assert client.read_flow_run(run.id).work_queue_name == "renamed"  # runs follow the queue
    with pytest.raises(ParameterError, match="takes concurrency_limit"):
        client.update_work_queue(queue.id, colour="red")
    client.delete_work_queue_by_id(queue.id)
    with pytest.raises(ObjectNotFound):
        client.read_work_queue(queue.id)
    with pytest.raises(ObjectNotFound):
        client.delete_work_queue_by_id(queue.id)
    with pytest.raises(ObjectNotFound):
        client.update_work_queue(UNKNOWN, priority=2)
    default = client.read_work_queue_by_name("default", work_pool_name=pool)
    with pytest.raises(ParameterError, match="default queue"):
        client.delete_work_queue_by_id(default.id)


# -- workers


def test_heartbeats_create_workers_and_make_the_pool_ready(client, unique):
    pool = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=pool))

    client.send_worker_heartbeat(pool, "worker-a", heartbeat_interval_seconds=10)
    client.send_worker_heartbeat(pool, "worker-b")
    client.send_worker_heartbeat(pool, "worker-a")

    found = client.read_workers_for_work_pool(pool)
    assert all(isinstance(worker, Worker) for worker in found)
    assert [worker.name for worker in found] == ["worker-a", "worker-b"]  # latest first
    assert found[0].heartbeat_interval_seconds == 10  # kept when not given again
    assert {worker.status for worker in found} == {WorkerStatus.ONLINE}
    assert client.read_work_pool(pool).status is WorkPoolStatus.READY
    online = WorkerFilter(status=WorkerFilterStatus(any_=[WorkerStatus.ONLINE]))
    offline = WorkerFilter(status=WorkerFilterStatus(any_=[WorkerStatus.OFFLINE]))
    assert len(client.read_workers_for_work_pool(pool, worker_filter=online)) == 2
    assert client.read_workers_for_work_pool(pool, worker_filter=offline) == []
    assert len(client.read_workers_for_work_pool(pool, limit=1)) == 1
    with pytest.raises(ObjectNotFound, match="work-pool create"):
        client.send_worker_heartbeat(unique("missing"), "worker-a")
    with pytest.raises(ParameterError, match="worker name"):
        client.send_worker_heartbeat(pool, "")


# -- flow runs placed in pools


@pytest.fixture
def flow_name_for(unique):
    return lambda client: unique("flow")


def test_runs_placed_in_a_pool_carry_their_queue(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))

    in_default = _schedule(client, flow, pool, job_variables={"env": {"A": "1"}})
    on_demand = _schedule(client, flow, pool, "made-on-demand")

    default = client.read_work_queue_by_name("default", work_pool_name=pool)
    assert (in_default.work_pool_name, in_default.work_queue_name) == (pool, "default")
    assert in_default.work_queue_id == default.id
    assert in_default.job_variables == {"env": {"A": "1"}}
    assert client.read_flow_run(in_default.id).job_variables == {"env": {"A": "1"}}
    made = client.read_work_queue_by_name("made-on-demand", work_pool_name=pool)
    assert on_demand.work_queue_id == made.id and made.priority == 2
    with pytest.raises(ObjectNotFound, match=f"legato work-pool create {pool}x --type process"):
        _schedule(client, flow, f"{pool}x")
    with pytest.raises(ParameterError, match="pass work_pool_name too"):
        client.create_flow_run(flow, work_queue_name="default")


def test_an_idempotency_key_gives_the_same_run(client, unique):
    flow, other = unique("flow"), unique("other-flow")

    first = client.create_flow_run(flow, idempotency_key="nightly-2026-01-01", parameters={"x": 1})
    again = client.create_flow_run(flow, idempotency_key="nightly-2026-01-01", parameters={"x": 2})
    elsewhere = client.create_flow_run(other, idempotency_key="nightly-2026-01-01")

    assert again.id == first.id and again.parameters == {"x": 1}
    assert elsewhere.id != first.id  # keys are per flow
    assert client.count_flow_runs(flow_name=flow) == 1
    assert client.create_flow_run(flow).id != first.id  # no key: always a new run
    by_key = FlowRunFilter(idempotency_key=FlowRunFilterIdempotencyKey(any_=["nightly-2026-01-01"]))
    assert {run.id for run in client.read_flow_runs(flow_run_filter=by_key)} >= {
        first.id,
        elsewhere.id,
    }


def test_flow_runs_filter_and_update_on_the_new_columns(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    placed = _schedule(client, flow, pool, "q1")
    loose = client.create_flow_run(flow)

    in_pool = FlowRunFilter(work_pool_name=FlowRunFilterWorkPoolName(any_=[pool]))
    in_q1 = FlowRunFilter(work_queue_name=FlowRunFilterWorkQueueName(any_=["q1"]))
    no_deployment = FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(is_null_=True))
    assert [run.id for run in client.read_flow_runs(flow_name=flow, flow_run_filter=in_pool)] == [
        placed.id
    ]
    assert [run.id for run in client.read_flow_runs(flow_name=flow, flow_run_filter=in_q1)] == [
        placed.id
    ]
    assert client.count_flow_runs(flow_name=flow, flow_run_filter=no_deployment) == 2

    client.update_flow_run(loose.id, infrastructure_pid="host:4242", job_variables={"a": 1})
    read = client.read_flow_run(loose.id)
    assert (read.infrastructure_pid, read.job_variables) == ("host:4242", {"a": 1})
    assert (read.deployment_id, read.auto_scheduled, read.work_pool_name) == (None, False, None)


# -- polling and claiming


def test_polling_gives_due_runs_by_queue_priority_then_start_time(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    client.create_work_queue("urgent", work_pool_name=pool, priority=1)
    client.update_work_queue(client.read_work_queue_by_name("default", pool).id, priority=5)
    late_default = _schedule(client, flow, pool, seconds_ago=300)
    early_urgent = _schedule(client, flow, pool, "urgent", seconds_ago=10)
    later_urgent = _schedule(client, flow, pool, "urgent", seconds_ago=5)
    _schedule(client, flow, pool, "urgent", seconds_ago=-3600)  # due in an hour
    client.create_flow_run(flow, work_pool_name=pool)  # Pending: not scheduled

    now = dt.datetime.now(dt.UTC)
    found = client.get_scheduled_flow_runs_for_work_pool(pool, scheduled_before=now)

    assert all(isinstance(item, WorkerFlowRunResponse) for item in found)
    assert [item.flow_run.id for item in found] == [
        early_urgent.id,
        later_urgent.id,
        late_default.id,
    ]
    assert found[0].work_queue_id == early_urgent.work_queue_id
    assert found[0].work_pool_id == client.read_work_pool(pool).id
    assert found[0].flow_run.flow_name == flow
    only_default = client.get_scheduled_flow_runs_for_work_pool(
        pool, work_queue_names=["default"], scheduled_before=now
    )
    assert [item.flow_run.id for item in only_default] == [late_default.id]
    limited = client.get_scheduled_flow_runs_for_work_pool(pool, scheduled_before=now, limit=1)
    assert [item.flow_run.id for item in limited] == [early_urgent.id]
    assert len(client.get_scheduled_flow_runs_for_work_pool(pool)) == 4  # no time bound
    assert client.get_scheduled_flow_runs_for_work_pool(pool, work_queue_names=["nope"]) == []
    polled = client.read_work_queue_by_name("urgent", pool)
    assert polled.last_polled is not None and polled.status is WorkQueueStatus.READY
    assert client.read_work_pool(pool).status is WorkPoolStatus.READY  # a poll is a sign of life


def test_paused_pools_and_queues_give_nothing(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    queue = client.create_work_queue("q", work_pool_name=pool)
    in_default = _schedule(client, flow, pool)
    _schedule(client, flow, pool, "q")

    client.update_work_queue(queue.id, is_paused=True)
    assert [i.flow_run.id for i in client.get_scheduled_flow_runs_for_work_pool(pool)] == [
        in_default.id
    ]
    client.update_work_pool(pool, WorkPoolUpdate(is_paused=True))
    assert client.get_scheduled_flow_runs_for_work_pool(pool) == []
    client.update_work_pool(pool, WorkPoolUpdate(is_paused=False))
    client.update_work_queue(queue.id, is_paused=False)
    assert len(client.get_scheduled_flow_runs_for_work_pool(pool)) == 2


def test_queue_and_pool_limits_bound_what_is_handed_out_and_claimed(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool, concurrency_limit=3))
    client.create_work_queue("q", work_pool_name=pool, priority=1, concurrency_limit=1)
    client.update_work_queue(client.read_work_queue_by_name("default", pool).id, priority=2)
    in_q = [_schedule(client, flow, pool, "q", seconds_ago=30 - i) for i in range(3)]
    in_default = [_schedule(client, flow, pool, seconds_ago=30 - i) for i in range(4)]

    first = client.get_scheduled_flow_runs_for_work_pool(pool)
    assert [item.flow_run.id for item in first] == [
        in_q[0].id,
        in_default[0].id,
        in_default[1].id,
    ]

    # When the worker claims them, the slots are taken
    for item in first:
        assert (
            client.set_flow_run_state(item.flow_run.id, Pending()).status is SetStateStatus.ACCEPT
        )
    assert client.get_scheduled_flow_runs_for_work_pool(pool) == []
    refused = client.set_flow_run_state(in_q[1].id, Pending())
    assert refused.status is SetStateStatus.REJECT
    assert "concurrency limit" in refused.details.reason
    assert client.read_flow_run(in_q[1].id).state_type is StateType.SCHEDULED
    refused = client.set_flow_run_state(in_default[2].id, Pending())
    assert refused.status is SetStateStatus.REJECT and "work pool" in refused.details.reason

    # When a run ends, its slots free up
    client.set_flow_run_state(in_q[0].id, Running())
    client.set_flow_run_state(in_q[0].id, Completed())
    freed = client.get_scheduled_flow_runs_for_work_pool(pool)
    assert [item.flow_run.id for item in freed] == [in_q[1].id]


def test_a_run_is_claimed_once(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    run = _schedule(client, flow, pool)

    first = client.set_flow_run_state(run.id, Pending())
    second = client.set_flow_run_state(run.id, Pending())

    assert first.status is SetStateStatus.ACCEPT
    assert second.status is SetStateStatus.ABORT
    assert "claimed" in second.details.reason
    assert client.get_scheduled_flow_runs_for_work_pool(pool) == []


def test_the_async_clients_offer_the_same_methods(make_async_client, unique):
    pool = unique("pool")

    async def scenario():
        async with make_async_client() as client:
            created = await client.create_work_pool(WorkPoolCreate(name=pool))
            await client.create_work_queue("q", work_pool_name=pool, priority=1)
            await client.send_worker_heartbeat(pool, "w", heartbeat_interval_seconds=5)
            run = await client.create_flow_run(
                "async-flow", state=_due(), work_pool_name=pool, work_queue_name="q"
            )
            found = await client.get_scheduled_flow_runs_for_work_pool(pool)
            workers = await client.read_workers_for_work_pool(pool)
            queue = await client.read_work_queue_by_name("q", work_pool_name=pool)
            await client.update_work_queue(queue.id, priority=3)
            queues = await client.read_work_queues(work_pool_name=pool)
            await client.delete_work_pool(pool)
            return created, run, found, workers, queues

    created, run, found, workers, queues = asyncio.run(scenario())

    assert created.name == pool
    assert [item.flow_run.id for item in found] == [run.id]
    assert [worker.name for worker in workers] == ["w"]
    assert [(queue.name, queue.priority) for queue in queues] == [("default", 1), ("q", 3)]
