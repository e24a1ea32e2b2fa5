"""Several processes writing one SQLite file at once lose nothing and never fail."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from legato.client.embedded import EmbeddedClient

WRITER = Path(__file__).with_name("_writer.py")


@pytest.mark.slow
def test_four_processes_writing_fifty_batches_each(database_path):
    writers, batches, task_runs = 4, 50, 5
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(database_path),
                str(index),
                str(batches),
                str(task_runs),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(writers)
    ]
    started = time.monotonic()
    for process in processes:  # start together: the file does not exist yet
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outcomes = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=60)
            outcomes.append((process.returncode, out.strip(), err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    elapsed = time.monotonic() - started

    assert [(code, out) for code, out, _ in outcomes] == [(0, "ok")] * writers, [
        e for *_, e in outcomes
    ]
    assert elapsed < 60
    with EmbeddedClient(database_path) as client:
        assert client.count_flow_runs() == writers * batches
        assert len(client.read_flows()) == writers
        assert len(client.read_task_runs(limit=10_000)) == writers * batches * task_runs
        assert len(client.read_logs(limit=10_000)) == writers * batches * task_runs
        for index in range(writers):
            names = {
                row["name"]
                for row in client.read_flow_runs(flow_name=f"writer-{index}", limit=1000)
            }
            assert names == {f"w{index}-{number}" for number in range(batches)}
