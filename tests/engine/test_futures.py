"""Futures: wait, result, state, callbacks, and the module-level helpers."""

from __future__ import annotations

import threading
import uuid

import pytest

from legato import flow, task
from legato.futures import (
    as_completed,
    resolve_futures_to_results,
    resolve_futures_to_states,
    wait,
)
from legato.states import State

GATES: dict[str, threading.Event] = {}


@task
def gated(name, value):
    """Returns ``value`` once the test opens gate ``name`` (bounded wait)."""
    assert GATES[name].wait(5), f"gate {name} never opened"
    return value


@task
def quick(value):
    return value


@task
def broken():
    raise ValueError("broken task")


@pytest.fixture(autouse=True)
def _gates():
    GATES.clear()
    yield
    for gate in GATES.values():
        gate.set()  # never leave a worker blocked
    GATES.clear()


def gate(name: str) -> threading.Event:
    GATES[name] = threading.Event()
    return GATES[name]


# -- a single future ----------------------------------------------------------


def test_result_returns_the_task_value():
    @flow
    def pipeline():
        return quick.submit(3).result()

    assert pipeline() == 3


def test_result_reraises_the_task_exception():
    @flow
    def pipeline():
        future = broken.submit()
        with pytest.raises(ValueError, match="broken task"):
            future.result()
        return True

    assert pipeline() is True


def test_result_without_raising_returns_the_exception():
    @flow
    def pipeline():
        return broken.submit().result(raise_on_failure=False)

    outcome = pipeline()

    assert isinstance(outcome, ValueError)
    assert str(outcome) == "broken task"


def test_result_with_a_timeout_raises_timeout_error_while_running():
    opened = gate("slow")

    @flow
    def pipeline():
        future = gated.submit("slow", 1)
        with pytest.raises(TimeoutError):
            future.result(timeout=0.1)
        opened.set()
        return future.result(timeout=5)

    assert pipeline() == 1


def test_wait_with_a_timeout_returns_while_the_task_is_not_done():
    opened = gate("slow")

    @flow
    def pipeline():
        future = gated.submit("slow", 1)
        future.wait(0.1)
        unfinished = future.state.is_final()
        opened.set()
        future.wait(5)
        return unfinished, future.state.is_completed()

    assert pipeline() == (False, True)


def test_wait_without_timeout_waits_for_the_final_state():
    @flow
    def pipeline():
        future = quick.submit(1)
        future.wait()
        return future.state.is_completed()

    assert pipeline() is True


def test_state_is_a_state_before_and_after_completion():
    opened = gate("slow")

    @flow
    def pipeline():
        future = gated.submit("slow", 1)
        before = future.state
        opened.set()
        future.wait(5)
        after = future.state
        # Plain values only: a flow returning states takes its final state from them.
        return (
            isinstance(before, State) and not before.is_final(),
            isinstance(after, State) and after.is_completed(),
        )

    assert pipeline() == (True, True)


def test_failed_future_state_is_failed():
    @flow
    def pipeline():
        future = broken.submit()
        future.wait()
        return future.state.is_failed()

    assert pipeline() is True


def test_task_run_id_is_a_uuid_of_a_recorded_task_run(recorded):
    @flow
    def pipeline():
        future = quick.submit(1)
        future.wait()
        return future.task_run_id

    task_run_id = pipeline()

    uuid.UUID(str(task_run_id))
    assert recorded.task_run(task_run_id)["state_type"] == "COMPLETED"


def test_done_callback_is_called_with_the_future():
    seen = []
    called = threading.Event()

    def on_done(future):
        seen.append(future)
        called.set()

    @flow
    def outer():
        future = quick.submit(1)
        future.add_done_callback(on_done)
        future.wait()
        assert called.wait(5)
        return seen[0] is future

    assert outer() is True


def test_done_callback_added_after_completion_is_called():
    seen = []

    @flow
    def pipeline():
        future = quick.submit(1)
        future.wait()
        future.add_done_callback(seen.append)
        return len(seen) == 1 and seen[0] is future

    assert pipeline() is True


# -- wait() -------------------------------------------------------------------


def test_wait_returns_all_futures_done():
    @flow
    def pipeline():
        futures = [quick.submit(i) for i in range(3)]
        done, not_done = wait(futures)
        return len(done), len(not_done)

    assert pipeline() == (3, 0)


def test_wait_result_has_done_and_not_done_attributes():
    opened = gate("slow")

    @flow
    def pipeline():
        finished = quick.submit(1)
        finished.wait()
        pending = gated.submit("slow", 2)
        result = wait([finished, pending], timeout=0.1)
        split = (finished in result.done, pending in result.not_done)
        opened.set()
        pending.wait(5)
        return split

    assert pipeline() == (True, True)


def test_wait_counts_failed_futures_as_done():
    @flow
    def pipeline():
        done, not_done = wait([broken.submit(), quick.submit(1)], timeout=5)
        return len(done), len(not_done)

    assert pipeline() == (2, 0)


# -- as_completed() -----------------------------------------------------------


def test_as_completed_yields_in_completion_order():
    first_gate, second_gate = gate("first"), gate("second")

    @flow
    def pipeline():
        late = gated.submit("second", "late")
        early = gated.submit("first", "early")
        order = []
        first_gate.set()
        for future in as_completed([late, early], timeout=5):
            order.append(future.result())
            second_gate.set()
        return order

    assert pipeline() == ["early", "late"]


def test_as_completed_yields_every_future_once():
    @flow
    def pipeline():
        futures = [quick.submit(i) for i in range(5)]
        return sorted(f.result() for f in as_completed(futures))

    assert pipeline() == [0, 1, 2, 3, 4]


def test_as_completed_raises_timeout_error_when_futures_remain():
    opened = gate("never")

    @flow
    def pipeline():
        pending = gated.submit("never", 1)
        with pytest.raises(TimeoutError):
            for _ in as_completed([pending], timeout=0.1):
                pass
        opened.set()
        return pending.result(timeout=5)

    assert pipeline() == 1


# -- resolving nested structures ----------------------------------------------


def test_resolve_futures_to_results_keeps_the_structure():
    @flow
    def pipeline():
        expr = {"a": [quick.submit(1), quick.submit(2)], "b": (quick.submit(3), "plain")}
        return resolve_futures_to_results(expr)

    assert pipeline() == {"a": [1, 2], "b": (3, "plain")}


def test_resolve_futures_to_states_keeps_the_structure():
    @flow
    def pipeline():
        expr = {"ok": quick.submit(1), "bad": [broken.submit()], "plain": 5}
        resolved = resolve_futures_to_states(expr)
        return (
            isinstance(resolved["ok"], State) and resolved["ok"].is_completed(),
            isinstance(resolved["bad"][0], State) and resolved["bad"][0].is_failed(),
            resolved["plain"],
        )

    assert pipeline() == (True, True, 5)


# -- future lists from map ----------------------------------------------------


def test_future_list_result_with_timeout_raises_while_running():
    opened = gate("slow")

    @flow
    def pipeline():
        futures = gated.map(["slow", "slow"], [1, 2])
        with pytest.raises(TimeoutError):
            futures.result(timeout=0.1)
        opened.set()
        return futures.result(timeout=5)

    assert pipeline() == [1, 2]


def test_future_list_wait_with_timeout_returns():
    opened = gate("slow")

    @flow
    def pipeline():
        futures = gated.map(["slow"], [1])
        futures.wait(0.1)
        still_running = not futures[0].state.is_final()
        opened.set()
        futures.wait(5)
        return still_running, futures[0].state.is_completed()

    assert pipeline() == (True, True)
