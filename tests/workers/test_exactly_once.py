"""Three workers on one pool: every run is started once and ends Completed once.

Each run is a fresh Python process (``python -m legato.engine.deployed_run``):
its start-up (interpreter, legato, the client) is what bounds the pace, about
0.3-0.6 CPU-seconds a run, so on a 2-CPU machine 300 runs take one to a few
minutes; the bounds below are generous so that a busy machine does not fail them.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from _worker_support import Store, wait_for

WORKERS = 3


def completed(database: Path, deployment_id: str) -> int:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT count(*) FROM flow_runs WHERE deployment_id = ? AND state_type = 'COMPLETED'",
            (deployment_id,),
        ).fetchone()
    return int(row[0])


def run_on_three_workers(store: Store, pool: str, runs: int, database: Path) -> None:
    with store.client() as client:
        deployment_id = store.deploy(client, "trivial", pool)
        ids = [str(client.create_flow_run_from_deployment(deployment_id).id) for _ in range(runs)]
    started = time.monotonic()
    workers = [
        store.legato("worker", "start", "--pool", pool, "--limit", "6", "--name", f"w{index}")
        for index in range(WORKERS)
    ]
    wait_for(
        lambda: completed(database, str(deployment_id)) == runs,
        timeout=800,
        interval=0.5,
        what=f"{runs} runs to complete",
    )
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    outputs = [worker.communicate(timeout=60) for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * WORKERS, outputs
    check_each_run_once(database, ids)
    started_by = Counter(
        line.split("Worker '", 1)[1].split("'", 1)[0]
        for _, stderr in outputs
        for line in stderr.splitlines()
        if "is starting flow run" in line
    )
    assert sorted(started_by) == ["w0", "w1", "w2"]  # every worker took part
    assert sum(started_by.values()) == runs  # and no run was started twice
    print(f"{runs} runs on {WORKERS} workers ({store.kind}) in {elapsed:.1f} s")


def check_each_run_once(database: Path, ids: list[str]) -> None:
    marks = ",".join("?" * len(ids))
    with sqlite3.connect(database) as connection:
        states = Counter(
            connection.execute(
                f"SELECT flow_run_id, type FROM states WHERE flow_run_id IN ({marks})", ids
            )
        )
        pids = [
            row[0]
            for row in connection.execute(
                f"SELECT infrastructure_pid FROM flow_runs WHERE id IN ({marks})", ids
            )
        ]
    for run_id in ids:
        assert [states[(run_id, kind)] for kind in ("PENDING", "RUNNING", "COMPLETED")] == [1, 1, 1]
    assert None not in pids and len(set(pids)) == len(ids)  # one process per run


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_three_workers_on_a_server_run_each_of_300_runs_exactly_once(server_store, pool_name):
    assert server_store.server_home is not None
    run_on_three_workers(server_store, pool_name, 300, server_store.server_home / "legato.db")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_workers_on_one_sqlite_file_run_each_run_exactly_once(embedded_store, pool_name):
    run_on_three_workers(embedded_store, pool_name, 60, embedded_store.home / "legato.db")
