"""Optional HTTP basic auth for every route but ``/api/health``.

Set ``LEGATO_SERVER_API_AUTH_STRING="user:password"`` on the server and
``LEGATO_API_AUTH_STRING`` (the same value) on clients. A request without
the right credentials gets 401 with ``WWW-Authenticate`` and no data. The
comparison uses ``secrets.compare_digest`` on the whole header value.
"""

from __future__ import annotations

import base64
import json
import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["OPEN_PATHS", "BasicAuthMiddleware", "authorization_header"]

# Answered without credentials: liveness probes must not need the password.
OPEN_PATHS = frozenset({"/api/health"})


def authorization_header(auth_string: str) -> str:
    """The ``Authorization`` header value for ``user:password``."""
    return "Basic " + base64.b64encode(auth_string.encode()).decode("ascii")


class BasicAuthMiddleware:
    """Refuses (401) HTTP requests whose ``Authorization`` is not the expected one."""

    def __init__(self, app: ASGIApp, auth_string: str) -> None:
        self.app = app
        self._expected = authorization_header(auth_string).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._is_allowed(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "detail": "Authentication required: this legato server uses HTTP basic auth. "
                "Set LEGATO_API_AUTH_STRING='user:password' (the server's "
                "LEGATO_SERVER_API_AUTH_STRING)."
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Basic realm="legato"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _is_allowed(self, scope: Scope) -> bool:
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        return secrets.compare_digest(given, self._expected)
