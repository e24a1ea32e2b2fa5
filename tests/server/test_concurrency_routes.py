"""/api/v2/concurrency_limits and /api/concurrency_limits on a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def name() -> str:
    return f"route-{uuid.uuid4().hex[:12]}"


def errors(response):
    """The (field, message) pairs of a 422 answer."""
    assert response.status_code == 422, response.text
    return [(item["loc"][-1], item["msg"]) for item in response.json()["detail"]]


def test_create_read_update_delete(api, name):
    created = api.post("v2/concurrency_limits/", json={"name": name, "limit": 2})
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["limit"], body["active"], body["active_slots"]) == (name, 2, True, 0)

    assert api.get(f"v2/concurrency_limits/{name}").json()["id"] == body["id"]
    patched = api.patch(f"v2/concurrency_limits/{name}", json={"limit": 4, "active": False})
    assert patched.status_code == 204
    read = api.get(f"v2/concurrency_limits/{name}").json()
    assert (read["limit"], read["active"]) == (4, False)
    listed = api.post("v2/concurrency_limits/filter", json={"limit": 200}).json()
    assert name in [row["name"] for row in listed]

    assert api.delete(f"v2/concurrency_limits/{name}").status_code == 204
    assert api.get(f"v2/concurrency_limits/{name}").status_code == 404
    assert api.delete(f"v2/concurrency_limits/{name}").status_code == 404
    assert api.patch(f"v2/concurrency_limits/{name}", json={"limit": 1}).status_code == 404


def test_a_taken_name_is_a_conflict(api, name):
    api.post("v2/concurrency_limits/", json={"name": name, "limit": 1})

    again = api.post("v2/concurrency_limits/", json={"name": name, "limit": 1})

    assert again.status_code == 409
    assert "exists already" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": -5}, "limit", "greater than or equal to 1"),
        ({"limit": 2.5}, "limit", "valid integer"),
        ({"limit": "3"}, "limit", "valid integer"),
        ({"limit": 1, "slot_decay_per_second": -1}, "slot_decay_per_second", "greater than"),
    ],
    ids=["zero", "negative", "fraction", "text", "negative-decay"],
)
def test_bad_bodies_are_422_naming_the_field(api, name, body, field, reason):
    response = api.post("v2/concurrency_limits/", json={"name": name, **body})

    [(named, message)] = errors(response)
    assert named == field and reason in message


def test_a_bad_name_is_422_naming_the_rule(api, name):
    response = api.post("v2/concurrency_limits/", json={"name": f"{name}&x", "limit": 1})

    [(_, message)] = errors(response)
    assert "may not hold" in message


def test_acquire_renew_release(api, name):
    api.post("v2/concurrency_limits/", json={"name": name, "limit": 1})
    body = {"names": [name], "slots": 1, "holder": {"pid": 7}, "lease_duration_seconds": 30}

    granted = api.post("v2/concurrency_limits/acquire", json=body).json()
    refused = api.post("v2/concurrency_limits/acquire", json=body).json()

    assert granted["granted"] is True and granted["limits"][0]["active_slots"] == 1
    assert (refused["granted"], refused["refused_by"], refused["lease_id"]) == (False, name, None)
    lease = granted["lease_id"]
    [listed] = api.get("v2/concurrency_limits/leases", params={"name": name}).json()
    assert (listed["id"], listed["holder"], listed["limit_names"]) == (lease, {"pid": 7}, [name])
    renewed = api.post(f"v2/concurrency_limits/leases/{lease}/renew", json={})
    assert renewed.status_code == 204
    assert api.delete(f"v2/concurrency_limits/leases/{lease}").status_code == 204
    assert api.delete(f"v2/concurrency_limits/leases/{lease}").status_code == 204  # idempotent
    gone = api.post(f"v2/concurrency_limits/leases/{lease}/renew", json={})
    assert gone.status_code == 404 and "expired" in gone.json()["detail"]
    assert api.post(f"v2/concurrency_limits/leases/{UNKNOWN}/renew").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"names": [], "slots": 1}, "names"),
        ({"names": ["x"], "slots": 0}, "slots"),
        ({"names": ["x"], "slots": 1, "mode": "burst"}, "mode"),
        ({"names": ["x"], "slots": 1, "lease_duration_seconds": 0}, "lease_duration_seconds"),
        ({"names": ["x"], "slots": 1, "extra": 1}, "extra"),
    ],
    ids=["no-names", "zero-slots", "bad-mode", "zero-lease", "unknown-field"],
)
def test_bad_acquire_bodies_are_422(api, body, field):
    assert field in [
        named for named, _ in errors(api.post("v2/concurrency_limits/acquire", json=body))
    ]


def test_occupying_more_than_the_limit_is_422(api, name):
    api.post("v2/concurrency_limits/", json={"name": name, "limit": 2})

    response = api.post("v2/concurrency_limits/acquire", json={"names": [name], "slots": 3})

    [(_, message)] = errors(response)
    assert "would wait forever" in message


def test_tag_limits(api, name):
    created = api.post("concurrency_limits/", json={"tag": name, "concurrency_limit": 2})
    changed = api.post("concurrency_limits/", json={"tag": name, "concurrency_limit": 3})

    assert (created.status_code, changed.status_code) == (201, 200)
    assert created.json()["id"] == changed.json()["id"]
    read = api.get(f"concurrency_limits/tag/{name}").json()
    assert (read["tag"], read["concurrency_limit"], read["active_slots"]) == (name, 3, [])
    assert api.get(f"v2/concurrency_limits/tag:{name}").json()["limit"] == 3
    listed = api.post("concurrency_limits/filter", json={"limit": 200}).json()
    assert name in [row["tag"] for row in listed]

    api.post("v2/concurrency_limits/acquire", json={"names": [f"tag:{name}"], "slots": 3})
    assert api.post(f"concurrency_limits/tag/{name}/reset").status_code == 204
    assert api.get(f"v2/concurrency_limits/tag:{name}").json()["active_slots"] == 0
    assert api.delete(f"concurrency_limits/tag/{name}").status_code == 204
    for response in (
        api.get(f"concurrency_limits/tag/{name}"),
        api.post(f"concurrency_limits/tag/{name}/reset"),
        api.delete(f"concurrency_limits/tag/{name}"),
    ):
        assert response.status_code == 404


def test_the_lease_list_route_is_not_a_limit_name(api):
    assert api.get("v2/concurrency_limits/leases").status_code == 200
    response = api.post("v2/concurrency_limits/", json={"name": "leases", "limit": 1})
    [(_, message)] = errors(response)
    assert "reserved" in message
