"""The CLI end to end in real processes: deploy, a worker, `deployment run --watch`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from _cli_helpers import ok, unique

pytestmark = pytest.mark.slow

_LAUNCH = "import sys; from legato.cli.app import main; sys.argv[0] = 'legato'; main()"


def legato(*args: str, **options) -> subprocess.Popen[str]:
    """``legato ARGS`` in a new process with this test's environment."""
    return subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **options,
    )


@pytest.fixture
def worker_pool(invoke, any_store, project):
    """A pool, the project's deployments in it, and a real worker polling it."""
    pool = unique("pool")
    ok(invoke("work-pool", "create", pool))
    names = {flow: unique(flow) for flow in ("greet", "broken")}
    entries = "".join(
        f"  - name: {name}\n    entrypoint: flows.py:{flow}\n    work_pool: {{name: {pool}}}\n"
        for flow, name in names.items()
    )
    (project / "legato.yaml").write_text("deployments:\n" + entries, encoding="utf-8")
    ok(invoke("deploy", "--all"))
    worker = legato("worker", "start", "--pool", pool)
    yield names
    worker.terminate()
    output, _ = worker.communicate(timeout=60)
    print(textwrap.indent(output, "worker | "))


def test_run_watch_follows_a_worker_run_to_completion(worker_pool):
    command = legato(
        "deployment",
        "run",
        f"greet/{worker_pool['greet']}",
        "-p",
        "name=Ada",
        "--watch",
        "--watch-interval",
        "0.2",
    )
    output, _ = command.communicate(timeout=90)

    assert command.returncode == 0, output
    assert "| Scheduled" in output
    assert "| Completed" in output


def test_run_watch_exits_non_zero_when_the_run_fails(worker_pool):
    command = legato(
        "deployment", "run", f"broken/{worker_pool['broken']}", "--watch", "--watch-interval", "0.2"
    )
    output, _ = command.communicate(timeout=90)

    assert command.returncode == 1, output
    assert "| Failed" in output
