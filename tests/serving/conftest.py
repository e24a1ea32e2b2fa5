"""Serving fixtures: a project folder with flows, real serve processes, a real server.

``project`` is a folder holding ``flows.py`` (the flows the tests deploy),
made the current folder. ``serve_process(*args, env=)`` runs
``python flows.py ARGS`` there (its ``__main__`` serves what the arguments
name) against the test's LEGATO_HOME, and stops it at the end. ``store`` is
where the test reads and writes: ``embedded`` (the LEGATO_HOME's SQLite
file) or ``http`` (a real ``legato server start`` subprocess, shared by the
session; the serve process and the test both use it).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _serve_process import ServeProcess
from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

from legato.settings import temporary_settings

FLOWS = textwrap.dedent(
    """
    import sys
    import time

    from legato import flow, serve


    @flow(log_prints=True)
    def greet(name: str = "world") -> str:
        print(f"hello {name}")
        return f"hello {name}"


    @flow
    def sleepy(seconds: float = 120.0) -> None:
        print("sleepy started", flush=True)
        time.sleep(seconds)


    @flow
    def ticking() -> str:
        return "tick"


    if __name__ == "__main__":
        mode, name = sys.argv[1], sys.argv[2]
        if mode == "greet":
            greet.serve(name, limit=2)
        elif mode == "interval":
            ticking.serve(name, interval=1)
        elif mode == "several":
            serve(
                greet.to_deployment(name),
                sleepy.to_deployment(name, parameters={"seconds": 120}),
                limit=4,
            )
        elif mode == "keep-schedule":
            ticking.serve(name, interval=3600, pause_on_shutdown=False)
    """
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "flows.py").write_text(FLOWS, encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture(scope="session")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("serving-server-home")) as process:
        yield process


@pytest.fixture(params=["embedded", "http"])
def store(request: pytest.FixtureRequest, legato_home: Path) -> Iterator[dict[str, str]]:
    """The environment of the store the test and its serve processes share."""
    if request.param == "embedded":
        yield {"LEGATO_HOME": str(legato_home)}
        return
    server: ServerProcess = request.getfixturevalue("http_server")
    env = {"LEGATO_HOME": str(legato_home), "LEGATO_API_URL": server.api_url}
    with temporary_settings({"LEGATO_API_URL": server.api_url}):
        yield env


@pytest.fixture
def serve_process(project: Path) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(*args: str, env: dict[str, str]) -> ServeProcess:
        process = ServeProcess.start(project / "flows.py", list(args), project, env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.stop()
        else:
            process.close()
