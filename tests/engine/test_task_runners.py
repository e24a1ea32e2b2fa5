"""Task runners: the default thread pool and the cloudpickle process pool."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from legato import flow, get_run_logger, task
from legato.runtime import task_run
from legato.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

# -- thread pool --------------------------------------------------------------


def test_thread_pool_runs_submitted_tasks_in_parallel():
    barrier = threading.Barrier(3, timeout=5)

    @task
    def meet(i):
        barrier.wait()
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
    def pipeline():
        return sorted(f.result() for f in [meet.submit(i) for i in range(3)])

    assert pipeline() == [0, 1, 2]


def test_thread_pool_never_exceeds_max_workers():
    lock = threading.Lock()
    active = [0]
    peak = [0]
    barrier = threading.Barrier(2, timeout=5)

    @task
    def work(i):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        barrier.wait()  # two at a time meet here; a third worker would raise the peak
        with lock:
            active[0] -= 1
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def pipeline():
        return work.map(range(6)).result()

    assert pipeline() == list(range(6))
    assert peak[0] == 2


def test_each_flow_run_gets_working_task_runner_after_reuse():
    runner = ThreadPoolTaskRunner(max_workers=2)

    @task
    def one():
        return 1

    @flow(task_runner=runner)
    def pipeline():
        return one.submit().result()

    assert [pipeline(), pipeline()] == [1, 1]


def test_thread_pool_can_be_used_directly_as_a_context_manager():
    @task
    def triple(x):
        return 3 * x

    with ThreadPoolTaskRunner(max_workers=2) as runner:
        future = runner.submit(triple, {"x": 2})
        assert future.result() == 6


def test_tasks_run_in_worker_threads_not_the_flow_thread():
    @task
    def where():
        return threading.get_ident()

    @flow
    def pipeline():
        return threading.get_ident(), where.submit().result()

    flow_thread, task_thread = pipeline()

    assert flow_thread != task_thread


# -- process pool -------------------------------------------------------------
# Tasks for the process pool live at module level, except the one test that
# checks cloudpickle can ship a closure.


@task
def pid_and_square(x):
    return os.getpid(), x * x


@task
def fail_in_child(message):
    raise ValueError(message)


@task
def log_in_child(message):
    get_run_logger().info(message)
    return str(task_run.id), task_run.run_count


@task(retries=2)
def flaky_in_child(marker_dir):
    # Each attempt runs in a child process: count attempts on disk.
    marker = Path(marker_dir)
    attempt = len(list(marker.iterdir())) + 1
    (marker / f"attempt-{attempt}").touch()
    if attempt < 3:
        raise RuntimeError(f"attempt {attempt}")
    return task_run.run_count


def test_process_pool_runs_tasks_in_other_processes():
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline():
        return [f.result() for f in [pid_and_square.submit(i) for i in range(3)]]

    results = pipeline()

    assert [square for _, square in results] == [0, 1, 4]
    assert all(pid != os.getpid() for pid, _ in results)


def test_process_pool_map_returns_results_in_order():
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline():
        return [square for _, square in pid_and_square.map([3, 1, 2]).result()]

    assert pipeline() == [9, 1, 4]


def test_process_pool_brings_back_failures_with_their_exception():
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline():
        future = fail_in_child.submit("failed in a child")
        future.wait()
        with pytest.raises(ValueError, match="failed in a child"):
            future.result()
        return future.state.is_failed()

    assert pipeline() is True


def test_process_pool_ships_closures_with_cloudpickle():
    offset = 1000

    @task
    def add_offset(x):
        return x + offset

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline():
        return add_offset.map([1, 2]).result()

    assert pipeline() == [1001, 1002]


def test_process_pool_task_runs_are_recorded(recorded):
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline():
        ok = pid_and_square.submit(2)
        bad = fail_in_child.submit("recorded failure")
        ok.wait()
        bad.wait()
        return str(ok.task_run_id), str(bad.task_run_id)

    ok_id, bad_id = pipeline()

    assert recorded.task_run(ok_id)["state_type"] == "COMPLETED"
    assert recorded.task_run(bad_id)["state_type"] == "FAILED"
    assert recorded.state_types(task_run_id=ok_id) == ["PENDING", "RUNNING", "COMPLETED"]
    assert recorded.state_types(task_run_id=bad_id)[-1] == "FAILED"


def test_process_pool_task_sees_its_own_run_context_and_logs(recorded):
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
    def pipeline():
        future = log_in_child.submit("logged in a child process")
        return str(future.task_run_id), future.result()

    future_id, (seen_id, run_count) = pipeline()

    assert seen_id == future_id
    assert run_count == 1
    assert "logged in a child process" in recorded.log_messages(task_run_id=future_id)


def test_process_pool_task_retries(recorded, tmp_path):
    markers = tmp_path / "attempts"
    markers.mkdir()

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
    def pipeline():
        future = flaky_in_child.submit(str(markers))
        return str(future.task_run_id), future.result()

    task_run_id, run_count = pipeline()

    assert run_count == 3
    assert len(list(markers.iterdir())) == 3
    row = recorded.task_run(task_run_id)
    assert (row["state_type"], row["run_count"]) == ("COMPLETED", 3)
