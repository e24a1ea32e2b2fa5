"""The REST routes of work pools and queues on a real server (SQLite and PostgreSQL):
paths, status codes and body shapes, as Prefect 3 clients send and expect them."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import httpx
import pytest


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.api_url + "/", timeout=30) as client:
        yield client


@pytest.fixture(params=["http", "http-postgresql"])
def kind(request):  # the routes need a server: no embedded case here
    return request.param


def _pool(api, name, **fields):
    response = api.post("work_pools/", json={"name": name, "type": "process", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_pool_routes_answer_with_prefects_codes_and_shapes(api, unique):
    name = unique("pool")

    created = _pool(api, name, concurrency_limit=2)
    assert set(created) >= {
        "id", "created", "updated", "name", "description", "type", "base_job_template",
        "is_paused", "concurrency_limit", "status", "default_queue_id",
    }  # fmt: skip
    assert created["status"] == "NOT_READY"
    assert api.post("work_pools/", json={"name": name}).status_code == 409
    assert api.get(f"work_pools/{name}").json()["id"] == created["id"]
    assert api.patch(f"work_pools/{name}", json={"is_paused": True}).status_code == 204
    assert api.get(f"work_pools/{name}").json()["status"] == "PAUSED"
    found = api.post("work_pools/filter", json={"work_pools": {"name": {"any_": [name]}}})
    assert [pool["name"] for pool in found.json()] == [name]
    assert api.delete(f"work_pools/{name}").status_code == 204
    for response in (
        api.get(f"work_pools/{name}"),
        api.patch(f"work_pools/{name}", json={"is_paused": False}),
        api.delete(f"work_pools/{name}"),
        api.post(f"work_pools/{name}/get_scheduled_flow_runs", json={}),
        api.post(f"work_pools/{name}/workers/heartbeat", json={"name": "w"}),
    ):
        assert response.status_code == 404
        assert "legato work-pool create" in response.json()["detail"]


def test_bad_bodies_are_422_naming_the_field(api, unique):
    bad_name = api.post("work_pools/", json={"name": "a/b"})
    assert bad_name.status_code == 422
    assert bad_name.json()["detail"][0]["loc"][-1] == "name"
    bad_template = api.post(
        "work_pools/", json={"name": unique("pool"), "base_job_template": {"variables": {}}}
    )
    assert bad_template.status_code == 422
    assert "job_configuration" in bad_template.json()["detail"][0]["msg"]
    pool = _pool(api, unique("pool"))["name"]
    assert (
        api.post(f"work_pools/{pool}/queues", json={"name": "q", "priority": 0}).status_code == 422
    )
    heartbeat = api.post(
        f"work_pools/{pool}/workers/heartbeat", json={"name": "w", "heartbeat_interval_seconds": 0}
    )
    assert heartbeat.status_code == 422
    unknown_key = api.post("work_pools/filter", json={"work_pools": {"colour": {"any_": ["red"]}}})
    assert unknown_key.status_code == 422


def test_names_with_spaces_and_unicode_travel_percent_encoded(api, unique):
    name = unique("pool — prod")
    _pool(api, name)
    path = f"work_pools/{quote(name, safe='')}"

    assert api.get(path).json()["name"] == name
    queue = api.post(f"{path}/queues/", json={"name": "über queue"})  # trailing slash too
    assert queue.status_code == 201
    read = api.get(f"{path}/queues/{quote('über queue', safe='')}")
    assert read.json()["id"] == queue.json()["id"]


def test_queue_routes_by_pool_and_by_id(api, unique):
    pool = unique("pool")
    _pool(api, pool)
    made = api.post(f"work_pools/{pool}/queues", json={"name": "q", "concurrency_limit": 3})
    assert made.status_code == 201
    queue = made.json()
    assert (queue["work_pool_name"], queue["priority"], queue["status"]) == (pool, 2, "NOT_READY")
    assert api.post(f"work_pools/{pool}/queues", json={"name": "q"}).status_code == 409

    listed = api.post(f"work_pools/{pool}/queues/filter", json={})
    assert [item["name"] for item in listed.json()] == ["default", "q"]
    update = api.patch(f"work_pools/{pool}/queues/q", json={"name": "default"})
    assert update.status_code == 409
    assert api.patch(f"work_pools/{pool}/queues/q", json={"priority": 9}).status_code == 204
    assert api.get(f"work_queues/{queue['id']}").json()["priority"] == 9
    assert api.patch(f"work_queues/{queue['id']}", json={"is_paused": True}).status_code == 204
    assert api.get(f"work_pools/{pool}/queues/q").json()["status"] == "PAUSED"
    assert api.delete(f"work_pools/{pool}/queues/default").status_code == 422
    assert api.delete(f"work_pools/{pool}/queues/q").status_code == 204
    assert api.get(f"work_queues/{queue['id']}").status_code == 404
    assert api.get(f"work_pools/{pool}/queues/q").status_code == 404
    assert api.delete(f"work_queues/{queue['id']}").status_code == 404


def test_heartbeats_and_workers(api, unique):
    pool = unique("pool")
    _pool(api, pool)

    beat = api.post(
        f"work_pools/{pool}/workers/heartbeat", json={"name": "w1", "heartbeat_interval_seconds": 5}
    )
    assert (beat.status_code, beat.content) == (204, b"")
    workers = api.post(f"work_pools/{pool}/workers/filter", json={}).json()
    assert [(w["name"], w["status"], w["heartbeat_interval_seconds"]) for w in workers] == [
        ("w1", "ONLINE", 5)
    ]
    assert api.get(f"work_pools/{pool}").json()["status"] == "READY"


def test_scheduled_runs_come_in_prefects_shape(api, unique):
    pool, flow = unique("pool"), unique("flow")
    _pool(api, pool)
    flow_id = api.post("flows/", json={"name": flow}).json()["id"]
    due = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    body = {
        "flow_id": flow_id,
        "work_pool_name": pool,
        "work_queue_name": "etl",
        "idempotency_key": "once",
        "job_variables": {"env": {"A": "1"}},
        "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": due}},
    }

    first = api.post("flow_runs/", json=body)
    again = api.post("flow_runs/", json=body)
    assert (first.status_code, again.status_code) == (201, 200)  # the key's run, not a new one
    assert again.json()["id"] == first.json()["id"]
    found = api.post(
        f"work_pools/{pool}/get_scheduled_flow_runs",
        json={"work_queue_names": ["etl"], "scheduled_before": dt.datetime.now(dt.UTC).isoformat()},
    )
    assert found.status_code == 200
    [item] = found.json()
    assert set(item) == {"work_pool_id", "work_queue_id", "flow_run"}
    run = item["flow_run"]
    assert run["id"] == first.json()["id"]
    assert (run["work_pool_name"], run["work_queue_name"], run["job_variables"]) == (
        pool,
        "etl",
        {"env": {"A": "1"}},
    )
    assert run["work_queue_id"] == item["work_queue_id"]
    assert run["state"]["type"] == "SCHEDULED"
    claim = api.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}})
    assert (claim.status_code, claim.json()["status"]) == (201, "ACCEPT")
    again = api.post(f"flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}})
    assert (again.status_code, again.json()["status"]) == (200, "ABORT")
