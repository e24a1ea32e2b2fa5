"""Errors of the HTTP client, each naming the URL, the status and the server's detail.

    LegatoError
    ├── ServerUnavailable     no answer from the server (after the retries)
    └── HttpError             an answer that is an error (``status_code``, ``url``, ``detail``)
        └── RecordsRefused    the server refused a recorder batch as data (422/413)

404, 409 and 422 answers raise ``ObjectNotFound``, ``ObjectAlreadyExists``
and ``ParameterError`` instead (from ``legato.exceptions``), the same errors
the embedded client raises, with the server's detail as the message.
"""

from __future__ import annotations

import json
from typing import Any

from legato.exceptions import LegatoError, ServerUnavailable

__all__ = ["DataError", "HttpError", "RecordsRefused", "ServerUnavailable", "error_detail"]


def error_detail(body: bytes, reason: str) -> Any:
    """What an error answer says: its JSON ``detail`` (FastAPI's validation errors as
    ``field: reason`` pairs), else its body, else the status's ``reason`` phrase."""
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body[:500].decode(errors="replace") or reason
    if isinstance(parsed, dict) and "detail" in parsed:
        detail = parsed["detail"]
        if isinstance(detail, list):
            return "; ".join(
                f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg')}"
                for item in detail
                if isinstance(item, dict)
            )
        return detail
    return parsed


class HttpError(LegatoError):
    """The server answered with an error status."""

    def __init__(self, message: str, url: str, status_code: int, detail: object) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code
        self.detail = detail


class DataError(ValueError):
    """The cause of a ``RecordsRefused``: the batch itself is wrong, not the connection.

    Named like the DB-API's ``DataError`` on purpose: the recorder drops a
    batch whose error chain holds one (retrying it would fail again and block
    every later batch) and keeps retrying any other failure.
    """


class RecordsRefused(HttpError):
    """The server refused a recorder batch (bad rows, or too many): retrying cannot help."""
