"""Fixtures of the deployment CLI tests: a project folder, the store, ``legato`` in-process.

``project`` holds ``flows.py`` and is the current folder. ``cli_store`` is
the store the commands and the test share: ``embedded`` (this test's
LEGATO_HOME) by default; tests that also run against a real server take
``any_store``, parametrized over ``embedded`` and ``http`` (a real
``legato server start`` subprocess shared by the session). ``invoke(*args)``
runs ``legato ARGS`` in-process as a new process would (settings read
afresh from the environment).
"""

from __future__ import annotations

import contextvars
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from _server_process import ServerProcess, running_server  # type: ignore[import-not-found]

from legato.cli.app import app
from legato.settings import clear_settings_cache, temporary_settings

FLOWS = textwrap.dedent(
    """
    from legato import flow


    @flow(log_prints=True)
    def greet(name: str = "world", times: int = 1) -> str:
        print(f"hello {name}")
        return name


    @flow
    def other() -> None:
        pass


    @flow
    def broken() -> None:
        raise ValueError("broken on purpose")
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
    with running_server(tmp_path_factory.mktemp("deploy-cli-server-home")) as process:
        yield process


def _use_store(
    kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    for name in list(os.environ):
        if name.startswith("LEGATO_") and name != "LEGATO_HOME":
            monkeypatch.delenv(name)
    if kind == "embedded":
        yield kind
        return
    server: ServerProcess = request.getfixturevalue("http_server")
    monkeypatch.setenv("LEGATO_API_URL", server.api_url)
    with temporary_settings({"LEGATO_API_URL": server.api_url}):
        yield kind


@pytest.fixture
def cli_store(
    request: pytest.FixtureRequest, legato_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    yield from _use_store("embedded", request, monkeypatch)


@pytest.fixture(params=["embedded", "http"])
def any_store(
    request: pytest.FixtureRequest, legato_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    yield from _use_store(request.param, request, monkeypatch)


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def run(*args: str, **kwargs: Any) -> Result:
        clear_settings_cache()
        return contextvars.Context().run(runner.invoke, app, list(args), **kwargs)

    yield run
    clear_settings_cache()
