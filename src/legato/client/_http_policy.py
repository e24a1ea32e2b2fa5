"""What the HTTP clients and the records sender share: retries, credentials, messages.

Standard library only: the flow process's records sender imports it without httpx.
"""

from __future__ import annotations

import email.utils
import random
import time

from legato.exceptions import ParameterError

__all__ = [
    "MAX_RETRY_AFTER_SECONDS",
    "RETRY_STATUSES",
    "backoff_delay",
    "basic_auth",
    "retry_after_seconds",
    "unauthorized_message",
    "unreachable_message",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses that mean "busy or restarting": the request is sent again."""
MAX_RETRY_AFTER_SECONDS = 60.0


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header as seconds from now (seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, backoff: float, jitter: float, retry_after: str | None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: Retry-After, else back-off with jitter."""
    seconds = retry_after_seconds(retry_after)
    if seconds is not None:
        return min(seconds, MAX_RETRY_AFTER_SECONDS)
    base: float = min(backoff * 2 ** (attempt - 1), 10.0)
    return base * (1.0 + jitter * random.random())


def unreachable_message(api_url: str, exc: BaseException) -> str:
    """What ``ServerUnavailable`` says: the URL, the failure, and the two ways out."""
    return (
        f"Cannot reach the legato server at {api_url} ({type(exc).__name__}: {exc}). "
        "Start one with `legato server start` (and set LEGATO_API_URL to the URL it prints), "
        "or unset LEGATO_API_URL to use the embedded database."
    )


def basic_auth(auth_string: str | None) -> tuple[str, str] | None:
    """``LEGATO_API_AUTH_STRING`` as a (user, password) pair; None when unset."""
    if not auth_string:
        return None
    user, colon, password = auth_string.partition(":")
    if not colon:
        raise ParameterError(
            "LEGATO_API_AUTH_STRING must look like 'user:password' (with a colon)."
        )
    return user, password


def unauthorized_message(where: str, has_auth: bool) -> str:
    """What a 401 answer to ``where`` (method and URL) means, and what to set."""
    hint = (
        "Check LEGATO_API_AUTH_STRING: the server refused these credentials."
        if has_auth
        else "Set LEGATO_API_AUTH_STRING='user:password' to the server's "
        "LEGATO_SERVER_API_AUTH_STRING."
    )
    return f"{where} needs authentication (401). {hint}"
