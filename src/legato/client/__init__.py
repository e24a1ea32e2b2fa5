"""How the engine and users reach the store: ``get_client()``.

Until the HTTP client exists, every client is an ``EmbeddedClient`` on the
SQLite file of the current settings (``LEGATO_HOME/legato.db`` by default).
"""

from __future__ import annotations

from legato.client.base import Client, Row
from legato.client.embedded import EmbeddedClient

__all__ = ["Client", "EmbeddedClient", "Row", "get_client"]


def get_client(sync_client: bool = True) -> EmbeddedClient:
    """A client for the current settings' database; close it (or use ``with``).

    Only the synchronous client exists so far: ``sync_client=False`` raises
    NotImplementedError rather than hand out a client that cannot be awaited.
    """
    if not sync_client:
        raise NotImplementedError(
            "legato has no asynchronous client yet; use get_client(sync_client=True)."
        )
    # Settings load pydantic; importing them here keeps `legato.client` light.
    from legato.settings import get_current_settings

    return EmbeddedClient(get_current_settings().database_path)
