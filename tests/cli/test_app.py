"""legato version, help, and the real ``legato`` script in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from legato.storage.records import FLOW_RUN_FIELDS, RecordBatch

LEGATO = Path(sys.executable).with_name("legato")


def run_legato(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    env["LEGATO_HOME"] = str(home)
    return subprocess.run(
        [str(LEGATO), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_version(invoke, home):
    result = invoke("version")

    assert result.exit_code == 0, result.output
    for text in ("Version", "Python", "Platform", str(home / "legato.db"), "embedded"):
        assert text in result.stdout


def test_version_shows_the_api_url(invoke, monkeypatch):
    monkeypatch.setenv("LEGATO_API_URL", "http://127.0.0.1:4200/api")

    assert "http://127.0.0.1:4200/api" in invoke("version").stdout


def test_help_lists_every_group(invoke):
    result = invoke("--help")

    assert result.exit_code == 0
    for group in ("version", "config", "profile", "flow", "flow-run", "task-run"):
        assert group in result.stdout


def test_importing_the_cli_stays_light():
    code = (
        "import sys; import legato.cli.app; "
        "heavy = {'sqlalchemy', 'rich', 'legato.settings', 'legato.client'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_script_reports_a_missing_run_without_traceback(home):
    result = run_legato(home, "flow-run", "inspect", "nope")

    assert result.returncode == 1
    assert result.stderr == "Flow run 'nope' not found. List runs with `legato flow-run ls`.\n"


def test_the_script_reads_settings_and_writes_json(home):
    assert run_legato(home, "config", "set", "LEGATO_RECORDER_MAX_BATCH_SIZE=7").returncode == 0

    view = run_legato(home, "config", "view", "--show-sources")
    runs = run_legato(home, "flow-run", "ls", "--output", "json")

    assert "LEGATO_RECORDER_MAX_BATCH_SIZE='7' (from profile: default" in view.stdout
    assert runs.returncode == 0, runs.stderr
    assert json.loads(runs.stdout) == []


@pytest.mark.timeout(60)
def test_follow_prints_new_lines_until_the_run_ends(home, store):
    # Given a running flow run with one log line, followed by a real `legato` process
    process = subprocess.Popen(
        [str(LEGATO), "flow-run", "logs", store.running, "--follow", "--poll-interval", "0.05"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")},
            "LEGATO_HOME": str(home),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    batch = RecordBatch()
    store.log(batch, store.running, "first", store.start + 30)
    store.record(batch)
    first = _readline(process, timeout=30)

    # When a second line is written and the run completes
    batch = RecordBatch()
    store.log(batch, store.running, "second", store.start + 31)
    row: dict[str, Any] = dict.fromkeys(FLOW_RUN_FIELDS)
    row.update(
        id=store.running,
        flow_id=store.report_flow,
        name="quick-lynx",
        parameters="{}",
        tags="[]",
        run_count=1,
        state_type="COMPLETED",
        state_name="Completed",
        state_timestamp=store.start + 32,
        total_run_time=2.0,
        created=store.start + 20,
        updated=store.start + 32,
    )
    batch.flow_runs.append(tuple(row[name] for name in FLOW_RUN_FIELDS))
    store.record(batch)

    # Then the process prints it and exits on its own
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert first.endswith("legato.flow_runs - first\n")
    assert out.splitlines()[-1].endswith("legato.flow_runs - second")


def _readline(process: subprocess.Popen[str], timeout: float) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not lines:
        process.kill()
        pytest.fail(f"no log line within {timeout}s")
    return lines[0]
