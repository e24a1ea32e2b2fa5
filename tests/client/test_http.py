"""The HTTP client's failure handling, against a tiny stub server on loopback.

The stub (stdlib ``http.server`` in a thread) stands in for a legato server
only where a real one cannot be made to fail on cue: 503/429 answers,
Retry-After, and a port where nothing listens.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from legato.client import _records_wire
from legato.client.errors import HttpError, RecordsRefused, ServerUnavailable
from legato.client.http import AsyncHttpClient, SyncHttpClient
from legato.exceptions import ObjectNotFound
from legato.storage.records import RecordBatch

RUN_ID = "00000000-0000-4000-8000-000000000001"
FLOW_RUN = {"id": RUN_ID, "name": "stub-run", "flow_id": RUN_ID}


def fast_client(api_url: str, **options) -> SyncHttpClient:
    return SyncHttpClient(api_url, retry_backoff_seconds=0.01, **options)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retries_then_succeeds(stub, status):
    script, url = stub
    script.script = [
        (status, {}, {"detail": "busy"}),
        (status, {}, {"detail": "busy"}),
        (200, {}, FLOW_RUN),
    ]

    with fast_client(url) as client:
        run = client.read_flow_run(RUN_ID)

    assert run.name == "stub-run"
    assert len(script.requests) == 3


def test_retry_after_is_honoured(stub):
    script, url = stub
    script.script = [(503, {"Retry-After": "0.3"}, {"detail": "later"}), (200, {}, FLOW_RUN)]

    with fast_client(url) as client:
        client.read_flow_run(RUN_ID)

    (_, _, first), (_, _, second) = script.requests
    assert second - first >= 0.3


def test_retries_are_bounded_and_the_error_names_url_status_and_detail(stub):
    script, url = stub
    script.script = [(503, {}, {"detail": "database down"})] * 10

    with fast_client(url, max_retries=2) as client, pytest.raises(HttpError) as caught:
        client.read_flow_run(RUN_ID)

    assert len(script.requests) == 3
    assert caught.value.status_code == 503
    message = str(caught.value)
    assert f"{url}/flow_runs/{RUN_ID}" in message
    assert "503" in message and "database down" in message


def test_a_500_is_not_retried(stub):
    script, url = stub
    script.script = [(500, {}, {"detail": "boom"})]

    with fast_client(url) as client, pytest.raises(HttpError, match="500"):
        client.count_flow_runs()

    assert len(script.requests) == 1


def test_404_and_409_raise_the_embedded_clients_errors(stub):
    script, url = stub
    script.script = [
        (404, {}, {"detail": "No flow run with id 'x'."}),
        (409, {}, {"detail": "taken"}),
    ]

    with fast_client(url) as client:
        with pytest.raises(ObjectNotFound, match="No flow run with id"):
            client.read_flow_run(RUN_ID)
        with pytest.raises(Exception, match="taken") as caught:
            client.create_variable(name="v", value=1)
    assert type(caught.value).__name__ == "ObjectAlreadyExists"


def test_a_refused_batch_is_a_data_error_for_the_recorder(stub):
    script, url = stub
    script.script = [(422, {}, {"detail": [{"loc": ["body", "flow_runs", 0], "msg": "bad"}]})]
    batch = RecordBatch(flows=[(RUN_ID, "f")])

    with (
        fast_client(url) as client,
        pytest.raises(RecordsRefused, match="flow_runs.0: bad") as caught,
    ):
        client.record(batch)

    assert type(caught.value.__cause__).__name__ == "DataError"  # the recorder drops it


def test_an_unreachable_server_names_the_url_and_the_fix():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens
    url = f"http://127.0.0.1:{port}/api"

    with fast_client(url, max_retries=1) as client, pytest.raises(ServerUnavailable) as caught:
        client.read_flow_runs()

    assert url in str(caught.value)
    assert "legato server start" in str(caught.value)
    with fast_client(url) as client:
        assert isinstance(client.api_healthcheck(), ServerUnavailable)


def test_async_client_retries_too(stub):
    import asyncio

    script, url = stub
    script.script = [(503, {"Retry-After": "0"}, {}), (200, {}, FLOW_RUN)]

    async def read():
        async with AsyncHttpClient(url, retry_backoff_seconds=0.01) as client:
            return await client.read_flow_run(RUN_ID)

    assert asyncio.run(read()).name == "stub-run"
    assert len(script.requests) == 2


def test_a_large_batch_is_split_in_order(stub, monkeypatch):
    script, url = stub
    monkeypatch.setattr(_records_wire, "ROWS_PER_RECORDS_REQUEST", 3)
    batch = RecordBatch(
        flows=[(RUN_ID, "f")],
        logs=[
            (f"{n:08d}-0000-4000-8000-000000000000", None, None, "n", 20, "m", 0.0)
            for n in range(4)
        ],
    )
    bodies: list[dict] = []
    monkeypatch.setattr(
        httpx.Client, "send", _recording_send(httpx.Client.send, bodies), raising=True
    )

    with fast_client(url) as client:
        client.record(batch)

    assert [sorted(body) for body in bodies] == [["flows", "logs"], ["logs"]]
    assert [len(body.get("logs", [])) for body in bodies] == [2, 2]


def _recording_send(send, bodies):
    def recording(self, request, **kwargs):
        bodies.append(json.loads(request.content))
        return send(self, request, **kwargs)

    return recording
