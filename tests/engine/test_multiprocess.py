"""Several processes against one database file, and what `import legato` pulls in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

PROCESSES = 4
FLOW_RUNS_PER_PROCESS = 200
TASKS_PER_FLOW = 20

_WORKER = textwrap.dedent(
    f"""
    import sys

    from legato import flow, task

    @task
    def step(i):
        return i + 1

    @flow
    def pipeline(k):
        # Half called directly, half mapped on the thread pool: both paths record.
        half = {TASKS_PER_FLOW} // 2
        direct = sum(step(i) for i in range(half))
        return direct + sum(step.map(range(half, {TASKS_PER_FLOW})).result())

    # Everything is imported; wait for the parent so that all processes start together.
    sys.stdin.readline()
    expected = sum(range(1, {TASKS_PER_FLOW} + 1))
    for k in range({FLOW_RUNS_PER_PROCESS}):
        assert pipeline(k) == expected
    print("done")
    """
)


@pytest.mark.slow
def test_processes_share_one_database_without_losing_anything(legato_home, recorded, tmp_path):
    env = {**os.environ, "LEGATO_HOME": str(legato_home)}
    # Output goes to files: a full pipe would block a worker and serialise the run.
    logs = [tmp_path / f"worker-{i}.log" for i in range(PROCESSES)]
    workers = []
    try:
        for log in logs:
            with log.open("w") as sink:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-c", _WORKER],
                        env=env,
                        stdin=subprocess.PIPE,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.close()
        deadline = time.monotonic() + 55
        for worker in workers:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(5)

    for worker, log in zip(workers, logs, strict=True):
        output = log.read_text()
        assert "database is locked" not in output
        assert worker.returncode == 0, output[-3000:]
        assert "done" in output.splitlines()

    flow_runs = PROCESSES * FLOW_RUNS_PER_PROCESS
    task_runs = flow_runs * TASKS_PER_FLOW
    q = recorded.scalar
    assert q("SELECT count(*) FROM flow_runs") == flow_runs
    assert q("SELECT count(*) FROM flow_runs WHERE state_type = 'COMPLETED'") == flow_runs
    assert q("SELECT count(*) FROM task_runs") == task_runs
    assert q("SELECT count(*) FROM task_runs WHERE state_type = 'COMPLETED'") == task_runs
    # Every task run belongs to a recorded flow run, TASKS_PER_FLOW each.
    assert (
        q(
            "SELECT count(*) FROM task_runs t LEFT JOIN flow_runs f ON f.id = t.flow_run_id "
            "WHERE f.id IS NULL"
        )
        == 0
    )
    assert (
        q(
            "SELECT count(*) FROM (SELECT flow_run_id FROM task_runs GROUP BY flow_run_id "
            f"HAVING count(*) = {TASKS_PER_FLOW})"
        )
        == flow_runs
    )
    # Full state history: one Pending, one Running and one Completed per run.
    flow_states = recorded.query(
        "SELECT type, count(*) AS n, count(DISTINCT flow_run_id) AS runs FROM states "
        "WHERE task_run_id IS NULL GROUP BY type"
    )
    assert {row["type"]: (row["n"], row["runs"]) for row in flow_states} == {
        "PENDING": (flow_runs, flow_runs),
        "RUNNING": (flow_runs, flow_runs),
        "COMPLETED": (flow_runs, flow_runs),
    }
    task_states = recorded.query(
        "SELECT type, count(*) AS n, count(DISTINCT task_run_id) AS runs FROM states "
        "WHERE task_run_id IS NOT NULL GROUP BY type"
    )
    assert {row["type"]: (row["n"], row["runs"]) for row in task_states} == {
        "PENDING": (task_runs, task_runs),
        "RUNNING": (task_runs, task_runs),
        "COMPLETED": (task_runs, task_runs),
    }
    # Timestamps in each run's history never go backwards.
    assert (
        q(
            "SELECT count(*) FROM states a JOIN states b "
            "ON a.task_run_id = b.task_run_id AND a.type = 'PENDING' AND b.type = 'COMPLETED' "
            "WHERE b.timestamp < a.timestamp"
        )
        == 0
    )


_HEAVY = ["sqlalchemy", "fastapi", "typer", "legato.server", "pydantic_settings", "alembic"]


def test_import_legato_pulls_in_no_heavy_modules():
    script = textwrap.dedent(
        f"""
        import json, sys
        import legato
        heavy = {_HEAVY!r}
        loaded = sorted(
            name for name in sys.modules
            if any(name == h or name.startswith(h + ".") for h in heavy)
        )
        print(json.dumps(loaded))
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
