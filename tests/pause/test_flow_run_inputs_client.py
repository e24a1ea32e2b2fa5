"""Flow run inputs and resume_flow_run: one contract on the embedded client and the HTTP
client (SQLite and PostgreSQL servers), and the REST statuses of the routes."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from legato.exceptions import NotPausedError, ObjectAlreadyExists, ObjectNotFound, ParameterError
from legato.states import Paused, Pending, Running, Suspended

MISSING = "01a20000-0000-7000-8000-000000000000"
SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}, "note": {"type": "string"}},
    "required": ["approved"],
    "additionalProperties": False,
}
KEYSET = {
    "description": "paused-1-description",
    "response": "paused-1-response",
    "schema": "paused-1-schema",
}


def _running(client):
    run = client.create_flow_run("input-contract", state=Pending())
    client.set_flow_run_state(run.id, Running())
    return run.id


def _paused(client, *, keyset=None, suspended=False, timeout_seconds=60):
    run_id = _running(client)
    make = Suspended if suspended else Paused
    state = make(timeout_seconds=timeout_seconds, pause_key="1")
    if keyset is not None:
        client.create_flow_run_input(run_id, keyset["schema"], SCHEMA)
        state.state_details.run_input_keyset = keyset
    assert client.set_flow_run_state(run_id, state).status.value == "ACCEPT"
    return run_id


@pytest.mark.parametrize("value", [{"a": [1, 2]}, [1, "two"], "text", 3.5, None])
def test_an_input_is_stored_and_read_back_as_json(store_client, value):
    run_id = _running(store_client)

    store_client.create_flow_run_input(run_id, "greeting", value, sender="tests")

    assert store_client.read_flow_run_input(run_id, "greeting") == value


def test_inputs_are_unique_per_run_and_key_and_can_be_deleted(store_client):
    run_id = _running(store_client)
    store_client.create_flow_run_input(run_id, "answer", 42)
    with pytest.raises(ObjectAlreadyExists):
        store_client.create_flow_run_input(run_id, "answer", 43)
    other = _running(store_client)
    store_client.create_flow_run_input(other, "answer", 7)  # another run: its own key

    store_client.delete_flow_run_input(run_id, "answer")

    with pytest.raises(ObjectNotFound, match="no input under key 'answer'"):
        store_client.read_flow_run_input(run_id, "answer")
    with pytest.raises(ObjectNotFound):
        store_client.delete_flow_run_input(run_id, "answer")
    assert store_client.read_flow_run_input(other, "answer") == 7


def test_bad_keys_and_unknown_runs_are_refused(store_client):
    run_id = _running(store_client)
    with pytest.raises(ParameterError, match="key 'a b' is not valid"):
        store_client.create_flow_run_input(run_id, "a b", 1)
    with pytest.raises(ObjectNotFound):
        store_client.create_flow_run_input(MISSING, "answer", 1)
    with pytest.raises(ObjectNotFound):
        store_client.read_flow_run_input("not-an-id", "answer")


def test_deleting_a_run_deletes_its_inputs_and_pause_details(store_client):
    run_id = _paused(store_client, keyset=KEYSET)
    store_client.delete_flow_run(run_id)
    with pytest.raises(ObjectNotFound):
        store_client.read_flow_run_input(run_id, KEYSET["schema"])


def test_resume_checks_the_input_and_stores_it(store_client):
    run_id = _paused(store_client, keyset=KEYSET)
    with pytest.raises(ParameterError, match="approved"):
        store_client.resume_flow_run(run_id, {"approved": "yes"})
    with pytest.raises(ParameterError, match="'approved' is a required property"):
        store_client.resume_flow_run(run_id)
    with pytest.raises(ParameterError, match="extra"):
        store_client.resume_flow_run(run_id, {"approved": True, "extra": 1})
    assert store_client.read_flow_run(run_id).state.type.value == "PAUSED"

    result = store_client.resume_flow_run(run_id, {"approved": True, "note": "ok"})

    assert (result.status.value, result.state.type.value) == ("ACCEPT", "RUNNING")
    answer = store_client.read_flow_run_input(run_id, KEYSET["response"])
    assert answer == {"approved": True, "note": "ok"}


def test_a_paused_run_keeps_its_pause_details(store_client):
    run_id = _paused(store_client, keyset=KEYSET, suspended=True)

    state = store_client.read_flow_run(run_id).state
    history = store_client.read_flow_run_states(run_id)

    for details in (state.state_details, history[-1].state_details):
        assert details.pause_key == "1"
        assert details.pause_reschedule is True
        assert details.run_input_keyset == KEYSET
        assert details.pause_timeout > dt.datetime.now(dt.UTC)


def test_a_suspended_run_is_rescheduled_when_resumed(store_client):
    run_id = _paused(store_client, suspended=True)

    result = store_client.resume_flow_run(run_id)

    assert (result.state.type.value, result.state.name) == ("SCHEDULED", "Resuming")


def test_only_a_paused_run_can_be_resumed(store_client):
    run_id = _running(store_client)
    with pytest.raises(NotPausedError, match="not paused"):
        store_client.resume_flow_run(run_id)
    with pytest.raises(ObjectNotFound):
        store_client.resume_flow_run(MISSING)
    waiting = _paused(store_client)
    with pytest.raises(ParameterError, match="is not waiting for input"):
        store_client.resume_flow_run(waiting, {"approved": True})
    assert store_client.read_flow_run(waiting).state.type.value == "PAUSED"


def test_a_pause_past_its_timeout_fails_instead_of_resuming(store_client):
    run_id = _running(store_client)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    store_client.set_flow_run_state(run_id, Paused(pause_expiration_time=past, pause_key="1"))

    result = store_client.resume_flow_run(run_id)

    assert result.status.value == "REJECT"
    assert result.state.type.value == "FAILED"
    assert "not resumed in time" in result.details.reason
    assert store_client.read_flow_run(run_id).state.type.value == "FAILED"


def test_the_routes_answer_with_their_statuses(pause_server):
    from legato.client.http import SyncHttpClient

    with SyncHttpClient(pause_server.api_url) as client:
        run_id = _paused(client, keyset=KEYSET)
        running = _running(client)
    base = f"{pause_server.api_url}/flow_runs"
    with httpx.Client(timeout=30) as http:
        bad = http.post(f"{base}/{run_id}/resume", json={"run_input": {"approved": 3}})
        assert bad.status_code == 422
        assert "approved" in bad.json()["detail"][0]["msg"]
        assert http.post(f"{base}/{running}/resume", json={}).status_code == 409
        assert http.post(f"{base}/{MISSING}/resume", json={}).status_code == 404
        assert http.get(f"{base}/{run_id}/input/paused-1-schema").json()["value"] == SCHEMA
        assert http.get(f"{base}/{run_id}/input/nothing").status_code == 404
        body = {"key": "paused-1-schema", "value": 1}
        assert http.post(f"{base}/{run_id}/input", json=body).status_code == 409
        ok = http.post(f"{base}/{run_id}/resume", json={"run_input": {"approved": False}})
        assert ok.status_code == 201
        assert ok.json()["state"]["type"] == "RUNNING"
        assert http.post(f"{base}/{running}/cancel").json()["state"]["type"] == "CANCELLING"
        assert http.delete(f"{base}/{run_id}/input/paused-1-schema").status_code == 204


@pytest.mark.parametrize("kind", ["embedded", "http"])
def test_the_async_clients_have_the_same_methods(kind, legato_home, pause_server):
    import asyncio

    from legato.client.async_embedded import AsyncEmbeddedClient
    from legato.client.embedded import EmbeddedClient
    from legato.client.http import AsyncHttpClient, SyncHttpClient

    if kind == "embedded":
        sync_client = EmbeddedClient(legato_home / "legato.db")
        make = lambda: AsyncEmbeddedClient(legato_home / "legato.db")  # noqa: E731
    else:
        sync_client = SyncHttpClient(pause_server.api_url)
        make = lambda: AsyncHttpClient(pause_server.api_url)  # noqa: E731
    with sync_client:
        paused = _paused(sync_client, keyset=KEYSET)
        running = _running(sync_client)

    async def scenario():
        async with make() as client:
            await client.create_flow_run_input(running, "note", {"n": 1})
            note = await client.read_flow_run_input(running, "note")
            await client.delete_flow_run_input(running, "note")
            with pytest.raises(NotPausedError):
                await client.resume_flow_run(running)
            resumed = await client.resume_flow_run(paused, {"approved": True})
            cancelled = await client.cancel_flow_run(running)
            return note, resumed.state.type.value, cancelled.state.type.value

    assert asyncio.run(scenario()) == ({"n": 1}, "RUNNING", "CANCELLING")
