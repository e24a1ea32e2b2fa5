"""The three kinds of client a contract suite runs on, made in one place.

``embedded`` (a SQLite file), ``http`` (a server on SQLite) and
``http-postgresql`` (a server on PostgreSQL). A folder's conftest keeps its
own session servers and passes ``server_of`` (called only for the HTTP kinds).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from legato.client.async_embedded import AsyncEmbeddedClient
from legato.client.embedded import EmbeddedClient
from legato.client.http import AsyncHttpClient, SyncHttpClient

KINDS = ["embedded", "http", "http-postgresql"]


def sync_client(kind: str, database_path: Path, server_of: Callable[[], Any]) -> Any:
    """An open sync client of ``kind`` (use it as a context manager)."""
    if kind == "embedded":
        return EmbeddedClient(database_path)
    return SyncHttpClient(server_of().api_url)


def async_client_factory(
    kind: str, database_path: Path, server_of: Callable[[], Any]
) -> Callable[[], Any]:
    """Makes the async twin of ``sync_client`` (call it inside the test's event loop)."""
    if kind == "embedded":
        return lambda: AsyncEmbeddedClient(database_path)
    api_url = server_of().api_url
    return lambda: AsyncHttpClient(api_url)
