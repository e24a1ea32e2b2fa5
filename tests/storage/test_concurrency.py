"""Several processes writing one store at once lose nothing and never fail.

The SQLite file through the recorder's stdlib path, and SQLite and PostgreSQL
through ``batches.write_batch`` (``db_url``): every row is present afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from legato.client.embedded import EmbeddedClient
from legato.storage import queries
from legato.storage.engine import create_store_engine

WRITER = Path(__file__).with_name("_writer.py")
TIMEOUT_SECONDS = 90


def run_writers(target: str, writers: int, batches: int, task_runs: int, shared: int = 0) -> None:
    """Start the writers together; assert that each one wrote everything and said so."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                target,
                str(index),
                str(batches),
                str(task_runs),
                str(shared),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(writers)
    ]
    started = time.monotonic()
    for process in processes:  # start together
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outcomes = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
            outcomes.append((process.returncode, out.strip(), err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert [(code, out) for code, out, _ in outcomes] == [(0, "ok")] * writers, [
        err for *_, err in outcomes
    ]
    assert time.monotonic() - started < TIMEOUT_SECONDS


@pytest.mark.slow
def test_four_processes_writing_fifty_batches_each_to_a_new_file(database_path):
    writers, batches, task_runs = 4, 50, 5

    run_writers(str(database_path), writers, batches, task_runs)  # the file does not exist yet

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


@pytest.mark.slow
def test_writers_sharing_a_flow_and_runs_neither_deadlock_nor_lose_rows(db_url):
    # Each batch also upserts the same 20 runs (in a random order) and the same flow
    writers, batches, task_runs, shared = 4, 25, 5, 20

    run_writers(db_url, writers, batches, task_runs, shared)

    engine = create_store_engine(db_url)
    try:
        with engine.connect() as connection:
            assert queries.count_flow_runs(connection) == writers * batches + shared
            assert queries.count_flow_runs(connection, flow_name="shared") == shared
            assert len(queries.read_flows(connection)) == writers + 1
            task_runs_written = connection.execute(
                sa.text("SELECT count(*) FROM task_runs")
            ).scalar_one()
            assert task_runs_written == writers * batches * task_runs
            logs = connection.execute(sa.text("SELECT count(*) FROM logs")).scalar_one()
            assert logs == writers * batches * task_runs
            for index in range(writers):
                runs = queries.read_flow_runs(connection, flow_name=f"writer-{index}", limit=1000)
                assert {row["name"] for row in runs} == {
                    f"w{index}-{number}" for number in range(batches)
                }
    finally:
        engine.dispose()


def test_opening_a_new_file_while_another_connection_writes_it_waits_for_wal(tmp_path):
    """Switching a file to WAL fails at once while another connection writes (SQLite does
    not wait for it); ``connect`` looks again and retries until the writer is done."""
    import sqlite3
    import threading

    from legato.storage import sqlite

    path = tmp_path / "fresh.db"
    writer = sqlite3.connect(path, isolation_level=None)  # journal_mode=delete, as new files are
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    opened: list[object] = []

    def open_it() -> None:
        try:
            connection = sqlite.connect(path)
            opened.append(connection.execute("PRAGMA journal_mode").fetchone()[0])
            connection.close()
        except Exception as exc:  # reported below
            opened.append(exc)

    thread = threading.Thread(target=open_it)
    thread.start()
    time.sleep(0.3)  # the other connection keeps writing for a while
    writer.execute("COMMIT")
    writer.close()
    thread.join(timeout=60)
    assert opened == ["wal"]
