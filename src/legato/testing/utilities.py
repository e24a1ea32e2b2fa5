"""``legato_test_harness()`` (alias ``prefect_test_harness``): flows in a throwaway home.

    from legato.testing.utilities import prefect_test_harness

    @pytest.fixture(autouse=True, scope="session")
    def legato_home():
        with prefect_test_harness():
            yield

Inside the block, ``LEGATO_HOME`` is a new temporary folder (settings and
environment, so child processes see it too) and runs are recorded in its
database. With ``server=True`` a real legato server runs on a free
``127.0.0.1`` port in a background thread, and ``LEGATO_API_URL`` points at
it, so flows record over HTTP. On exit every recorder is flushed and closed,
the server stopped, the folder deleted and the environment restored.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from legato.engine import recorder
from legato.settings import get_current_settings, temporary_settings

__all__ = ["legato_test_harness", "prefect_test_harness"]


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def legato_test_harness(
    server: bool = False, server_startup_timeout: float | None = 30
) -> Iterator[None]:
    """Run the block against a temporary database (and, with ``server``, a real server)."""
    recorder.close_all()  # runs before the block go where they were going
    with tempfile.TemporaryDirectory(prefix="legato-test-") as home:
        values = {"LEGATO_HOME": home, "LEGATO_API_URL": ""}
        with _environment(values), temporary_settings(values):
            try:
                if server:
                    with _server(server_startup_timeout):
                        yield
                else:
                    yield
            finally:
                recorder.close_all()


@contextmanager
def _server(startup_timeout: float | None) -> Iterator[None]:
    from legato.server.run import ThreadedServer  # FastAPI and uvicorn: only when asked

    threaded = ThreadedServer(get_current_settings()).start(startup_timeout or 30)
    try:
        with (
            _environment({"LEGATO_API_URL": threaded.api_url}),
            temporary_settings({"LEGATO_API_URL": threaded.api_url}),
        ):
            try:
                yield
            finally:
                recorder.close_all()  # flushed through the server before it stops
    finally:
        threaded.stop()


prefect_test_harness = legato_test_harness
