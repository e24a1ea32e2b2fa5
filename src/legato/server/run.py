"""Serving the app with uvicorn: in this process (``legato server start``) or in a
background thread (the test harness).

The socket is bound first, so that port 0 gives a free port whose number is
known before the first request.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from legato.server.app import create_app

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from legato.settings import Settings

__all__ = ["ThreadedServer", "bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio turns Nagle off (TCP_NODELAY) only on
    # sockets whose proto says TCP; with proto 0 every small response waited ~40 ms
    # for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _config(settings: Settings, log_level: str, app: ASGIApp | None = None) -> uvicorn.Config:
    return uvicorn.Config(
        app or create_app(settings),
        log_level=log_level,
        access_log=log_level == "debug",
        timeout_graceful_shutdown=5,
        lifespan="on",
    )


def serve(sock: socket.socket, settings: Settings, log_level: str = "info") -> None:
    """Serve until interrupted (SIGINT/SIGTERM), in this thread."""
    uvicorn.Server(_config(settings, log_level)).run(sockets=[sock])


class ThreadedServer:
    """The server in a daemon thread on ``127.0.0.1`` and a free port; ``stop()`` ends it.

    ``app`` replaces ``create_app(settings)`` (e.g. the app wrapped in a
    middleware that counts requests, in tests).
    """

    def __init__(
        self, settings: Settings, log_level: str = "warning", app: ASGIApp | None = None
    ) -> None:
        self._sock = bind("127.0.0.1", 0)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api"
        config = _config(settings, log_level, app)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="legato-server",
            daemon=True,
        )

    def start(self, timeout_seconds: float = 30.0) -> ThreadedServer:
        """Start, and return once the server accepts requests (or raise after the timeout)."""
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("The legato server thread stopped during startup.")
            if time.monotonic() > deadline:
                raise TimeoutError(f"The legato server did not start in {timeout_seconds} s.")
            time.sleep(0.005)
        return self

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout_seconds)
        self._sock.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
