"""What reaches $LEGATO_HOME/legato.db: runs, state histories, links and logs."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from legato import flow, get_run_logger, task
from legato.runtime import flow_run as runtime_flow_run


@task
def square(x):
    return x * x


@task
def fail(message):
    raise ValueError(message)


def test_database_file_is_created_under_legato_home(legato_home):
    @flow
    def fine():
        return 1

    fine()

    assert (legato_home / "legato.db").is_file()


def test_flow_run_row_is_complete_when_the_flow_returns(recorded):
    @flow(name="recorded-flow", version="v1", flow_run_name="recorded-run")
    def fine(x, label="a"):
        return x

    before = time.time()
    fine(3)
    after = time.time()

    run = recorded.only_flow_run()
    assert run["flow_name"] == "recorded-flow"
    assert run["name"] == "recorded-run"
    assert run["flow_version"] == "v1"
    assert run["parameters"] == {"x": 3, "label": "a"}
    assert run["run_count"] == 1
    assert (run["state_type"], run["state_name"]) == ("COMPLETED", "Completed")
    assert before - 1 <= run["start_time"] <= run["end_time"] <= after + 1
    assert run["expected_start_time"] is not None
    assert run["total_run_time"] >= 0
    assert run["parent_flow_run_id"] is None
    assert run["parent_task_run_id"] is None


def test_flow_is_recorded_once_per_name(recorded):
    @flow(name="same-name")
    def fine():
        return 1

    fine()
    fine()

    flows = recorded.query("SELECT * FROM flows WHERE name = 'same-name'")
    assert len(flows) == 1
    assert {run["flow_id"] for run in recorded.flow_runs()} == {flows[0]["id"]}


def test_flow_run_state_history_is_in_order_with_timestamps(recorded):
    @flow
    def fine():
        return 1

    before = time.time()
    fine()
    after = time.time()

    run = recorded.only_flow_run()
    history = recorded.states(flow_run_id=run["id"])
    assert [s["type"] for s in history] == ["PENDING", "RUNNING", "COMPLETED"]
    stamps = [s["timestamp"] for s in history]
    assert stamps == sorted(stamps)
    assert before - 1 <= stamps[0] and stamps[-1] <= after + 1
    assert history[-1]["timestamp"] == pytest.approx(run["state_timestamp"])


def test_state_history_insert_order_matches_timestamps(recorded):
    @flow
    def fine():
        square(2)

    fine()

    per_run: dict = {}
    for row in recorded.query(
        "SELECT coalesce(task_run_id, flow_run_id) AS run, type, timestamp FROM states "
        "ORDER BY rowid"
    ):
        per_run.setdefault(row["run"], []).append(row["timestamp"])
    assert len(per_run) == 2  # the flow run and its task run
    for stamps in per_run.values():
        assert stamps == sorted(stamps)


def test_failed_flow_is_on_disk_when_the_exception_reaches_the_caller(recorded):
    @flow
    def broken():
        raise ValueError("recorded failure")

    with pytest.raises(ValueError):
        broken()

    run = recorded.only_flow_run()
    assert run["state_type"] == "FAILED"
    assert "recorded failure" in run["state_message"]
    assert recorded.state_types(flow_run_id=run["id"]) == ["PENDING", "RUNNING", "FAILED"]


def test_task_runs_are_linked_to_their_flow_run(recorded):
    @flow
    def pipeline():
        square(1)
        square.submit(2).wait()
        square.map([3, 4]).wait()

    pipeline()

    run = recorded.only_flow_run()
    task_runs = recorded.task_runs(flow_run_id=run["id"])
    assert len(task_runs) == 4
    assert {t["state_type"] for t in task_runs} == {"COMPLETED"}
    assert len({t["id"] for t in task_runs}) == 4


def test_task_run_row_is_complete(recorded):
    @task(name="recorded-task", version="t1", tags=["x"])
    def work(n):
        return n

    @flow
    def pipeline():
        work(1)

    before = time.time()
    pipeline()
    after = time.time()

    row = recorded.only_task_run()
    assert row["name"].startswith("recorded-task")
    assert row["task_version"] == "t1"
    assert row["task_key"]
    assert row["tags"] == ["x"]
    assert row["run_count"] == 1
    assert (row["state_type"], row["state_name"]) == ("COMPLETED", "Completed")
    assert before - 1 <= row["start_time"] <= row["end_time"] <= after + 1
    assert row["total_run_time"] >= 0


def test_task_run_state_history_is_in_order(recorded):
    @flow
    def pipeline():
        square(3)

    pipeline()

    task_run = recorded.only_task_run()
    history = recorded.states(task_run_id=task_run["id"])
    assert [s["type"] for s in history] == ["PENDING", "RUNNING", "COMPLETED"]
    stamps = [s["timestamp"] for s in history]
    assert stamps == sorted(stamps)
    assert history[-1]["timestamp"] == pytest.approx(task_run["state_timestamp"])


def test_failed_task_history_ends_failed_with_the_error(recorded):
    @flow
    def pipeline():
        fail("task failure recorded")

    with pytest.raises(ValueError):
        pipeline()

    task_run = recorded.only_task_run()
    history = recorded.states(task_run_id=task_run["id"])
    assert [s["type"] for s in history] == ["PENDING", "RUNNING", "FAILED"]
    assert "task failure recorded" in history[-1]["message"]
    assert "task failure recorded" in task_run["state_message"]


def test_retried_task_history_has_every_attempt(recorded):
    attempts = []

    @task(retries=2)
    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return "ok"

    @flow
    def pipeline():
        flaky()

    pipeline()

    task_run = recorded.only_task_run()
    types = recorded.state_types(task_run_id=task_run["id"])
    assert types.count("RUNNING") == 3
    assert types[0] == "PENDING" and types[-1] == "COMPLETED"
    assert task_run["run_count"] == 3


def test_task_called_outside_a_flow_is_recorded_with_its_history(recorded):
    assert square(4) == 16

    task_run = recorded.only_task_run()
    assert task_run["flow_run_id"] is None
    assert recorded.state_types(task_run_id=task_run["id"]) == ["PENDING", "RUNNING", "COMPLETED"]


def test_task_states_point_at_their_task_run(recorded):
    @flow
    def pipeline():
        square.submit(5).wait()

    pipeline()

    task_run = recorded.only_task_run()
    rows = recorded.query("SELECT * FROM states WHERE task_run_id = ?", (task_run["id"],))
    assert len(rows) == 3


def test_subflow_is_recorded_with_its_own_history(recorded):
    @flow(name="inner")
    def inner():
        return 1

    @flow(name="outer")
    def outer():
        return inner()

    outer()

    inner_run = recorded.only_flow_run("inner")
    outer_run = recorded.only_flow_run("outer")
    assert inner_run["parent_flow_run_id"] == outer_run["id"]
    assert recorded.state_types(flow_run_id=inner_run["id"]) == [
        "PENDING",
        "RUNNING",
        "COMPLETED",
    ]


def test_logs_are_on_disk_when_the_flow_returns(recorded):
    @flow
    def chatty():
        logger = get_run_logger()
        for i in range(50):
            logger.info("line %d", i)

    chatty()

    messages = recorded.log_messages(flow_run_id=recorded.only_flow_run()["id"])
    assert [m for m in messages if m.startswith("line ")] == [f"line {i}" for i in range(50)]


def test_many_task_runs_are_all_recorded(recorded):
    @flow
    def pipeline():
        for i in range(100):
            square(i)
        square.map(range(100)).wait()

    pipeline()

    assert recorded.scalar("SELECT count(*) FROM task_runs") == 200
    assert recorded.scalar("SELECT count(*) FROM states WHERE task_run_id IS NOT NULL") == 600
    assert recorded.scalar("SELECT count(*) FROM task_runs WHERE state_type = 'COMPLETED'") == 200


def test_flows_in_several_threads_are_all_recorded(recorded):
    start = threading.Barrier(4, timeout=10)
    errors = []

    @flow
    def pipeline(i):
        for j in range(10):
            square(j)
        return i

    def worker(i):
        try:
            start.wait()
            for _ in range(5):
                pipeline(i)
        except BaseException as exc:  # report in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert recorded.scalar("SELECT count(*) FROM flow_runs WHERE state_type = 'COMPLETED'") == 20
    assert recorded.scalar("SELECT count(*) FROM task_runs WHERE state_type = 'COMPLETED'") == 200
    for run in recorded.flow_runs():
        assert len(recorded.task_runs(flow_run_id=run["id"])) == 10


def test_flow_run_ids_from_runtime_match_rows(recorded):
    @flow
    def fine():
        return runtime_flow_run.id

    ids = {str(fine()) for _ in range(3)}

    assert ids == {run["id"] for run in recorded.flow_runs()}


_SIGTERM_SCRIPT = textwrap.dedent(
    """
    import time
    from legato import flow

    @flow(name="terminated")
    def long_running():
        print("started", flush=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.01)

    long_running()
    """
)


def test_flow_run_stopped_by_sigterm_is_recorded_crashed(legato_home, recorded):
    env = {**os.environ, "LEGATO_HOME": str(legato_home)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIGTERM_SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        # When the flow body is running
        deadline = time.monotonic() + 30
        while lines.get(timeout=max(0.1, deadline - time.monotonic())).strip() != "started":
            pass
        # Then the process is asked to stop
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        reader.join(5)
        proc.stdout.close()

    run = recorded.only_flow_run("terminated")
    assert run["state_type"] == "CRASHED"
    assert recorded.state_types(flow_run_id=run["id"])[-1] == "CRASHED"
