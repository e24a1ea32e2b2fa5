"""The client contract: every test runs on the embedded client and on the HTTP client."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from legato.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
    LogFilter,
    LogFilterFlowRunId,
    LogFilterLevel,
    TaskRunFilter,
    TaskRunFilterName,
)
from legato.client.schemas.objects import FlowRun, SetStateStatus, State, TaskRun
from legato.client.schemas.sorting import FlowRunSort, LogSort
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.states import Completed, Running, Scheduled, StateType
from legato.storage.records import RecordBatch

UNKNOWN = "00000000-0000-4000-8000-000000000000"


# -- flows


def test_flows_get_or_create_read_and_delete(client, flow_name):
    flow_id = client.create_flow_from_name(flow_name)

    assert client.create_flow_from_name(flow_name) == flow_id
    assert client.read_flow(flow_id).name == flow_name
    assert client.read_flow_by_name(flow_name).id == flow_id
    assert [flow.id for flow in client.read_flows(name=flow_name)] == [flow_id]
    by_model = FlowFilter(name=FlowFilterName(any_=[flow_name]))
    assert [flow["name"] for flow in client.read_flows(flow_filter=by_model)] == [flow_name]

    client.delete_flow(flow_id)
    with pytest.raises(ObjectNotFound):
        client.read_flow(flow_id)
    with pytest.raises(ObjectNotFound):
        client.delete_flow(flow_id)


# -- flow runs


def test_create_and_read_a_flow_run(client, flow_name):
    run = client.create_flow_run(flow_name, name="first", parameters={"x": 1}, tags=["etl"])

    assert isinstance(run, FlowRun)
    assert run.state is not None
    assert run.state.type is StateType.PENDING
    assert run.flow_name == flow_name
    read = client.read_flow_run(run.id)
    assert (read.name, read.parameters, read.tags) == ("first", {"x": 1}, ["etl"])
    # Objects read like their storage rows too (the CLI prints them so).
    assert read["flow_name"] == flow_name
    assert read["id"] == str(run.id)
    assert dict(read)["state_type"] == "PENDING"
    assert read["total_run_time"] == 0.0


def test_unknown_and_malformed_ids_are_not_found(client):
    for read in (client.read_flow_run, client.read_task_run):
        with pytest.raises(ObjectNotFound):
            read(UNKNOWN)
        with pytest.raises(ObjectNotFound):
            read("not-a-uuid")
    with pytest.raises(ObjectNotFound):
        client.delete_flow_run(UNKNOWN)
    with pytest.raises(ObjectNotFound):
        client.update_flow_run(UNKNOWN, name="x")


def test_read_flow_runs_with_shorthands_and_filters(client, flow_name):
    other = f"{flow_name}-other"
    runs = [client.create_flow_run(flow_name, tags=["a"]) for _ in range(3)]
    client.create_flow_run(other)
    client.set_flow_run_state(runs[0].id, Running())

    def ids(found):
        return [run.id for run in found]

    assert ids(client.read_flow_runs(flow_name=flow_name)) == [run.id for run in reversed(runs)]
    assert ids(client.read_flow_runs(flow_name=flow_name, state_types=["RUNNING"])) == [runs[0].id]
    running = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])),
        tags=FlowRunFilterTags(all_=["a"]),
    )
    by_flow = FlowFilter(name=FlowFilterName(any_=[flow_name]))
    assert ids(client.read_flow_runs(flow_filter=by_flow, flow_run_filter=running)) == [runs[0].id]
    assert client.count_flow_runs(flow_name=flow_name) == 3
    assert client.count_flow_runs(flow_filter=by_flow, flow_run_filter=running) == 1
    assert ids(client.read_flow_runs(flow_name=flow_name, limit=1, offset=1)) == [runs[1].id]
    by_name = client.read_flow_runs(flow_filter=by_flow, sort=FlowRunSort.NAME_ASC)
    assert [run.name for run in by_name] == sorted(run.name for run in runs)
    assert client.read_flow_runs(flow_name=flow_name, state_types=[]) == []
    with pytest.raises(ValueError, match="either flow_filter or"):
        client.read_flow_runs(flow_filter=by_flow, flow_name=flow_name)


def test_negative_paging_is_refused(client):
    with pytest.raises(ValueError, match="limit and offset"):
        client.read_flow_runs(limit=-1)


def test_update_and_delete_a_flow_run(client, flow_name):
    run = client.create_flow_run(flow_name)
    task_run = client.create_task_run("t", run.id, "0")
    client.create_logs(
        [
            {
                "name": "x",
                "level": 20,
                "message": "m",
                "timestamp": "2024-01-01T00:00:00Z",
                "flow_run_id": str(run.id),
            }
        ]
    )

    client.update_flow_run(run.id, name="renamed", tags=["x"])
    assert (client.read_flow_run(run.id).name, client.read_flow_run(run.id).tags) == (
        "renamed",
        ["x"],
    )

    client.delete_flow_run(run.id)
    with pytest.raises(ObjectNotFound):
        client.read_flow_run(run.id)
    with pytest.raises(ObjectNotFound):
        client.read_task_run(task_run.id)
    assert client.read_logs(flow_run_id=run.id) == []


# -- states


def test_set_flow_run_state_goes_through_the_rules(client, flow_name):
    run = client.create_flow_run(flow_name)

    accepted = client.set_flow_run_state(run.id, Running())
    assert accepted.status is SetStateStatus.ACCEPT
    assert accepted.state.type is StateType.RUNNING
    assert (
        client.set_flow_run_state(run.id, Completed(message="done")).status is SetStateStatus.ACCEPT
    )

    rejected = client.set_flow_run_state(run.id, Running())
    assert rejected.status is SetStateStatus.REJECT
    assert "force=True" in rejected.details.reason
    assert rejected.state.type is StateType.COMPLETED

    assert client.set_flow_run_state(run.id, Running(), force=True).status is SetStateStatus.ACCEPT
    history = client.read_flow_run_states(run.id)
    assert [state.type for state in history] == ["PENDING", "RUNNING", "COMPLETED", "RUNNING"]
    assert history[2].message == "done"
    assert all(isinstance(state, State) for state in history)
    assert [row["type"] for row in client.read_states(flow_run_id=run.id)] == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
        "RUNNING",
    ]
    with pytest.raises(ObjectNotFound):
        client.set_flow_run_state(UNKNOWN, Running())


def test_a_state_converts_to_and_from_the_engine_state(client, flow_name):
    run = client.create_flow_run(flow_name, state=Running())

    state = client.read_flow_run(run.id).state.to_state()

    assert state.is_running()
    assert state.state_details.flow_run_id == run.id
    assert State.from_state(Completed(message="ok")).message == "ok"


# -- task runs


def test_task_runs(client, flow_name):
    run = client.create_flow_run(flow_name)
    extract = client.create_task_run("extract", run.id, "0")
    load = client.create_task_run("load", run.id, "0", task_inputs={"rows": [extract.id]})

    assert isinstance(extract, TaskRun)
    assert client.create_task_run("extract", run.id, "0").id == extract.id  # idempotent
    assert client.read_task_run(load.id).upstream_ids() == [extract.id]
    assert {task.id for task in client.read_task_runs(flow_run_id=run.id)} == {extract.id, load.id}
    by_name = TaskRunFilter(name=TaskRunFilterName(like_="LOA"))
    this_run = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
    found = client.read_task_runs(task_run_filter=by_name, flow_run_filter=this_run)
    assert [task.id for task in found] == [load.id]
    assert client.count_task_runs(flow_run_filter=this_run) == 2
    assert client.count_task_runs(flow_run_filter={"id": {"any_": [str(run.id)]}}) == 2

    assert client.set_task_run_state(extract.id, Running()).status is SetStateStatus.ACCEPT
    assert [s.type for s in client.read_task_run_states(extract.id)] == ["PENDING", "RUNNING"]
    graph = {node.id: node for node in client.read_flow_run_graph(run.id)}
    assert [dep.id for dep in graph[load.id].upstream_dependencies] == [extract.id]

    client.delete_task_run(load.id)
    with pytest.raises(ObjectNotFound):
        client.read_task_run(load.id)


# -- logs


def test_logs_follow_with_after_and_filters(client, flow_name):
    run = client.create_flow_run(flow_name)
    start = time.time()
    lines = [
        {
            "name": "legato.flow_runs",
            "level": 40 if number == 3 else 20,
            "message": f"line {number}",
            "timestamp": start + number,
            "flow_run_id": str(run.id),
        }
        for number in range(5)
    ]
    client.create_logs(lines)

    messages = [line.message for line in client.read_logs(flow_run_id=run.id)]
    assert messages == [f"line {n}" for n in range(5)]
    tail = client.read_logs(
        flow_run_id=run.id, after=client.read_logs(flow_run_id=run.id)[2]["timestamp"].timestamp()
    )
    assert [line["message"] for line in tail] == ["line 3", "line 4"]
    newest = client.read_logs(
        LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]), level=LogFilterLevel(ge_=30)),
        sort=LogSort.TIMESTAMP_DESC,
    )
    assert [line.message for line in newest] == ["line 3"]


def test_reads_past_one_page(client, flow_name):
    run = client.create_flow_run(flow_name)
    now = time.time()
    client.create_logs(
        [
            {
                "name": "n",
                "level": 20,
                "message": str(i),
                "timestamp": now + i / 1000,
                "flow_run_id": str(run.id),
            }
            for i in range(450)
        ]
    )

    assert len(client.read_logs(flow_run_id=run.id, limit=1000)) == 450
    assert len(client.read_logs(flow_run_id=run.id, limit=250, offset=100)) == 250


# -- the recorder's path


def test_record_is_idempotent(client, flow_name):
    flow_id = str(uuid.uuid5(uuid.NAMESPACE_URL, flow_name))
    run_id, state_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = time.time()
    run = (run_id, flow_id, "recorded", None, '{"n": 2}', "[]", 1, None, None, "COMPLETED",
           "Completed", None, now, now, now, now, 0.25, now, now)  # fmt: skip
    batch = RecordBatch(
        flows=[(flow_id, flow_name)],
        flow_runs=[run],
        states=[(state_id, run_id, None, "COMPLETED", "Completed", None, now, '{"key": "r"}')],
        logs=[(str(uuid.uuid4()), run_id, None, "legato.flow_runs", 20, "hi", now)],
    )

    client.record(batch)
    client.record(batch)

    read = client.read_flow_run(run_id)
    assert (read.flow_name, read.parameters, read.total_run_time.total_seconds()) == (
        flow_name,
        {"n": 2},
        0.25,
    )
    assert read.state.data == {"key": "r"}
    assert str(read.state_id) == state_id
    assert len(client.read_flow_run_states(run_id)) == 1
    assert len(client.read_logs(flow_run_id=run_id)) == 1


def test_api_healthcheck(client):
    assert client.api_healthcheck() is None


# -- artifacts and variables


def test_artifacts(client):
    key = f"report-{uuid.uuid4().hex[:8]}"
    first = client.create_artifact(key=key, type="markdown", data="# v1", description="one")
    second = client.create_artifact(key=key, type="markdown", data="# v2")

    assert client.read_latest_artifact(key)["id"] == str(second["id"])
    assert client.read_artifact(first["id"])["data"] == "# v1"
    assert client.count_artifacts(key=key) == 2
    assert [a["data"] for a in client.read_artifacts(key=key, latest_only=True)] == ["# v2"]
    updated = client.update_artifact(first["id"], description="changed")
    assert updated["description"] == "changed"
    client.delete_artifact(first["id"])
    with pytest.raises(ObjectNotFound):
        client.read_artifact(first["id"])
    with pytest.raises(ParameterError):
        client.create_artifact(key="Not Valid!", type="markdown", data="x")


def test_variables(client):
    name = f"var_{uuid.uuid4().hex[:8]}"
    created = client.create_variable(name=name, value={"a": 1}, tags=["t"])

    assert created["value"] == {"a": 1}
    assert client.read_variable_by_name(name)["tags"] == ["t"]
    assert client.read_variable_by_name(f"{name}_missing") is None
    with pytest.raises(ObjectAlreadyExists):
        client.create_variable(name=name, value=2)
    assert client.update_variable(name, value=3)["value"] == 3
    assert client.set_variable(name, 4, overwrite=True)["value"] == 4
    assert [v["name"] for v in client.read_variables(name_like=name)] == [name]
    client.delete_variable_by_name(name)
    with pytest.raises(ObjectNotFound):
        client.delete_variable_by_name(name)
    with pytest.raises(ParameterError):
        client.create_variable(name="Bad Name", value=1)


# -- the async twins


def test_async_client_has_the_same_answers(make_async_client, flow_name):
    async def scenario():
        async with make_async_client() as client:
            run = await client.create_flow_run(flow_name)
            result = await client.set_flow_run_state(run.id, Running())
            read = await client.read_flow_run(run.id)
            runs = await client.read_flow_runs(flow_name=flow_name)
            count = await client.count_flow_runs(flow_name=flow_name)
            with pytest.raises(ObjectNotFound):
                await client.read_flow_run(UNKNOWN)
            return result, read, runs, count

    result, read, runs, count = asyncio.run(scenario())

    assert result.status is SetStateStatus.ACCEPT
    assert read.state_type is StateType.RUNNING
    assert [run.id for run in runs] == [read.id]
    assert count == 1


def test_a_created_flow_run_reads_back_the_same(client, flow_name):
    created = client.create_flow_run(flow_name, parameters={"x": 1}, tags=["a"])
    assert client.read_flow_run(created.id) == created
    scheduled = client.create_flow_run(flow_name, state=Scheduled())
    assert client.read_flow_run(scheduled.id) == scheduled
