"""``get_scheduled_flow_runs_for_work_pool(wait_seconds=)``: a poll that waits for a run, on every client."""

from __future__ import annotations

import datetime as dt
import threading
import time

import httpx
import pytest

from legato.client.schemas.actions import WorkPoolCreate
from legato.exceptions import ParameterError
from legato.states import Scheduled


def _scheduled_soon(client, flow, pool):
    now = dt.datetime.now(dt.UTC)
    return client.create_flow_run(flow, state=Scheduled(scheduled_time=now), work_pool_name=pool)


def test_a_waiting_poll_answers_as_soon_as_a_run_is_scheduled(client, second_client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    made: list = []
    creator = threading.Timer(0.3, lambda: made.append(_scheduled_soon(second_client, flow, pool)))
    started = time.monotonic()
    creator.start()
    try:
        found = client.get_scheduled_flow_runs_for_work_pool(pool, wait_seconds=20)
    finally:
        creator.join(timeout=30)
    waited = time.monotonic() - started
    assert [item.flow_run.id for item in found] == [made[0].id]
    assert waited < 15  # answered when the run appeared, not at the end of the wait


def test_an_idle_poll_waits_then_answers_nothing(client, unique):
    pool = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=pool))
    started = time.monotonic()
    assert client.get_scheduled_flow_runs_for_work_pool(pool, wait_seconds=0.5) == []
    assert time.monotonic() - started >= 0.45


def test_a_ready_run_is_answered_without_waiting(client, unique):
    pool, flow = unique("pool"), unique("flow")
    client.create_work_pool(WorkPoolCreate(name=pool))
    run = _scheduled_soon(client, flow, pool)
    started = time.monotonic()
    found = client.get_scheduled_flow_runs_for_work_pool(pool, wait_seconds=20)
    assert [item.flow_run.id for item in found] == [run.id]
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("wait", [-1, 25.5])
def test_the_wait_is_bounded(client, unique, wait):
    pool = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=pool))
    with pytest.raises(ParameterError, match="0 to 25 seconds"):
        client.get_scheduled_flow_runs_for_work_pool(pool, wait_seconds=wait)


def test_the_server_refuses_a_wait_out_of_range(server, client, unique):
    pool = unique("pool")
    client.create_work_pool(WorkPoolCreate(name=pool))
    answer = httpx.post(
        f"{server.api_url}/work_pools/{pool}/get_scheduled_flow_runs", json={"wait_seconds": 60}
    )
    assert answer.status_code == 422
    assert "wait_seconds" in answer.text


def test_waiting_polls_do_not_wake_each_other(legato_home, monkeypatch):
    """A poll is a write (it marks the queues polled), but not one that wakes another poll:
    two polls waiting side by side look at the database a few times each, not in a loop."""
    from legato.client.http import SyncHttpClient
    from legato.orchestration import work_pool_runs
    from legato.server.app import create_app
    from legato.server.run import ThreadedServer
    from legato.settings import get_current_settings

    queries = 0
    real = work_pool_runs.get_scheduled_flow_runs

    def counted(*args, **kwargs):
        nonlocal queries
        queries += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(work_pool_runs, "get_scheduled_flow_runs", counted)
    settings = get_current_settings()
    with ThreadedServer(settings, app=create_app(settings)) as server:
        with SyncHttpClient(server.api_url) as client:
            client.create_work_pool(WorkPoolCreate(name="quiet-pool"))
        waited: list[float] = []

        def poll() -> None:
            with SyncHttpClient(server.api_url) as client:
                started = time.monotonic()
                client.get_scheduled_flow_runs_for_work_pool("quiet-pool", wait_seconds=2.0)
                waited.append(time.monotonic() - started)

        threads = [threading.Thread(target=poll) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(waited) == 2 and min(waited) >= 1.9
    assert queries <= 8  # each poll: its first look and one a second (a storm would be ~100s)
