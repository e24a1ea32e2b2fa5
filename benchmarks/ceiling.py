"""The loopback ceiling: what one HTTP client can do against a server that does nothing.

``app`` is an ASGI application that answers ``GET /api/health`` with ``true``
and every other request with ``201 {}`` after reading its body: no framework,
no database. Served by uvicorn with httptools and uvloop (as ``legato server``
is), and called by one synchronous httpx client in a loop, it measures the
most requests per second that the server cases' client and transport can
reach on this machine; the ``server_flow_run_creates`` rows read against it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    health = scope["path"].endswith("/health")
    await send(
        {
            "type": "http.response.start",
            "status": 200 if health else 201,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b"true" if health else b"{}"})


def start(port: int) -> subprocess.Popen[bytes]:
    """``app`` under uvicorn (httptools, uvloop) on 127.0.0.1:``port``."""
    command = [sys.executable, "-m", "uvicorn", "ceiling:app", "--port", str(port)]
    command += ["--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]
    return subprocess.Popen(command, cwd=HERE, stdin=subprocess.DEVNULL)


def post_for(url: str, seconds: float) -> tuple[int, float]:
    """POST a flow-run-sized JSON body to ``url`` in a loop for ``seconds``: (count, elapsed)."""
    import httpx

    body = {"flow_id": "0190f0c2-7a4e-7b3a-9d2c-3f1e5a6b7c8d", "name": "x", "parameters": {}}
    count = 0
    with httpx.Client() as client:
        client.post(url, json=body)
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            client.post(url, json=body)
            count += 1
        return count, time.perf_counter() - start
