"""The expired-pauses service: a paused or suspended run whose pause timed out becomes Failed."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from legato.client.embedded import EmbeddedClient
from legato.client.http import SyncHttpClient
from legato.orchestration.store import Store
from legato.server.services import ExpiredPausesService, enabled_services
from legato.settings import load_settings
from legato.states import Paused, Pending, Running, Suspended
from legato.storage.engine import sqlite_url

NOW = dt.datetime.now(dt.UTC)


def _paused(client, state):
    run = client.create_flow_run("expiring", state=Pending())
    client.set_flow_run_state(run.id, Running())
    assert client.set_flow_run_state(run.id, state).status.value == "ACCEPT"
    return run.id


def _state(client, run_id):
    return client.read_flow_run(run_id).state


def test_suspensions_fail_at_their_timeout_and_pauses_after_the_grace(legato_home):
    path = legato_home / "legato.db"
    with EmbeddedClient(path) as client:
        later = NOW + dt.timedelta(minutes=10)
        suspended = _paused(client, Suspended(pause_expiration_time=later, pause_key="1"))
        blocking = _paused(client, Paused(pause_expiration_time=later, pause_key="1"))
        waiting = _paused(
            client, Paused(pause_expiration_time=later + dt.timedelta(hours=1), pause_key="1")
        )
        clock = [NOW]
        store = Store(sqlite_url(path))
        try:
            service = ExpiredPausesService(
                store, loop_seconds=5, grace_seconds=30, clock=lambda: clock[0]
            )
            assert asyncio.run(service.run_once()) == 0
            clock[0] = later + dt.timedelta(seconds=1)
            assert asyncio.run(service.run_once()) == 1  # the suspended one: no process left
            assert _state(client, blocking).type.value == "PAUSED"  # its process fails it
            clock[0] = later + dt.timedelta(seconds=31)
            assert asyncio.run(service.run_once()) == 1  # its process did not: it died
            assert asyncio.run(service.run_once()) == 0
        finally:
            store.close()
        for run_id in (suspended, blocking):
            state = _state(client, run_id)
            assert state.type.value == "FAILED"
            assert "not resumed in time" in state.message
        assert _state(client, waiting).type.value == "PAUSED"


def test_the_service_is_on_by_default(tmp_path):
    store = Store(sqlite_url(tmp_path / "unused.db"))
    try:
        services = enabled_services(store, load_settings())
    finally:
        store.close()
    [service] = [service for service in services if service.name == "expired-pauses"]
    assert isinstance(service, ExpiredPausesService)
    assert (service.interval_seconds, service.grace_seconds) == (5.0, 60.0)


def test_a_server_fails_a_suspended_run_whose_pause_timed_out(pause_server):
    with SyncHttpClient(pause_server.api_url) as client:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        run_id = _paused(client, Suspended(pause_expiration_time=past, pause_key="1"))
        deadline = time.monotonic() + 60
        while _state(client, run_id).type.value == "PAUSED":
            assert time.monotonic() < deadline, "the server did not fail the expired pause"
            time.sleep(0.1)
        state = _state(client, run_id)
    assert state.type.value == "FAILED"
    assert "not resumed in time" in state.message
