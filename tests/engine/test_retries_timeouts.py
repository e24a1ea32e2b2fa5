"""Retries (counts, delays, conditions) and timeouts on tasks and flows."""

from __future__ import annotations

import time

import pytest

from legato import flow, task
from legato.runtime import flow_run as runtime_flow_run
from legato.runtime import task_run as runtime_task_run
from legato.states import State


def busy_for(seconds: float) -> str:
    """Simulated work: small sleeps that a timeout must be able to interrupt."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return "not interrupted"


def failing_times(n: int, error: type[Exception] = RuntimeError):
    """A function that fails its first ``n`` calls, then returns the call count."""
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= n:
            raise error(f"failure {len(calls)}")
        return len(calls)

    fn.calls = calls
    return fn


# -- task retries -------------------------------------------------------------


def test_task_retries_until_it_succeeds():
    body = failing_times(2)
    flaky = task(retries=2)(body)

    @flow
    def pipeline():
        return flaky()

    assert pipeline() == 3
    assert len(body.calls) == 3


def test_task_fails_once_retries_are_exhausted(recorded):
    body = failing_times(5)
    flaky = task(retries=2)(body)

    @flow
    def pipeline():
        flaky()

    with pytest.raises(RuntimeError, match="failure 3"):
        pipeline()

    assert len(body.calls) == 3
    row = recorded.only_task_run()
    assert (row["state_type"], row["run_count"]) == ("FAILED", 3)


def test_task_without_retries_runs_once():
    body = failing_times(1)
    once = task(body)

    @flow
    def pipeline():
        return once(return_state=True).is_failed()

    assert pipeline() is True
    assert len(body.calls) == 1


def test_runtime_run_count_counts_task_attempts():
    seen = []

    @task(retries=2)
    def flaky():
        seen.append(runtime_task_run.run_count)
        if len(seen) < 3:
            raise RuntimeError("again")

    @flow
    def pipeline():
        flaky()

    pipeline()

    assert seen == [1, 2, 3]


def test_task_retry_delay_is_waited():
    flaky = task(retries=1, retry_delay_seconds=0.3)(failing_times(1))

    @flow
    def pipeline():
        return flaky()

    started = time.monotonic()
    pipeline()

    assert time.monotonic() - started >= 0.3


def test_task_retry_delays_per_attempt_are_waited():
    flaky = task(retries=2, retry_delay_seconds=[0.1, 0.3])(failing_times(2))

    @flow
    def pipeline():
        return flaky()

    started = time.monotonic()
    assert pipeline() == 3

    assert time.monotonic() - started >= 0.4


def test_last_retry_delay_repeats_when_the_list_is_short():
    flaky = task(retries=3, retry_delay_seconds=[0.01, 0.2])(failing_times(3))

    @flow
    def pipeline():
        return flaky()

    started = time.monotonic()
    assert pipeline() == 4

    assert time.monotonic() - started >= 0.4


def test_task_retry_delay_callable_gets_the_number_of_retries():
    asked = []

    def delays(retries):
        asked.append(retries)
        return [0.01] * retries

    flaky = task(retries=3, retry_delay_seconds=delays)(failing_times(1))

    @flow
    def pipeline():
        return flaky()

    assert pipeline() == 2
    assert asked and set(asked) == {3}


def test_delayed_retry_is_recorded_as_awaiting_retry(recorded):
    flaky = task(retries=1, retry_delay_seconds=0.05)(failing_times(1))

    @flow
    def pipeline():
        flaky()

    pipeline()

    names = recorded.state_names(task_run_id=recorded.only_task_run()["id"])
    assert "AwaitingRetry" in names
    assert names[-1] == "Completed"


def test_retry_jitter_factor_still_retries():
    flaky = task(retries=2, retry_delay_seconds=0.05, retry_jitter_factor=0.5)(failing_times(2))

    @flow
    def pipeline():
        return flaky()

    assert pipeline() == 3


def test_retry_condition_fn_receives_task_task_run_and_state():
    received = []

    def condition(task_obj, task_run, state):
        received.append((task_obj, task_run, state))
        return True

    body = failing_times(1)
    flaky = task(retries=1, retry_condition_fn=condition)(body)

    @flow
    def pipeline():
        return flaky()

    assert pipeline() == 2
    (task_obj, task_run, state) = received[0]
    assert task_obj.name == flaky.name
    assert task_run.id is not None
    assert isinstance(state, State)


def test_retry_condition_fn_returning_false_stops_retries():
    body = failing_times(3)
    flaky = task(retries=3, retry_condition_fn=lambda t, r, s: False)(body)

    @flow
    def pipeline():
        return flaky(return_state=True).is_failed()

    assert pipeline() is True
    assert len(body.calls) == 1


def test_retry_condition_fn_can_choose_by_exception_type():
    def retry_on_connection_errors(task_obj, task_run, state):
        try:
            state.result()
        except ConnectionError:
            return True
        except Exception:
            return False
        return True

    transient = task(retries=3, retry_condition_fn=retry_on_connection_errors)(
        failing_times(2, ConnectionError)
    )
    permanent_body = failing_times(2, KeyError)
    permanent = task(retries=3, retry_condition_fn=retry_on_connection_errors)(permanent_body)

    @flow
    def pipeline():
        return transient(), permanent(return_state=True).is_failed()

    assert pipeline() == (3, True)
    assert len(permanent_body.calls) == 1


# -- task timeouts ------------------------------------------------------------


def test_task_timeout_ends_in_timed_out(recorded):
    @task(timeout_seconds=0.2)
    def stuck():
        return busy_for(5)

    @flow
    def pipeline():
        state = stuck(return_state=True)
        return state.name, state.is_failed()

    started = time.monotonic()
    outcome = pipeline()
    elapsed = time.monotonic() - started

    assert outcome == ("TimedOut", True)
    assert elapsed < 3
    row = recorded.only_task_run()
    assert (row["state_type"], row["state_name"]) == ("FAILED", "TimedOut")


def test_task_timeout_raises_a_timeout_error_in_the_flow():
    @task(timeout_seconds=0.2)
    def stuck():
        return busy_for(5)

    @flow
    def pipeline():
        stuck()

    with pytest.raises(TimeoutError):
        pipeline()


def test_submitted_task_timeout_state_is_timed_out():
    @task(timeout_seconds=0.2)
    def stuck():
        return busy_for(5)

    @flow
    def pipeline():
        future = stuck.submit()
        future.wait(5)
        return future.state.name, future.state.is_failed()

    assert pipeline() == ("TimedOut", True)


def test_task_finishing_within_its_timeout_completes():
    @task(timeout_seconds=2)
    def fast():
        return busy_for(0.02)

    @flow
    def pipeline():
        return fast()

    assert pipeline() == "not interrupted"


def test_task_timeout_counts_as_a_failure_for_retries(recorded):
    attempts = []

    @task(timeout_seconds=0.1, retries=1)
    def stuck():
        attempts.append(1)
        return busy_for(5)

    @flow
    def pipeline():
        stuck(return_state=True)

    started = time.monotonic()
    pipeline()

    assert time.monotonic() - started < 4
    assert len(attempts) == 2
    row = recorded.only_task_run()
    assert (row["state_name"], row["run_count"]) == ("TimedOut", 2)


# -- flow retries -------------------------------------------------------------


def test_flow_retries_until_it_succeeds():
    body = failing_times(1)
    flaky = flow(retries=2)(body)

    assert flaky() == 2


def test_flow_run_count_counts_attempts(recorded):
    seen = []

    @flow(retries=2)
    def flaky():
        seen.append(runtime_flow_run.run_count)
        if len(seen) < 3:
            raise RuntimeError("again")
        return "ok"

    assert flaky() == "ok"

    assert seen == [1, 2, 3]
    row = recorded.only_flow_run()
    assert (row["state_type"], row["run_count"]) == ("COMPLETED", 3)


def test_flow_fails_once_retries_are_exhausted(recorded):
    body = failing_times(10)
    flaky = flow(retries=1)(body)

    with pytest.raises(RuntimeError, match="failure 2"):
        flaky()

    assert len(body.calls) == 2
    assert recorded.only_flow_run()["state_type"] == "FAILED"


def test_flow_retry_delay_is_waited():
    flaky = flow(retries=1, retry_delay_seconds=0.3)(failing_times(1))

    started = time.monotonic()
    assert flaky() == 2

    assert time.monotonic() - started >= 0.3


def test_flow_retry_history_runs_twice(recorded):
    flaky = flow(retries=1)(failing_times(1))

    flaky()

    types = recorded.state_types(flow_run_id=recorded.only_flow_run()["id"])
    assert types[0] == "PENDING"
    assert types.count("RUNNING") == 2
    assert types[-1] == "COMPLETED"


# -- flow timeouts ------------------------------------------------------------


def test_flow_timeout_raises_a_timeout_error():
    @flow(timeout_seconds=0.2)
    def stuck():
        return busy_for(5)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        stuck()

    assert time.monotonic() - started < 3


def test_flow_timeout_state_is_timed_out(recorded):
    @flow(timeout_seconds=0.2)
    def stuck():
        return busy_for(5)

    state = stuck(return_state=True)

    assert state.is_failed()
    assert state.name == "TimedOut"
    with pytest.raises(TimeoutError):
        state.result()
    row = recorded.only_flow_run()
    assert (row["state_type"], row["state_name"]) == ("FAILED", "TimedOut")


def test_flow_timeout_message_names_the_timeout():
    @flow(timeout_seconds=0.2)
    def stuck():
        return busy_for(5)

    state = stuck(return_state=True)

    assert "0.2" in state.message


def test_flow_finishing_within_its_timeout_completes():
    @flow(timeout_seconds=2)
    def fast():
        return busy_for(0.02)

    assert fast() == "not interrupted"
