"""The recorder's client when a server records: batches over ``http.client``, the rest lazily.

A flow process started by a worker (or any process with ``LEGATO_API_URL``
set) mostly sends one kind of request: the recorder's ``POST
/records/batch``. ``HttpRecordsSender`` sends those with the standard
library's ``http.client`` (one keep-alive connection), so such a process
does not import httpx and the client schemas (about 0.25 s of start-up
together) unless it reads something. ``ServerRecordingClient`` is what the
recorder holds: ``record`` goes through the sender, and every other client
method through a ``SyncHttpClient`` opened on first use.

The sender follows the HTTP client's policy (``legato.client._http_policy``): 429,
502, 503 and 504 answers and failed connections are retried with back-off
(a batch is idempotent, so resending one is safe), a server that cannot be
reached raises ``ServerUnavailable``, and a batch the server refuses as data
(422, 413) raises ``RecordsRefused`` whose cause is a ``DataError``, which
the recorder drops rather than retrying forever.
"""

from __future__ import annotations

import base64
import http.client
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from legato.client._http_policy import (
    RETRY_STATUSES,
    backoff_delay,
    basic_auth,
    unauthorized_message,
    unreachable_message,
)
from legato.client._records_wire import RECORDS_PATH, record_bodies
from legato.client.errors import (
    DataError,
    HttpError,
    RecordsRefused,
    ServerUnavailable,
    error_detail,
)
from legato.exceptions import ParameterError
from legato.storage.records import RecordBatch

if TYPE_CHECKING:
    from legato.client.http import SyncHttpClient

__all__ = ["HttpRecordsSender", "ServerRecordingClient"]

_TIMEOUT_SECONDS = 30.0
_REFUSED = frozenset({413, 422})


class HttpRecordsSender:
    """Sends recorder batches to ``{api_url}/records/batch`` on one keep-alive connection."""

    def __init__(
        self,
        api_url: str,
        *,
        auth_string: str | None = None,
        max_retries: int = 5,
        retry_backoff_seconds: float = 0.25,
        retry_jitter_factor: float = 0.2,
        timeout_seconds: float = _TIMEOUT_SECONDS,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        parts = urlsplit(self.api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ParameterError(
                f"LEGATO_API_URL must be an http:// or https:// URL such as "
                f"http://127.0.0.1:4200/api; got {api_url!r}."
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/") + RECORDS_PATH
        self._headers = {"Content-Type": "application/json", "User-Agent": "legato-client"}
        credentials = basic_auth(auth_string)
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._has_auth = credentials is not None
        self._max_retries = max(0, max_retries)
        self._backoff = retry_backoff_seconds
        self._jitter = retry_jitter_factor
        self._timeout = timeout_seconds
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HttpRecordsSender({self.api_url!r})"

    def record(self, batch: RecordBatch) -> None:
        """Send ``batch`` (in order, split when very large); raises as described in the module doc."""
        with self._lock:
            for body in record_bodies(batch):
                self._send(body)

    def close(self) -> None:
        """Close the connection; idempotent (a later ``record`` opens a new one)."""
        with self._lock:
            self._drop_connection()

    def _send(self, body: bytes) -> None:
        attempts = 1 + self._max_retries
        for attempt in range(1, attempts + 1):
            try:
                status, reason, retry_after, payload = self._post(body)
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                if attempt == attempts:
                    raise ServerUnavailable(
                        unreachable_message(self.api_url, exc), url=self.api_url
                    ) from exc
                time.sleep(backoff_delay(attempt, self._backoff, self._jitter, None))
                continue
            if 200 <= status < 300:
                return
            if status in RETRY_STATUSES and attempt < attempts:
                time.sleep(backoff_delay(attempt, self._backoff, self._jitter, retry_after))
                continue
            raise self._error(status, reason, payload)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self, body: bytes) -> tuple[int, str, str | None, bytes]:
        connection = self._connection or self._connect()
        connection.request("POST", self._path, body=body, headers=self._headers)
        response = connection.getresponse()
        payload = response.read()
        if response.will_close:
            self._drop_connection()
        return response.status, response.reason, response.getheader("Retry-After"), payload

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            import ssl

            self._connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        else:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _error(self, status: int, reason: str, payload: bytes) -> HttpError:
        url = self.api_url + RECORDS_PATH
        detail = error_detail(payload, reason)
        where = f"POST {url}"
        if status in _REFUSED:
            refused = RecordsRefused(
                f"The server refused a batch of run records ({where}, {status}): {detail}",
                url=url,
                status_code=status,
                detail=detail,
            )
            refused.__cause__ = DataError(str(detail))
            return refused
        if status == 401:
            return HttpError(unauthorized_message(where, self._has_auth), url, status, detail)
        return HttpError(f"{where} failed with {status} {reason}: {detail}", url, status, detail)


class ServerRecordingClient:
    """The recorder's client for a server: ``record`` through ``HttpRecordsSender``, every
    other ``SyncHttpClient`` method through one opened on first use."""

    def __init__(self, api_url: str, *, auth_string: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._auth_string = auth_string
        self._sender = HttpRecordsSender(api_url, auth_string=auth_string)
        self._full: SyncHttpClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ServerRecordingClient({self.api_url!r})"

    def record(self, batch: RecordBatch) -> None:
        """Write one batch of runs, states and logs (one request unless very large)."""
        self._sender.record(batch)

    @property
    def http_client(self) -> SyncHttpClient:
        """The full HTTP client (httpx), opened on first use."""
        if self._full is None:
            with self._lock:
                if self._full is None:
                    from legato.client.http import SyncHttpClient

                    self._full = SyncHttpClient(self.api_url, auth_string=self._auth_string)
        return self._full

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.http_client, name)

    def close(self) -> None:
        """Close the sender's connection and the full client if it was opened."""
        self._sender.close()
        with self._lock:
            full, self._full = self._full, None
        if full is not None:
            full.close()
