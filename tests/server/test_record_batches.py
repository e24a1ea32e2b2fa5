"""/api/records/batch: the recorder's batch over HTTP, checked and idempotent."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from legato.storage.records import FLOW_RUN_FIELDS, TASK_RUN_FIELDS


def new_id() -> str:
    return str(uuid.uuid4())


def make_batch(flow_name: str, task_runs: int = 3) -> tuple[dict, str]:
    now = time.time()
    flow_id = new_id()
    run_id = new_id()
    run = dict.fromkeys(FLOW_RUN_FIELDS)
    run.update(
        id=run_id,
        flow_id=flow_id,
        name="batch-run",
        parameters="{}",
        tags='["batch"]',
        run_count=1,
        state_type="COMPLETED",
        state_name="Completed",
        state_timestamp=now,
        total_run_time=0.5,
        created=now,
        updated=now,
    )
    batch: dict[str, list] = {
        "flows": [[flow_id, flow_name]],
        "flow_runs": [list(run.values())],
        "task_runs": [],
        "states": [[new_id(), run_id, None, "COMPLETED", "Completed", None, now, None]],
        "logs": [[new_id(), run_id, None, "legato.flow_runs", 20, "done", now]],
    }
    for number in range(task_runs):
        task = dict.fromkeys(TASK_RUN_FIELDS)
        task.update(
            id=new_id(),
            flow_run_id=run_id,
            name=f"t-{number}",
            task_key="t",
            dynamic_key=str(number),
            tags="[]",
            task_inputs="{}",
            run_count=1,
            state_type="COMPLETED",
            state_name="Completed",
            total_run_time=0.0,
            created=now,
            updated=now,
        )
        batch["task_runs"].append(list(task.values()))
        batch["states"].append(
            [new_id(), None, task["id"], "COMPLETED", "Completed", None, now, '{"key": 1}']
        )
    return batch, run_id


def test_a_batch_is_written_once_however_often_it_is_sent(api):
    flow_name = f"batch-{uuid.uuid4().hex[:8]}"
    batch, run_id = make_batch(flow_name)

    first = api.post("records/batch", json=batch)
    second = api.post("records/batch", json=batch)

    assert first.status_code == 200, first.text
    assert (
        first.json()
        == second.json()
        == {
            "flows": 1,
            "flow_runs": 1,
            "task_runs": 3,
            "states": 4,
            "logs": 1,
        }
    )
    run = api.get(f"flow_runs/{run_id}").json()
    assert run["flow_name"] == flow_name
    assert run["tags"] == ["batch"]
    body = {"task_runs": {"flow_run_id": {"any_": [run_id]}}}
    assert api.post("task_runs/count", json=body).json() == 3
    states = api.get("flow_run_states/", params={"flow_run_id": run_id}).json()
    assert len(states) == 1
    logs = api.post("logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}).json()
    assert [line["message"] for line in logs] == ["done"]


def test_a_later_snapshot_of_a_run_wins(api):
    batch, run_id = make_batch(f"batch-{uuid.uuid4().hex[:8]}", task_runs=0)
    running = [*batch["flow_runs"][0]]
    running[FLOW_RUN_FIELDS.index("state_type")] = "RUNNING"
    batch["flow_runs"] = [running, batch["flow_runs"][0]]

    assert api.post("records/batch", json=batch).status_code == 200
    assert api.get(f"flow_runs/{run_id}").json()["state_type"] == "COMPLETED"


@pytest.mark.parametrize(
    ("table", "index", "value", "problem"),
    [
        ("flow_runs", 0, "not-a-uuid", "uuid"),
        ("flow_runs", 4, "{not json", "JSON"),
        ("states", 3, "DONE", "SCHEDULED"),
        ("logs", 4, "loud", "integer"),
    ],
)
def test_bad_rows_are_refused_whole(api, table, index, value, problem):
    batch, run_id = make_batch("refused")
    row = batch[table][0]
    row[index] = value

    response = api.post("records/batch", json=batch)

    assert response.status_code == 422
    assert problem.lower() in json.dumps(response.json()).lower()
    assert api.get(f"flow_runs/{run_id}").status_code == 404


def test_a_row_of_the_wrong_length_is_refused(api):
    batch, _ = make_batch("short")
    batch["flow_runs"][0] = batch["flow_runs"][0][:-1]

    response = api.post("records/batch", json=batch)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["body", "flow_runs", 0]
