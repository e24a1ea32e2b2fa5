"""The client the read commands use (imported inside commands: it loads storage)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legato.client.base import Client


@contextmanager
def open_client() -> Iterator[Client]:
    """A client for the current settings' store, closed afterwards."""
    from legato.client import get_client

    client = get_client(sync_client=True)
    try:
        yield client
    finally:
        client.close()
