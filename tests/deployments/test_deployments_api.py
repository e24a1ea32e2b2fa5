"""/api/deployments on a real ``legato server start``, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from legato.engine.parameter_schema import parameter_schema

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def etl(day: str, limit: int = 10) -> None:
    """The flow function of the schema below."""


SCHEMA = parameter_schema(etl)


@pytest.fixture
def flow(api):
    name = f"flow-{uuid.uuid4().hex[:12]}"
    response = api.post("flows/", json={"name": name})
    assert response.status_code in (200, 201)
    return response.json()


def test_the_life_of_a_deployment(api, flow):
    body = {
        "name": "nightly",
        "flow_id": flow["id"],
        "tags": ["etl"],
        "parameters": {"day": "mon"},
        "parameter_openapi_schema": SCHEMA,
        "schedules": [
            {"schedule": {"kind": "interval", "interval": 3600}, "slug": "hourly"},
            # Prefect's shape (no kind) is read too.
            {"schedule": {"cron": "0 6 * * *", "timezone": "Europe/Paris"}, "active": False},
        ],
    }
    created = api.post("deployments/", json=body)
    assert created.status_code == 201, created.text
    deployment = created.json()
    deployment_id = deployment["id"]
    assert deployment["flow_name"] == flow["name"]
    assert [item["schedule"]["kind"] for item in deployment["schedules"]] == ["interval", "cron"]
    assert deployment["schedules"][1]["active"] is False
    assert deployment["status"] == "NOT_READY"

    # The same flow and name again: replaced (200), same id.
    replaced = api.post("deployments/", json={**body, "description": "again"})
    assert (replaced.status_code, replaced.json()["id"]) == (200, deployment_id)
    assert api.get(f"deployments/{deployment_id}").json()["description"] == "again"
    by_name = api.get(f"deployments/name/{flow['name']}/nightly")
    assert by_name.json()["id"] == deployment_id

    found = api.post("deployments/filter", json={"flows": {"name": {"any_": [flow["name"]]}}})
    assert [item["id"] for item in found.json()] == [deployment_id]
    assert (
        api.post(
            "deployments/count", json={"deployments": {"id": {"any_": [deployment_id]}}}
        ).json()
        == 1
    )

    assert api.patch(f"deployments/{deployment_id}", json={"version": "2"}).status_code == 204
    assert api.get(f"deployments/{deployment_id}").json()["version"] == "2"
    assert api.post(f"deployments/{deployment_id}/pause_deployment").status_code == 204
    assert api.get(f"deployments/{deployment_id}").json()["paused"] is True
    assert api.post(f"deployments/{deployment_id}/resume_deployment").status_code == 204
    assert api.get(f"deployments/{deployment_id}").json()["paused"] is False

    assert api.delete(f"deployments/{deployment_id}").status_code == 204
    assert api.get(f"deployments/{deployment_id}").status_code == 404


def test_schedules_one_at_a_time(api, flow):
    deployment = api.post("deployments/", json={"name": "d", "flow_id": flow["id"]}).json()
    path = f"deployments/{deployment['id']}/schedules"

    added = api.post(path, json=[{"schedule": {"rrule": "FREQ=DAILY"}, "slug": "daily"}])
    assert added.status_code == 201, added.text
    (schedule,) = added.json()
    assert schedule["schedule"]["kind"] == "rrule"
    assert api.post(path, json=[{"schedule": {"interval": 60}, "slug": "daily"}]).status_code == 409

    changed = api.patch(f"{path}/{schedule['id']}", json={"active": False})
    assert changed.status_code == 204
    assert api.get(path).json()[0]["active"] is False
    assert api.delete(f"{path}/{schedule['id']}").status_code == 204
    assert api.get(path).json() == []
    assert api.delete(f"{path}/{schedule['id']}").status_code == 404
    assert api.get(f"deployments/{UNKNOWN}/schedules").status_code == 404


def test_runs_of_a_deployment_with_idempotency_keys(api, flow):
    deployment = api.post(
        "deployments/",
        json={
            "name": "d",
            "flow_id": flow["id"],
            "parameters": {"limit": 1},
            "parameter_openapi_schema": SCHEMA,
        },
    ).json()
    path = f"deployments/{deployment['id']}/create_flow_run"

    first = api.post(path, json={"parameters": {"day": "mon"}, "idempotency_key": "k1"})
    again = api.post(path, json={"parameters": {"day": "tue"}, "idempotency_key": "k1"})

    assert first.status_code == 201, first.text
    run = first.json()
    assert again.json()["id"] == run["id"]
    assert run["deployment_id"] == deployment["id"]
    assert run["parameters"] == {"day": "mon", "limit": 1}
    assert run["state"]["type"] == "SCHEDULED"
    assert run["idempotency_key"] == "k1"
    missing = api.post(path, json={})
    assert missing.status_code == 422
    assert "'day': missing" in missing.json()["detail"][0]["msg"]
    assert api.post(f"deployments/{UNKNOWN}/create_flow_run", json={}).status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"name": "a/b"}, 422, "holds no '/'"),
        ({"flow_id": UNKNOWN}, 404, "No flow with id"),
        ({"parameters": {"limit": "x"}}, 422, "'limit': expected integer"),
        ({"schedules": [{"schedule": {"cron": "every day"}}]}, 422, "cron"),
        (
            {"schedules": [{"schedule": {"interval": 60, "timezone": "Mars/Base"}}]},
            422,
            "Mars/Base",
        ),
        ({"schedules": [{"schedule": {"every": 60}}]}, 422, "exactly one of the keys"),
        ({"work_pool_name": "no-such-pool"}, 404, "legato work-pool create no-such-pool"),
        ({"concurrency_limit": 0}, 422, "concurrency_limit"),
    ],
    ids=["slash", "flow", "parameter", "cron", "zone", "kind", "pool", "limit"],
)
def test_bad_deployments_are_refused_with_the_reason(api, flow, change, status, words):
    body = {"name": "bad", "flow_id": flow["id"], "parameter_openapi_schema": SCHEMA, **change}

    response = api.post("deployments/", json=body)

    assert response.status_code == status, response.text
    assert words in response.text


def test_unknown_deployments_are_404_everywhere(api):
    for method, path in [
        ("GET", f"deployments/{UNKNOWN}"),
        ("PATCH", f"deployments/{UNKNOWN}"),
        ("DELETE", f"deployments/{UNKNOWN}"),
        ("POST", f"deployments/{UNKNOWN}/pause_deployment"),
        ("POST", f"deployments/{UNKNOWN}/resume_deployment"),
        ("PATCH", f"deployments/{UNKNOWN}/schedules/{UNKNOWN}"),
        ("DELETE", f"deployments/{UNKNOWN}/schedules/{UNKNOWN}"),
        ("GET", "deployments/name/no-flow/no-deployment"),
    ]:
        response = api.request(method, path, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
    assert api.get("deployments/not-a-uuid").status_code == 422
