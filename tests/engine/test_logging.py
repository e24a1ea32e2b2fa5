"""Run loggers, log_prints, recorded log lines and the console."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time

from legato import flow, get_run_logger, task
from legato.logging import get_logger
from legato.runtime import flow_run as runtime_flow_run
from legato.runtime import task_run as runtime_task_run

# -- run loggers --------------------------------------------------------------


def test_flow_run_logger_records_carry_the_run(legato_records):
    @flow(name="logging-flow", flow_run_name="logging-run")
    def logs_something():
        get_run_logger().info("hello from the flow")
        return runtime_flow_run.id

    flow_run_id = logs_something()

    (record,) = [r for r in legato_records.records if r.getMessage() == "hello from the flow"]
    assert str(record.flow_run_id) == str(flow_run_id)
    assert record.flow_run_name == "logging-run"
    assert record.flow_name == "logging-flow"
    assert record.levelno == logging.INFO


def test_task_run_logger_records_carry_the_task_run(legato_records):
    @task(name="logging-task", task_run_name="logging-task-run")
    def logs_something():
        get_run_logger().warning("hello from the task")
        return runtime_task_run.id

    @flow
    def pipeline():
        return runtime_flow_run.id, logs_something()

    flow_run_id, task_run_id = pipeline()

    (record,) = [r for r in legato_records.records if r.getMessage() == "hello from the task"]
    assert str(record.task_run_id) == str(task_run_id)
    assert record.task_run_name == "logging-task-run"
    assert record.task_name == "logging-task"
    assert str(record.flow_run_id) == str(flow_run_id)
    assert record.levelno == logging.WARNING


def test_flow_logs_are_recorded_with_the_flow_run(recorded):
    @flow
    def logs_something():
        logger = get_run_logger()
        logger.info("first line")
        logger.error("second line")
        return runtime_flow_run.id

    flow_run_id = logs_something()

    rows = [r for r in recorded.logs(flow_run_id=flow_run_id) if "line" in r["message"]]
    assert [(r["message"], r["level"]) for r in rows] == [
        ("first line", logging.INFO),
        ("second line", logging.ERROR),
    ]
    assert all(r["task_run_id"] is None for r in rows)


def test_task_logs_are_recorded_with_the_task_run(recorded):
    @task
    def logs_something():
        get_run_logger().info("from a task")
        return runtime_task_run.id

    @flow
    def pipeline():
        return runtime_flow_run.id, logs_something.submit().result()

    flow_run_id, task_run_id = pipeline()

    (row,) = [r for r in recorded.logs() if r["message"] == "from a task"]
    assert row["task_run_id"] == str(task_run_id)
    assert row["flow_run_id"] == str(flow_run_id)


def test_logs_of_concurrent_tasks_carry_their_own_task_run(recorded):
    @task
    def logs_its_input(i):
        get_run_logger().info(f"item {i}")
        return str(runtime_task_run.id)

    @flow
    def pipeline():
        return logs_its_input.map(range(6)).result()

    task_run_ids = pipeline()

    for i, task_run_id in enumerate(task_run_ids):
        assert f"item {i}" in recorded.log_messages(task_run_id=task_run_id)


def test_subflow_logs_carry_the_subflow_run(recorded):
    @flow
    def child():
        get_run_logger().info("from the child")
        return runtime_flow_run.id

    @flow
    def parent():
        get_run_logger().info("from the parent")
        return runtime_flow_run.id, child()

    parent_id, child_id = parent()

    assert "from the child" in recorded.log_messages(flow_run_id=child_id)
    assert "from the child" not in recorded.log_messages(flow_run_id=parent_id)
    assert "from the parent" in recorded.log_messages(flow_run_id=parent_id)


def test_log_rows_have_timestamps_near_now(recorded):
    @flow
    def logs_something():
        get_run_logger().info("timed")

    before = time.time()
    logs_something()
    after = time.time()

    (row,) = [r for r in recorded.logs() if r["message"] == "timed"]
    assert before - 1 <= row["timestamp"] <= after + 1


def test_debug_lines_are_not_recorded_by_default(recorded):
    @flow
    def logs_something():
        get_run_logger().debug("too chatty")

    logs_something()

    assert "too chatty" not in recorded.log_messages()


def test_finished_line_is_recorded(recorded):
    @flow
    def fine():
        return 1

    fine()

    run_id = recorded.only_flow_run()["id"]
    assert any(
        "Finished in state Completed()" in m for m in recorded.log_messages(flow_run_id=run_id)
    )


def test_task_finished_line_is_recorded_with_the_task_run(recorded):
    @task
    def step():
        return runtime_task_run.id

    @flow
    def pipeline():
        return step()

    task_run_id = pipeline()

    assert any(
        "Finished in state Completed()" in m for m in recorded.log_messages(task_run_id=task_run_id)
    )


def test_run_logger_in_a_task_outside_a_flow(recorded):
    @task
    def standalone():
        get_run_logger().info("standalone task log")
        return runtime_task_run.id

    task_run_id = standalone()

    (row,) = [r for r in recorded.logs() if r["message"] == "standalone task log"]
    assert row["task_run_id"] == str(task_run_id)
    assert row["flow_run_id"] is None


def test_get_logger_names_loggers_under_legato():
    assert get_logger().name == "legato"
    assert get_logger("engine").name == "legato.engine"
    assert isinstance(get_logger("engine"), logging.Logger)


# -- log_prints ---------------------------------------------------------------


def test_log_prints_turns_print_into_a_run_log(recorded):
    @flow(log_prints=True)
    def chatty():
        print("printed in the flow")

    chatty()

    rows = [r for r in recorded.logs() if r["message"] == "printed in the flow"]
    assert len(rows) == 1
    assert rows[0]["level"] == logging.INFO
    assert rows[0]["flow_run_id"] == recorded.only_flow_run()["id"]


def test_print_is_not_logged_without_log_prints(recorded, capsys):
    @flow
    def quiet():
        print("plain print")

    quiet()

    assert "plain print" not in recorded.log_messages()
    assert "plain print" in capsys.readouterr().out


def test_tasks_inherit_log_prints_from_the_flow(recorded):
    @task
    def chatty_task():
        print("printed in the task")
        return runtime_task_run.id

    @flow(log_prints=True)
    def chatty():
        return chatty_task()

    task_run_id = chatty()

    assert "printed in the task" in recorded.log_messages(task_run_id=task_run_id)


def test_task_log_prints_false_overrides_the_flow(recorded):
    @task(log_prints=False)
    def quiet_task():
        print("not a log line")

    @flow(log_prints=True)
    def chatty():
        quiet_task()

    chatty()

    assert "not a log line" not in recorded.log_messages()


def test_task_log_prints_true_in_a_quiet_flow(recorded):
    @task(log_prints=True)
    def chatty_task():
        print("task-level print")

    @flow
    def quiet():
        chatty_task()

    quiet()

    assert "task-level print" in recorded.log_messages()


def test_print_is_restored_after_a_log_prints_run(recorded, capsys):
    @flow(log_prints=True)
    def chatty():
        print("inside")

    chatty()
    print("after the run")

    assert "after the run" in capsys.readouterr().out
    assert "after the run" not in recorded.log_messages()


# -- the console --------------------------------------------------------------

_CONSOLE_SCRIPT = textwrap.dedent(
    """
    from legato import flow, task

    @task
    def step():
        return 1

    @flow(name="console-flow", flow_run_name="console-run")
    def fine():
        return step()

    @flow(name="console-broken", flow_run_name="broken-run")
    def broken():
        raise ValueError("console failure")

    fine()
    broken(return_state=True)
    """
)


def _run_console_script(legato_home) -> str:
    env = {**os.environ, "LEGATO_HOME": str(legato_home)}
    done = subprocess.run(
        [sys.executable, "-c", _CONSOLE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_console_shows_a_start_and_a_finished_line_per_flow_run(legato_home):
    output = _run_console_script(legato_home)

    lines = output.splitlines()
    fine_lines = [line for line in lines if "console-run" in line]
    assert any("Finished in state Completed()" in line for line in fine_lines)
    assert len(fine_lines) >= 2  # one when it starts, one when it ends
    broken_lines = [line for line in lines if "broken-run" in line]
    assert any("Finished in state Failed(" in line for line in broken_lines)
