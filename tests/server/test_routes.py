"""The REST routes of a real server: statuses, bodies, errors, paging."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def unique(prefix: str = "flow") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_flow_run(api, flow_name: str | None = None, **body) -> dict:
    flow = api.post("flows/", json={"name": flow_name or unique()}).json()
    response = api.post("flow_runs/", json={"flow_id": flow["id"], **body})
    assert response.status_code == 201, response.text
    return response.json()


def set_state(api, kind: str, run_id: str, state_type: str, force: bool = False, **state):
    body = {"state": {"type": state_type, **state}, "force": force}
    return api.post(f"{kind}/{run_id}/set_state", json=body)


# -- admin


def test_health_ready_version(api):
    assert api.get("health").json() is True
    ready = api.get("ready")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    assert api.get("admin/version").json()


def test_admin_settings_list_every_setting(api):
    settings = api.get("admin/settings").json()

    assert settings["LEGATO_SERVER_API_PORT"] == 4200
    assert "LEGATO_SERVER_API_AUTH_STRING" in settings


def test_openapi_spec_is_served(api):
    spec = api.get("openapi.json").json()

    assert "/api/flow_runs/{flow_run_id}/set_state" in spec["paths"]
    assert "/api/records/batch" in spec["paths"]


# -- flows


def test_create_flow_is_get_or_create_by_name(api):
    name = unique()

    first = api.post("flows/", json={"name": name})
    second = api.post("flows/", json={"name": name})

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert api.get(f"flows/{first.json()['id']}").json()["name"] == name
    assert api.get(f"flows/name/{name}").json()["id"] == first.json()["id"]


def test_flow_filter_count_and_delete(api):
    name = unique("filtered")
    flow = api.post("flows/", json={"name": name}).json()
    create_flow_run(api, name)

    found = api.post("flows/filter", json={"flows": {"name": {"like_": name.upper()}}}).json()
    assert [item["id"] for item in found] == [flow["id"]]
    assert api.post("flows/count", json={"flows": {"name": {"any_": [name]}}}).json() == 1

    assert api.delete(f"flows/{flow['id']}").status_code == 204
    assert api.get(f"flows/{flow['id']}").status_code == 404
    runs = api.post("flow_runs/filter", json={"flows": {"name": {"any_": [name]}}}).json()
    assert runs == []


def test_unknown_and_malformed_ids(api):
    missing = api.get(f"flows/{UNKNOWN}")
    assert missing.status_code == 404
    assert UNKNOWN in missing.json()["detail"]

    malformed = api.get("flow_runs/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "flow_run_id"]

    assert api.get("no/such/route").status_code == 404


# -- flow runs


def test_flow_run_create_read_update_delete(api):
    run = create_flow_run(api, name="nightly", parameters={"x": 1}, tags=["etl"])

    assert run["state"]["type"] == "PENDING"
    assert run["state_type"] == "PENDING"
    assert run["flow_name"]
    assert api.get(f"flow_runs/{run['id']}").json()["parameters"] == {"x": 1}

    patched = api.patch(f"flow_runs/{run['id']}", json={"name": "renamed", "tags": ["a", "b"]})
    assert patched.status_code == 204
    assert api.get(f"flow_runs/{run['id']}").json()["tags"] == ["a", "b"]
    assert api.patch(f"flow_runs/{UNKNOWN}", json={"name": "x"}).status_code == 404

    assert api.delete(f"flow_runs/{run['id']}").status_code == 204
    assert api.delete(f"flow_runs/{run['id']}").status_code == 404


def test_flow_run_of_an_unknown_flow_is_404(api):
    response = api.post("flow_runs/", json={"flow_id": UNKNOWN})

    assert response.status_code == 404
    assert "Create the flow first" in response.json()["detail"]


def test_bad_bodies_are_422_naming_the_field(api):
    response = api.post("flow_runs/", json={"flow_id": "nope"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "flow_id"]
    assert api.post("flow_runs/filter", json={"flow_runs": {"bogus": 1}}).status_code == 422


def test_flow_run_filters_and_count(api):
    name = unique()
    tagged = create_flow_run(api, name, tags=["nightly", "etl"])
    create_flow_run(api, name, tags=["etl"])
    set_state(api, "flow_runs", tagged["id"], "RUNNING")

    def ids(body):
        return [run["id"] for run in api.post("flow_runs/filter", json=body).json()]

    by_flow = {"flows": {"name": {"any_": [name]}}}
    assert ids({**by_flow, "flow_runs": {"tags": {"all_": ["nightly", "etl"]}}}) == [tagged["id"]]
    state = {"state": {"type": {"any_": ["RUNNING"]}}}
    assert ids({**by_flow, "flow_runs": state}) == [tagged["id"]]
    assert api.post("flow_runs/count", json=by_flow).json() == 2
    assert len(ids({**by_flow, "sort": "NAME_ASC", "limit": 1})) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"limit": 201}, "limit"), ({"limit": -1}, "limit"), ({"offset": -1}, "offset")],
)
def test_paging_bounds_are_422(api, body, field):
    response = api.post("flow_runs/filter", json=body)

    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field]
    if body.get("limit") == 201:
        assert "200" in error["msg"]


def test_paging_walks_every_run_once(api):
    name = unique()
    created = {create_flow_run(api, name)["id"] for _ in range(5)}
    body = {"flows": {"name": {"any_": [name]}}, "limit": 2}

    seen = []
    for offset in (0, 2, 4):
        seen += [
            run["id"]
            for run in api.post("flow_runs/filter", json={**body, "offset": offset}).json()
        ]

    assert len(seen) == 5
    assert set(seen) == created


# -- states and the transition table


def test_set_state_accepts_rejects_and_forces(api):
    run = create_flow_run(api)

    running = set_state(api, "flow_runs", run["id"], "RUNNING")
    assert running.status_code == 201
    assert running.json()["status"] == "ACCEPT"
    assert set_state(api, "flow_runs", run["id"], "COMPLETED").json()["status"] == "ACCEPT"

    refused = set_state(api, "flow_runs", run["id"], "RUNNING")
    assert refused.status_code == 200
    body = refused.json()
    assert body["status"] == "REJECT"
    assert "already finished" in body["details"]["reason"]
    assert body["state"]["type"] == "COMPLETED"

    forced = set_state(api, "flow_runs", run["id"], "RUNNING", force=True)
    assert forced.json()["status"] == "ACCEPT"
    stored = api.get(f"flow_runs/{run['id']}").json()
    assert stored["state_type"] == "RUNNING"
    assert stored["run_count"] == 2
    assert stored["end_time"] is None


def test_second_pending_is_aborted(api):
    run = create_flow_run(api)

    aborted = set_state(api, "flow_runs", run["id"], "PENDING").json()

    assert aborted["status"] == "ABORT"
    assert "claimed" in aborted["details"]["reason"]


def test_running_a_run_scheduled_later_waits(api):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    run = create_flow_run(
        api, state={"type": "SCHEDULED", "state_details": {"scheduled_time": later}}
    )

    waited = set_state(api, "flow_runs", run["id"], "RUNNING").json()

    assert waited["status"] == "WAIT"
    assert 3500 <= waited["details"]["delay_seconds"] <= 3600
    assert api.get(f"flow_runs/{run['id']}").json()["state_type"] == "SCHEDULED"


def test_cancelling_run_only_ends(api):
    run = create_flow_run(api)
    set_state(api, "flow_runs", run["id"], "RUNNING")
    set_state(api, "flow_runs", run["id"], "CANCELLING")

    assert set_state(api, "flow_runs", run["id"], "RUNNING").json()["status"] == "REJECT"
    assert set_state(api, "flow_runs", run["id"], "CANCELLED").json()["status"] == "ACCEPT"


def test_state_history_and_one_state(api):
    run = create_flow_run(api)
    set_state(api, "flow_runs", run["id"], "RUNNING", message="go")
    set_state(api, "flow_runs", run["id"], "COMPLETED", data={"storage_key": "k"})

    history = api.get("flow_run_states/", params={"flow_run_id": run["id"]}).json()

    assert [state["type"] for state in history] == ["PENDING", "RUNNING", "COMPLETED"]
    assert history[1]["message"] == "go"
    assert history[2]["data"] == {"storage_key": "k"}
    one = api.get(f"flow_run_states/{history[1]['id']}").json()
    assert one["type"] == "RUNNING"
    assert api.get(f"flow_run_states/{UNKNOWN}").status_code == 404
    assert api.get(f"flow_runs/{run['id']}").json()["state"]["data"] == {"storage_key": "k"}


def test_set_state_of_an_unknown_run_is_404(api):
    assert set_state(api, "flow_runs", UNKNOWN, "RUNNING").status_code == 404
    assert set_state(api, "task_runs", UNKNOWN, "RUNNING").status_code == 404


# -- task runs and the graph


def create_task_run(api, flow_run_id: str, key: str, **body) -> dict:
    task = {"name": f"{key}-0", "flow_run_id": flow_run_id, "task_key": key, "dynamic_key": "0"}
    response = api.post("task_runs/", json={**task, **body})
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_task_run_create_is_idempotent_and_has_states(api):
    run = create_flow_run(api)
    task = {"name": "t-0", "flow_run_id": run["id"], "task_key": "t", "dynamic_key": "0"}

    first = api.post("task_runs/", json=task)
    again = api.post("task_runs/", json=task)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    task_run_id = first.json()["id"]
    assert set_state(api, "task_runs", task_run_id, "RUNNING").json()["status"] == "ACCEPT"
    history = api.get("task_run_states/", params={"task_run_id": task_run_id}).json()
    assert [state["type"] for state in history] == ["PENDING", "RUNNING"]
    body = {"task_runs": {"flow_run_id": {"any_": [run["id"]]}}}
    assert api.post("task_runs/count", json=body).json() == 1
    assert api.delete(f"task_runs/{task_run_id}").status_code == 204
    assert api.get(f"task_runs/{task_run_id}").status_code == 404


def test_graph_lists_task_runs_with_their_upstreams(api):
    run = create_flow_run(api)
    extract = create_task_run(api, run["id"], "extract")
    load = create_task_run(
        api,
        run["id"],
        "load",
        task_inputs={"rows": [{"input_type": "task_run", "id": extract["id"]}]},
    )

    graph = api.get(f"flow_runs/{run['id']}/graph").json()

    by_id = {node["id"]: node for node in graph}
    assert set(by_id) == {extract["id"], load["id"]}
    assert by_id[load["id"]]["upstream_dependencies"] == [
        {"input_type": "task_run", "id": extract["id"]}
    ]
    assert by_id[extract["id"]]["upstream_dependencies"] == []
    assert api.get(f"flow_runs/{UNKNOWN}/graph").status_code == 404


# -- logs


def test_logs_create_filter_and_limit(api, server):
    run = create_flow_run(api)
    now = dt.datetime.now(dt.UTC)
    lines = [
        {
            "name": "legato.flow_runs",
            "level": 20 + 10 * (number % 2),
            "message": f"line {number}",
            "timestamp": (now + dt.timedelta(milliseconds=number)).isoformat(),
            "flow_run_id": run["id"],
        }
        for number in range(4)
    ]

    assert api.post("logs/", json=lines).status_code == 201
    body = {"logs": {"flow_run_id": {"any_": [run["id"]]}, "level": {"ge_": 30}}}
    found = api.post("logs/filter", json=body).json()
    assert [line["message"] for line in found] == ["line 1", "line 3"]
    newest = api.post("logs/filter", json={**body, "sort": "TIMESTAMP_DESC"}).json()
    assert newest[0]["message"] == "line 3"

    too_many = api.post("logs/", json=lines[:1] * 1001)
    assert too_many.status_code == 413
    assert "1000" in too_many.json()["detail"]
    assert "LEGATO_SERVER_LOGS_MAX_BATCH_SIZE" in too_many.json()["detail"]
