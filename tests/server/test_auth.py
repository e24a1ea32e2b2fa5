"""Basic auth: every route but /api/health refuses missing or wrong credentials."""

from __future__ import annotations

import re

import httpx
import pytest
from _server_process import AUTH_STRING

from legato.client.errors import HttpError
from legato.client.http import SyncHttpClient
from legato.server.auth import authorization_header

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def all_operations(spec: dict) -> list[tuple[str, str]]:
    operations = []
    for path, methods in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", UNKNOWN, path)
        operations += [(method.upper(), concrete) for method in methods]
    return operations


@pytest.fixture(scope="module")
def operations(auth_server) -> list[tuple[str, str]]:
    headers = {"Authorization": authorization_header(AUTH_STRING)}
    spec = httpx.get(f"{auth_server.api_url}/openapi.json", headers=headers).json()
    found = all_operations(spec)
    assert len(found) > 30
    return found


@pytest.mark.parametrize(
    "authorization",
    [None, authorization_header("admin:wrong"), "Bearer token", "Basic !!!not-base64"],
)
def test_every_route_refuses_bad_credentials(auth_server, operations, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client(base_url=auth_server.url, headers=headers) as client:
        for method, path in operations + [("GET", "/api/openapi.json"), ("GET", "/api/docs")]:
            response = client.request(method, path, json={})
            if path == "/api/health":
                assert response.status_code == 200
                continue
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"] == 'Basic realm="legato"'
            assert set(response.json()) == {"detail"}
            assert "LEGATO_API_AUTH_STRING" in response.json()["detail"]


def test_the_right_credentials_open_every_route(auth_server, operations):
    headers = {"Authorization": authorization_header(AUTH_STRING)}
    with httpx.Client(base_url=auth_server.url, headers=headers) as client:
        statuses = {
            client.request(method, path, json={}).status_code for method, path in operations
        }
    assert 401 not in statuses
    assert all(status < 500 for status in statuses)


def test_settings_route_masks_the_auth_string(auth_server):
    headers = {"Authorization": authorization_header(AUTH_STRING)}
    settings = httpx.get(f"{auth_server.api_url}/admin/settings", headers=headers).json()

    assert settings["LEGATO_SERVER_API_AUTH_STRING"] == "********"
    assert AUTH_STRING not in str(settings)


def test_client_with_and_without_credentials(auth_server):
    with SyncHttpClient(auth_server.api_url, auth_string=AUTH_STRING) as client:
        assert client.count_flow_runs() >= 0
        assert client.api_healthcheck() is None
    with (
        SyncHttpClient(auth_server.api_url, auth_string="admin:nope") as client,
        pytest.raises(HttpError, match="refused these credentials") as caught,
    ):
        client.count_flow_runs()
    assert caught.value.status_code == 401
    with SyncHttpClient(auth_server.api_url) as client, pytest.raises(HttpError, match="401"):
        client.read_flow_runs()
