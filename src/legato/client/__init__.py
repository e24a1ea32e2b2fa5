"""How the engine and users reach the store: ``get_client()``.

- ``LEGATO_API_URL`` unset (the default): the **embedded** client, straight
  on the SQLite file of the current settings (``LEGATO_HOME/legato.db``).
- ``LEGATO_API_URL`` set: the **HTTP** client of that legato server.

``get_client()`` gives the asynchronous client (``async with get_client() as
client:``), ``get_client(sync_client=True)`` the synchronous one, as in
Prefect 3. The HTTP clients (and httpx) are imported only when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from legato.client.base import AsyncClient, Client, Row

if TYPE_CHECKING:
    from legato.client.async_embedded import AsyncEmbeddedClient
    from legato.client.embedded import EmbeddedClient
    from legato.client.http import AsyncHttpClient, SyncHttpClient

__all__ = ["AsyncClient", "Client", "EmbeddedClient", "Row", "get_client"]


@overload
def get_client(
    httpx_settings: Mapping[str, Any] | None = None, *, sync_client: Literal[True]
) -> EmbeddedClient | SyncHttpClient: ...


@overload
def get_client(
    httpx_settings: Mapping[str, Any] | None = None, *, sync_client: Literal[False] = False
) -> AsyncEmbeddedClient | AsyncHttpClient: ...


def get_client(
    httpx_settings: Mapping[str, Any] | None = None, *, sync_client: bool = False
) -> EmbeddedClient | SyncHttpClient | AsyncEmbeddedClient | AsyncHttpClient:
    """A client for the current settings; close it, or use it as a (async) context manager.

    ``httpx_settings`` are extra ``httpx.Client`` arguments for the HTTP
    clients (ignored by the embedded ones).
    """
    from legato.settings import get_current_settings  # pydantic-free, but not free

    settings = get_current_settings()
    api_url = settings.api.url
    if api_url:
        from legato.client.http import AsyncHttpClient, SyncHttpClient

        http_client = SyncHttpClient if sync_client else AsyncHttpClient
        return http_client(
            api_url, auth_string=settings.api.auth_string, httpx_settings=httpx_settings
        )
    if sync_client:
        from legato.client.embedded import EmbeddedClient

        return EmbeddedClient(settings.database_path)
    from legato.client.async_embedded import AsyncEmbeddedClient

    return AsyncEmbeddedClient(settings.database_path)


def __getattr__(name: str) -> Any:
    # EmbeddedClient loads on first use: a process that records to a server never needs it.
    if name == "EmbeddedClient":
        from legato.client.embedded import EmbeddedClient

        return EmbeddedClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
