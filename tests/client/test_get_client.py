"""get_client(), the recorder's client, and the test harness."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from legato import flow, task
from legato.client import AsyncClient, Client, get_client
from legato.client.async_embedded import AsyncEmbeddedClient
from legato.client.embedded import EmbeddedClient
from legato.client.http import AsyncHttpClient, SyncHttpClient
from legato.client.records_sender import ServerRecordingClient
from legato.engine import recorder
from legato.settings import get_current_settings, temporary_settings
from legato.testing.utilities import legato_test_harness, prefect_test_harness


def test_get_client_picks_the_home_from_the_settings(tmp_path):
    with temporary_settings({"LEGATO_HOME": str(tmp_path / "h")}):
        with get_client(sync_client=True) as client:
            assert isinstance(client, EmbeddedClient)
            assert isinstance(client, Client)
            assert client.database_path == tmp_path / "h" / "legato.db"

        async def use():
            async with get_client() as client:
                assert isinstance(client, AsyncEmbeddedClient)
                assert isinstance(client, AsyncClient)
                return await client.count_flow_runs()

        assert asyncio.run(use()) == 0


def test_get_client_is_http_when_an_api_url_is_set(http_server):
    with temporary_settings({"LEGATO_API_URL": http_server.api_url}):
        with get_client(sync_client=True) as client:
            assert isinstance(client, SyncHttpClient)
            assert isinstance(client, Client)
            assert client.api_healthcheck() is None

        async def use():
            async with get_client() as client:
                assert isinstance(client, AsyncHttpClient)
                return await client.api_healthcheck()

        assert asyncio.run(use()) is None


def test_the_recorder_follows_the_api_url(http_server, tmp_path):
    with temporary_settings({"LEGATO_API_URL": http_server.api_url}):
        client = recorder.get_recorder().client
        assert isinstance(client, ServerRecordingClient)
        assert client.api_url == http_server.api_url.rstrip("/")
        assert client.api_healthcheck() is None  # other methods: the full HTTP client
        assert isinstance(client.http_client, SyncHttpClient)
    assert isinstance(recorder.get_recorder().client, EmbeddedClient)


@task
def double(x: int) -> int:
    return 2 * x


@flow
def doubled(n: int = 3) -> list[int]:
    return [double(i) for i in range(n)]


@pytest.mark.parametrize("server", [False, True])
def test_harness_runs_flows_in_a_throwaway_home(server):
    outer_home = get_current_settings().home
    started = time.perf_counter()

    with legato_test_harness(server=server):
        elapsed = time.perf_counter() - started
        home = get_current_settings().home
        assert home != outer_home
        assert os.environ["LEGATO_HOME"] == str(home)
        assert bool(get_current_settings().api.url) is server
        assert doubled() == [0, 2, 4]
        with get_client(sync_client=True) as client:
            assert isinstance(client, SyncHttpClient if server else EmbeddedClient)
            (run,) = client.read_flow_runs(flow_name="doubled")
            assert client.count_task_runs(flow_run_filter={"id": {"any_": [run.id]}}) == 3

    assert elapsed < 5
    assert not home.exists()
    assert get_current_settings().home == outer_home
    assert os.environ.get("LEGATO_API_URL") is None


def test_prefect_name_is_the_same_harness():
    assert prefect_test_harness is legato_test_harness
