"""``legato flow-run resume`` and ``legato flow-run cancel`` on the embedded store."""

from __future__ import annotations

import contextvars

import pytest
from typer.testing import CliRunner

from legato.cli.app import app
from legato.client.embedded import EmbeddedClient
from legato.settings import clear_settings_cache
from legato.states import Completed, Paused, Pending, Running, Scheduled

SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}},
    "required": ["approved"],
}
KEYSET = {
    "description": "paused-1-description",
    "response": "paused-1-response",
    "schema": "paused-1-schema",
}


@pytest.fixture
def client(legato_home):
    with EmbeddedClient(legato_home / "legato.db") as made:
        yield made


@pytest.fixture
def legato(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str):
        clear_settings_cache()
        return contextvars.Context().run(runner.invoke, app, ["flow-run", *args])

    yield run
    clear_settings_cache()


def _run(client, *states):
    run = client.create_flow_run("cli-pause", state=states[0])
    for state in states[1:]:
        client.set_flow_run_state(run.id, state)
    return str(run.id)


def _paused_for_input(client):
    run_id = _run(client, Pending(), Running())
    client.create_flow_run_input(run_id, KEYSET["schema"], SCHEMA)
    paused = Paused(timeout_seconds=60, pause_key="1")
    paused.state_details.run_input_keyset = KEYSET
    client.set_flow_run_state(run_id, paused)
    return run_id


def test_resume_sends_the_input_and_names_a_bad_field(client, legato):
    run_id = _paused_for_input(client)

    refused = legato("resume", run_id, "--input", '{"approved": "yes"}')
    assert refused.exit_code == 1
    assert "approved" in refused.output
    assert "stays paused" in refused.output

    resumed = legato("resume", run_id, "--input", '{"approved": true}')
    assert resumed.exit_code == 0, resumed.output
    assert f"Resumed flow run {run_id!r}." in resumed.output
    assert client.read_flow_run_input(run_id, KEYSET["response"]) == {"approved": True}

    again = legato("resume", run_id)
    assert again.exit_code == 1
    assert "not paused" in again.output


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "--input is not valid JSON"), ("[1, 2]", "must be a JSON object")],
)
def test_resume_refuses_input_that_is_not_a_json_object(client, legato, text, message):
    run_id = _paused_for_input(client)
    result = legato("resume", run_id, "--input", text)
    assert result.exit_code == 1
    assert message in result.output
    assert client.read_flow_run(run_id).state.type.value == "PAUSED"


def test_resume_of_an_unknown_run_says_how_to_find_runs(legato):
    result = legato("resume", "01a20000-0000-7000-8000-000000000000")
    assert result.exit_code == 1
    assert "legato flow-run ls" in result.output


def test_cancel_says_what_happens_next(client, legato):
    scheduled = _run(client, Scheduled())
    running = _run(client, Pending(), Running())
    done = _run(client, Pending(), Running(), Completed())

    cancelled = legato("cancel", scheduled)
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Cancelled flow run {scheduled!r}." in cancelled.output

    cancelling = legato("cancel", running)
    assert cancelling.exit_code == 0
    assert "is Cancelling" in cancelling.output
    assert client.read_flow_run(running).state.type.value == "CANCELLING"

    finished = legato("cancel", done)
    assert finished.exit_code == 1
    assert "already finished (Completed); nothing to cancel" in finished.output

    unknown = legato("cancel", "01a20000-0000-7000-8000-000000000000")
    assert unknown.exit_code == 1
    assert "not found" in unknown.output
