"""State change hooks on flows and tasks."""

from __future__ import annotations

import time

import pytest

from legato import Flow, Task, flow, task
from legato.runtime import flow_run as runtime_flow_run


class Hook:
    """Records every call as (obj, run, state)."""

    def __init__(self, name: str = "hook") -> None:
        self.calls: list[tuple] = []
        self.__name__ = name

    def __call__(self, obj, run, state):
        self.calls.append((obj, run, state))


class Crash(BaseException):
    """Not an Exception: Prefect treats it as a crash, not a failure."""


# -- flow hooks ---------------------------------------------------------------


def test_flow_on_completion_receives_flow_flow_run_and_state(recorded):
    hook = Hook()

    @flow(on_completion=[hook])
    def done():
        return runtime_flow_run.id

    flow_run_id = done()

    ((obj, run, state),) = hook.calls
    assert obj is done or (isinstance(obj, Flow) and obj.name == done.name)
    assert str(run.id) == str(flow_run_id) == recorded.only_flow_run()["id"]
    assert state.is_completed()


def test_flow_on_completion_is_not_called_on_failure():
    hook = Hook()

    @flow(on_completion=[hook])
    def broken():
        raise ValueError("x")

    broken(return_state=True)

    assert hook.calls == []


def test_flow_on_failure_receives_the_failed_state():
    hook = Hook()

    @flow(on_failure=[hook])
    def broken():
        raise ValueError("flow broke")

    with pytest.raises(ValueError):
        broken()

    ((_, _, state),) = hook.calls
    assert state.is_failed()
    assert "flow broke" in state.message


def test_flow_on_failure_is_not_called_on_completion():
    hook = Hook()

    @flow(on_failure=[hook])
    def fine():
        return 1

    fine()

    assert hook.calls == []


def test_flow_on_failure_runs_once_after_the_last_retry():
    hook = Hook()
    attempts = []

    @flow(retries=2, on_failure=[hook])
    def broken():
        attempts.append(1)
        raise ValueError("always")

    broken(return_state=True)

    assert len(attempts) == 3
    assert len(hook.calls) == 1


def test_flow_on_failure_runs_for_a_timeout():
    hook = Hook()

    @flow(timeout_seconds=0.1, on_failure=[hook])
    def stuck():
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.01)

    stuck(return_state=True)

    ((_, _, state),) = hook.calls
    assert state.name == "TimedOut"


def test_flow_on_running_receives_a_running_state():
    hook = Hook()

    @flow(on_running=[hook])
    def fine():
        return 1

    fine()

    assert hook.calls
    assert all(state.is_running() for _, _, state in hook.calls)


def test_flow_on_crashed_runs_when_a_base_exception_escapes(recorded):
    hook = Hook()

    @flow(on_crashed=[hook])
    def crashing():
        raise Crash()

    with pytest.raises(Crash):
        crashing()

    ((_, _, state),) = hook.calls
    assert state.is_crashed()
    assert recorded.only_flow_run()["state_type"] == "CRASHED"


def test_flow_on_cancellation_is_not_called_for_completed_runs():
    hook = Hook()

    @flow(on_cancellation=[hook])
    def fine():
        return 1

    assert fine() == 1
    assert hook.calls == []


def test_flow_hooks_run_in_the_order_given():
    order = []

    def first(flow_obj, flow_run, state):
        order.append("first")

    def second(flow_obj, flow_run, state):
        order.append("second")

    @flow(on_completion=[first, second])
    def fine():
        return 1

    fine()

    assert order == ["first", "second"]


def test_exception_in_a_flow_hook_keeps_the_state_and_is_logged(recorded):
    def exploding_completion_hook(flow_obj, flow_run, state):
        raise RuntimeError("hook blew up")

    @flow(on_completion=[exploding_completion_hook])
    def fine():
        return "value"

    assert fine() == "value"

    run = recorded.only_flow_run()
    assert run["state_type"] == "COMPLETED"
    messages = " ".join(recorded.log_messages())
    assert "exploding_completion_hook" in messages


def test_exception_in_a_failure_hook_keeps_the_original_error(recorded):
    def exploding_failure_hook(flow_obj, flow_run, state):
        raise RuntimeError("hook blew up")

    @flow(on_failure=[exploding_failure_hook])
    def broken():
        raise ValueError("original")

    with pytest.raises(ValueError, match="original"):
        broken()

    assert recorded.only_flow_run()["state_type"] == "FAILED"


def test_a_failing_hook_does_not_stop_the_next_hook():
    later = Hook()

    def exploding(flow_obj, flow_run, state):
        raise RuntimeError("first hook fails")

    @flow(on_completion=[exploding, later])
    def fine():
        return 1

    fine()

    assert len(later.calls) == 1


# -- task hooks ---------------------------------------------------------------


def test_task_on_completion_receives_task_task_run_and_state():
    hook = Hook()

    @task(on_completion=[hook])
    def work():
        return 1

    @flow
    def pipeline():
        future = work.submit()
        future.wait()
        return future.task_run_id

    task_run_id = pipeline()

    ((obj, run, state),) = hook.calls
    assert obj is work or (isinstance(obj, Task) and obj.name == work.name)
    assert str(run.id) == str(task_run_id)
    assert state.is_completed()


def test_task_on_failure_runs_once_after_the_last_retry():
    hook = Hook()
    attempts = []

    @task(retries=2, on_failure=[hook])
    def broken():
        attempts.append(1)
        raise ValueError("task broke")

    @flow
    def pipeline():
        broken(return_state=True)

    pipeline()

    assert len(attempts) == 3
    ((_, _, state),) = hook.calls
    assert state.is_failed()


def test_task_on_completion_is_not_called_on_failure():
    hook = Hook()

    @task(on_completion=[hook])
    def broken():
        raise ValueError("x")

    @flow
    def pipeline():
        broken(return_state=True)

    pipeline()

    assert hook.calls == []


def test_task_on_running_receives_a_running_state():
    hook = Hook()

    @task(on_running=[hook])
    def work():
        return 1

    @flow
    def pipeline():
        return work()

    pipeline()

    assert hook.calls
    assert all(state.is_running() for _, _, state in hook.calls)


def test_task_hooks_run_for_tasks_outside_flows():
    hook = Hook()

    @task(on_completion=[hook])
    def work():
        return 1

    assert work() == 1
    assert len(hook.calls) == 1


def test_exception_in_a_task_hook_keeps_the_state_and_is_logged(recorded):
    def exploding_task_hook(task_obj, task_run, state):
        raise RuntimeError("task hook blew up")

    @task(on_completion=[exploding_task_hook])
    def work():
        return "value"

    @flow
    def pipeline():
        return work()

    assert pipeline() == "value"

    run = recorded.only_task_run()
    assert run["state_type"] == "COMPLETED"
    messages = " ".join(recorded.log_messages())
    assert "exploding_task_hook" in messages
