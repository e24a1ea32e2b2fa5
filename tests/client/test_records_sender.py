"""The recorder's records sender (``http.client``) and the client the recorder holds for a server.

Failures are scripted with the loopback stub (``stub`` in conftest); what a
real server stores is checked against ``legato server start`` on SQLite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid

import pytest

from legato.client import _records_wire
from legato.client.errors import DataError, HttpError, RecordsRefused, ServerUnavailable
from legato.client.http import SyncHttpClient
from legato.client.records_sender import HttpRecordsSender, ServerRecordingClient
from legato.engine.recorder import _is_permanent
from legato.exceptions import ParameterError
from legato.storage.records import RecordBatch

FLOW_ID = "00000000-0000-4000-8000-0000000000f1"


def _batch(flow_name: str = "sent-flow", logs: int = 0) -> RecordBatch:
    return RecordBatch(
        flows=[(FLOW_ID, flow_name)],
        logs=[
            (f"{n:08d}-0000-4000-8000-000000000000", None, None, "n", 20, f"line {n}", 0.0)
            for n in range(logs)
        ],
    )


def fast_sender(url: str, **options: object) -> HttpRecordsSender:
    return HttpRecordsSender(url, retry_backoff_seconds=0.01, **options)  # type: ignore[arg-type]


def test_a_batch_is_one_post_to_records_batch(stub):
    script, url = stub
    sender = fast_sender(url)
    try:
        sender.record(_batch())
        sender.record(_batch())
    finally:
        sender.close()
    assert [(method, path) for method, path, _ in script.requests] == [
        ("POST", "/api/records/batch"),
        ("POST", "/api/records/batch"),
    ]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_busy_answers_are_retried(stub, status):
    script, url = stub
    script.script = [(status, {}, {"detail": "busy"}), (200, {}, None)]
    sender = fast_sender(url)
    sender.record(_batch())
    sender.close()
    assert len(script.requests) == 2


def test_retry_after_is_honoured(stub):
    script, url = stub
    script.script = [(503, {"Retry-After": "0.3"}, {"detail": "later"}), (200, {}, None)]
    sender = fast_sender(url)
    sender.record(_batch())
    sender.close()
    (_, _, first), (_, _, second) = script.requests
    assert second - first >= 0.3


def test_retries_are_bounded_and_the_error_names_url_status_and_detail(stub):
    script, url = stub
    script.script = [(503, {}, {"detail": "database down"})] * 10
    sender = fast_sender(url, max_retries=2)
    with pytest.raises(HttpError) as caught:
        sender.record(_batch())
    sender.close()
    assert len(script.requests) == 3
    assert caught.value.status_code == 503
    assert f"{url}/records/batch" in str(caught.value)
    assert "database down" in str(caught.value)
    assert not _is_permanent(caught.value)  # the recorder keeps the batch and tries again


@pytest.mark.parametrize("status", [413, 422])
def test_a_refused_batch_is_permanent_so_the_recorder_drops_it(stub, status):
    script, url = stub
    detail = [{"loc": ["body", "flows", 0], "msg": "not a uuid"}]
    script.script = [(status, {}, {"detail": detail})]
    sender = fast_sender(url)
    with pytest.raises(RecordsRefused) as caught:
        sender.record(_batch())
    sender.close()
    assert len(script.requests) == 1  # not retried
    assert isinstance(caught.value.__cause__, DataError)
    assert _is_permanent(caught.value)
    assert "body.flows.0: not a uuid" in str(caught.value)


def test_401_says_how_to_authenticate(stub):
    script, url = stub
    script.script = [(401, {}, {"detail": "Unauthorized"})]
    sender = fast_sender(url)
    with pytest.raises(HttpError, match="LEGATO_API_AUTH_STRING='user:password'"):
        sender.record(_batch())


def test_basic_auth_is_sent(stub):
    script, url = stub
    sender = fast_sender(url, auth_string="user:secret")
    sender.record(_batch())
    sender.close()
    assert script.headers[0]["Authorization"] == "Basic dXNlcjpzZWNyZXQ="


def test_bad_settings_are_refused_with_the_fix():
    with pytest.raises(ParameterError, match="http:// or https://"):
        HttpRecordsSender("127.0.0.1:4200/api")
    with pytest.raises(ParameterError, match="with a colon"):
        HttpRecordsSender("http://127.0.0.1:4200/api", auth_string="nocolon")


def test_an_unreachable_server_is_named_after_the_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"  # nothing listens once closed
    sender = fast_sender(url, max_retries=1)
    with pytest.raises(ServerUnavailable) as caught:
        sender.record(_batch())
    assert url in str(caught.value)
    assert "legato server start" in str(caught.value)
    assert not _is_permanent(caught.value)


def test_a_large_batch_is_split_in_order(stub, monkeypatch):
    script, url = stub
    monkeypatch.setattr(_records_wire, "ROWS_PER_RECORDS_REQUEST", 3)
    bodies = list(_records_wire.record_bodies(_batch(logs=4)))
    assert [sorted(json.loads(body)) for body in bodies] == [["flows", "logs"], ["logs"]]
    sender = fast_sender(url)
    sender.record(_batch(logs=4))
    sender.close()
    assert len(script.requests) == 2


def test_the_batch_lands_on_a_real_server(http_server):
    name = f"sent-{uuid.uuid4().hex[:8]}"
    flow_id = str(uuid.uuid4())
    client = ServerRecordingClient(http_server.api_url)
    try:
        client.record(RecordBatch(flows=[(flow_id, name)]))
        flow = client.read_flow(flow_id)  # through the full client, opened now
        assert flow.name == name
        assert isinstance(client.http_client, SyncHttpClient)
    finally:
        client.close()
    with pytest.raises(AttributeError):
        client._no_such_private_name  # noqa: B018


def test_a_flow_process_on_a_server_does_not_import_httpx(http_server, tmp_path):
    """The point of the sender: a run recorded to a server loads neither httpx nor the schemas."""
    script = tmp_path / "flow_on_server.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from legato import flow, task
            from legato.engine.recorder import flush_all

            @task
            def one() -> int:
                return 1

            @flow
            def on_server() -> int:
                return one() + one()

            assert on_server() == 2
            flush_all()
            loaded = sorted(
                name for name in sys.modules
                if name == "httpx" or name.startswith(("legato.client.schemas", "pydantic"))
            )
            print(",".join(loaded) or "nothing")
            """
        )
    )
    env = {**os.environ, "LEGATO_API_URL": http_server.api_url, "LEGATO_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nothing"
    with SyncHttpClient(http_server.api_url) as client:
        runs = client.read_flow_runs(flow_filter={"name": {"any_": ["on-server"]}})
    assert runs and runs[0].state.type.value == "COMPLETED"
