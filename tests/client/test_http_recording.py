"""Flows recorded through a server (LEGATO_API_URL set), and the CLI reading them back."""

from __future__ import annotations

import contextvars
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from legato import flow, task
from legato.client.http import SyncHttpClient
from legato.engine import recorder
from legato.server.app import create_app
from legato.server.run import ThreadedServer
from legato.settings import clear_settings_cache, get_current_settings, temporary_settings


class RequestCounter:
    """ASGI middleware: counts the requests the server received."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: Counter[tuple[str, str]] = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.requests[scope["method"], scope["path"]] += 1
        await self.app(scope, receive, send)


@pytest.fixture
def counted_server(legato_home) -> Iterator[tuple[RequestCounter, str]]:
    """A server in a thread on this test's LEGATO_HOME, counting requests; flows record to it."""
    settings = get_current_settings()
    counter = RequestCounter(create_app(settings))
    with (
        ThreadedServer(settings, app=counter) as server,
        temporary_settings({"LEGATO_API_URL": server.api_url}),
    ):
        try:
            yield counter, server.api_url
        finally:
            recorder.close_all()


@task
def square(x: int) -> int:
    return x * x


@flow
def thousand_squares(n: int = 1000) -> int:
    return sum(square(i) for i in range(n))


def test_a_1000_task_flow_records_in_a_few_requests(counted_server):
    counter, api_url = counted_server
    started = time.perf_counter()

    assert thousand_squares() == sum(i * i for i in range(1000))
    recorder.close_all()
    elapsed = time.perf_counter() - started

    total = sum(counter.requests.values())
    assert total < 50, counter.requests
    assert set(counter.requests) == {("POST", "/api/records/batch")}
    with SyncHttpClient(api_url) as client:
        (run,) = client.read_flow_runs(flow_name="thousand-squares")
        assert run.state_type == "COMPLETED"
        assert run.parameters == {"n": 1000}
        assert client.count_task_runs(flow_run_filter={"id": {"any_": [run.id]}}) == 1000
        assert client.read_logs(flow_run_id=run.id, limit=5)
    print(f"\n1,000-task flow over HTTP: {elapsed:.2f} s, {total} requests")


@task(persist_result=True)
def make_report() -> dict:
    return {"rows": 3}


@flow(persist_result=True)
def reporting() -> dict:
    return make_report()


def test_a_persisted_result_reads_back_through_the_server(counted_server):
    _, api_url = counted_server
    assert reporting() == {"rows": 3}
    recorder.close_all()

    with SyncHttpClient(api_url) as client:
        (run,) = client.read_flow_runs(flow_name="reporting")
        assert run.state is not None
        assert run.state.data is not None
        assert run.state.to_state().result() == {"rows": 3}
        (task_run,) = client.read_task_runs(flow_run_id=run.id)
        assert task_run.state is not None
        assert task_run.state.result() == {"rows": 3}


@flow
def chatty() -> None:
    from legato import get_run_logger

    for number in range(3):
        get_run_logger().info("step %d", number)
    square(2)


def invoke(*args: str):
    from legato.cli.app import app

    clear_settings_cache()
    return contextvars.Context().run(CliRunner().invoke, app, list(args))


def test_the_cli_reads_runs_from_the_server(counted_server, monkeypatch):
    _, api_url = counted_server
    chatty()
    recorder.close_all()
    monkeypatch.setenv("LEGATO_API_URL", api_url)
    monkeypatch.setenv("COLUMNS", "200")

    listing = invoke("flow-run", "ls", "--flow-name", "chatty", "-o", "json")
    assert listing.exit_code == 0, listing.output
    import json

    (row,) = json.loads(listing.stdout)
    assert row["flow_name"] == "chatty"
    assert row["state_type"] == "COMPLETED"

    inspected = invoke("flow-run", "inspect", row["id"], "-o", "json")
    assert json.loads(inspected.stdout)["task_run_count"] == 1

    logs = invoke("flow-run", "logs", row["id"], "--follow")
    assert logs.exit_code == 0, logs.output
    assert [f"step {n}" in logs.stdout for n in range(3)] == [True] * 3

    tasks = invoke("task-run", "ls", "--flow-run-id", row["id"], "-o", "json")
    assert [task_run["name"] for task_run in json.loads(tasks.stdout)] == ["square-0"]

    assert invoke("flow-run", "delete", row["id"]).exit_code == 0
    missing = invoke("flow-run", "inspect", row["id"])
    assert missing.exit_code == 1
    assert "not found" in missing.output
