"""``legato server``: start (a subprocess), and the database commands (in process)."""

from __future__ import annotations

import contextvars
import subprocess
import sys

import pytest
from _server_process import running_server
from typer.testing import CliRunner

from legato.cli.app import app
from legato.settings import clear_settings_cache
from legato.storage import database
from legato.storage.engine import sqlite_url


@pytest.fixture
def invoke(tmp_path, monkeypatch):
    monkeypatch.setenv("LEGATO_HOME", str(tmp_path / "home"))

    def run(*args: str, **kwargs):
        clear_settings_cache()
        return contextvars.Context().run(CliRunner().invoke, app, list(args), **kwargs)

    yield run
    clear_settings_cache()


def test_database_upgrade_downgrade_and_reset(invoke, tmp_path):
    url = sqlite_url(tmp_path / "home" / "legato.db")

    upgraded = invoke("server", "database", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    head = database.current_revision(url)
    assert head is not None

    downgraded = invoke("server", "database", "downgrade", "--revision", "base")
    assert downgraded.exit_code == 0, downgraded.output
    assert database.current_revision(url) is None

    assert invoke("server", "database", "reset", input="n\n").exit_code == 1
    reset = invoke("server", "database", "reset", "--yes")
    assert reset.exit_code == 0, reset.output
    assert database.current_revision(url) == head


def test_start_refuses_an_unknown_log_level(invoke):
    result = invoke("server", "start", "--log-level", "loud")

    assert result.exit_code == 1
    assert "Unknown log level" in result.output


def test_start_refuses_a_port_setting_out_of_range(invoke, monkeypatch):
    monkeypatch.setenv("LEGATO_SERVER_API_PORT", "70000")

    result = invoke("server", "start")

    assert result.exit_code == 1
    assert "LEGATO_SERVER_API_PORT=70000 is not a TCP port" in result.output


def test_start_names_a_port_in_use(invoke, server):
    port = server.api_url.rsplit(":", 1)[1].split("/")[0]

    result = invoke("server", "start", "--port", port)

    assert result.exit_code == 1
    assert "Choose another --port" in result.output


def test_a_restart_on_an_existing_database_is_quick(tmp_path):
    home = tmp_path / "home"
    with running_server(home):
        pass  # creates the database

    with running_server(home) as again:
        # Generous: the whole process start (Python, FastAPI, SQLAlchemy) on a busy VM.
        assert again.started_in_seconds < 10


def test_start_prints_the_url_and_how_to_use_it(tmp_path):
    with running_server(tmp_path / "home") as process:
        assert process.api_url.startswith("http://127.0.0.1:")
        assert process.process.poll() is None
    assert process.process.returncode is not None


def test_importing_legato_loads_no_server_client_or_database_library():
    code = (
        "import sys, legato; "
        "heavy = {'fastapi', 'httpx', 'sqlalchemy', 'uvicorn', 'legato.server', "
        "'legato.client.http', 'legato.client.schemas'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
