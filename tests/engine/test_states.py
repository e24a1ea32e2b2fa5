"""States: types, named constructors, predicates, results, and run histories."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legato import flow, task
from legato.exceptions import CancelledRun, CrashedRun, FailedRun
from legato.runtime import flow_run as runtime_flow_run
from legato.states import (
    AwaitingRetry,
    Cached,
    Cancelled,
    Cancelling,
    Completed,
    Crashed,
    Failed,
    Late,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    StateType,
    Suspended,
    TimedOut,
)

# (constructor, type, name) for every named state Prefect 3 documents.
NAMED_STATES = [
    (Scheduled, StateType.SCHEDULED, "Scheduled"),
    (Late, StateType.SCHEDULED, "Late"),
    (AwaitingRetry, StateType.SCHEDULED, "AwaitingRetry"),
    (Pending, StateType.PENDING, "Pending"),
    (Running, StateType.RUNNING, "Running"),
    (Retrying, StateType.RUNNING, "Retrying"),
    (Completed, StateType.COMPLETED, "Completed"),
    (Cached, StateType.COMPLETED, "Cached"),
    (Failed, StateType.FAILED, "Failed"),
    (TimedOut, StateType.FAILED, "TimedOut"),
    (Crashed, StateType.CRASHED, "Crashed"),
    (Cancelling, StateType.CANCELLING, "Cancelling"),
    (Cancelled, StateType.CANCELLED, "Cancelled"),
    (Paused, StateType.PAUSED, "Paused"),
    (Suspended, StateType.PAUSED, "Suspended"),
]

PREDICATES = {
    StateType.SCHEDULED: "is_scheduled",
    StateType.PENDING: "is_pending",
    StateType.RUNNING: "is_running",
    StateType.COMPLETED: "is_completed",
    StateType.FAILED: "is_failed",
    StateType.CRASHED: "is_crashed",
    StateType.CANCELLING: "is_cancelling",
    StateType.CANCELLED: "is_cancelled",
    StateType.PAUSED: "is_paused",
}

FINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


def test_state_types_are_the_documented_ones():
    assert {t.name for t in StateType} >= {
        "SCHEDULED",
        "PENDING",
        "RUNNING",
        "COMPLETED",
        "FAILED",
        "CRASHED",
        "CANCELLING",
        "CANCELLED",
        "PAUSED",
    }


def test_state_type_values_are_their_names():
    for state_type in StateType:
        assert state_type.value == state_type.name


@pytest.mark.parametrize(("constructor", "state_type", "name"), NAMED_STATES)
def test_named_constructor_sets_type_and_name(constructor, state_type, name):
    state = constructor()

    assert isinstance(state, State)
    assert state.type == state_type
    assert state.name == name


@pytest.mark.parametrize(("constructor", "state_type", "name"), NAMED_STATES)
def test_exactly_one_type_predicate_is_true(constructor, state_type, name):
    state = constructor()

    true_predicates = [p for p in PREDICATES.values() if getattr(state, p)()]
    assert true_predicates == [PREDICATES[state_type]]


@pytest.mark.parametrize(("constructor", "state_type", "name"), NAMED_STATES)
def test_is_final_for_terminal_types_only(constructor, state_type, name):
    assert constructor().is_final() is (state_type in FINAL)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=st.sampled_from(NAMED_STATES), message=st.text(max_size=40))
def test_constructors_keep_the_message_and_predicates_follow_the_type(entry, message):
    constructor, state_type, name = entry

    state = constructor(message=message)

    assert state.message == message
    assert (state.type, state.name) == (state_type, name)
    for predicate_type, predicate in PREDICATES.items():
        assert getattr(state, predicate)() is (predicate_type == state_type)


def test_state_class_with_explicit_type_and_name():
    state = State(type=StateType.COMPLETED, name="Custom", message="hand made")

    assert state.is_completed()
    assert (state.name, state.message) == ("Custom", "hand made")


def test_state_name_defaults_from_its_type():
    state = State(type=StateType.RUNNING)

    assert state.name == "Running"


def test_state_has_an_aware_timestamp_near_now():
    before = dt.datetime.now(dt.UTC)
    state = Completed()
    after = dt.datetime.now(dt.UTC)

    assert isinstance(state.timestamp, dt.datetime)
    assert state.timestamp.tzinfo is not None
    assert before - dt.timedelta(seconds=1) <= state.timestamp <= after + dt.timedelta(seconds=1)


def test_later_states_have_later_or_equal_timestamps():
    states = [Pending(), Running(), Completed()]

    timestamps = [s.timestamp for s in states]
    assert timestamps == sorted(timestamps)


def test_state_str_looks_like_prefects():
    assert str(Completed()) == "Completed()"
    assert str(Failed(message="boom")) == "Failed('boom')"


def test_scheduled_state_accepts_a_scheduled_time():
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

    state = Scheduled(scheduled_time=when)

    assert state.is_scheduled()
    assert state.state_details.scheduled_time == when


# -- state.result() -----------------------------------------------------------


def test_completed_state_result_returns_its_data():
    assert Completed(data={"rows": 3}).result() == {"rows": 3}


def test_failed_state_with_an_exception_raises_it():
    with pytest.raises(KeyError):
        Failed(data=KeyError("k")).result()


def test_failed_state_without_data_raises_failed_run_with_the_message():
    with pytest.raises(FailedRun, match="it broke"):
        Failed(message="it broke").result()


def test_crashed_state_raises_crashed_run():
    with pytest.raises(CrashedRun, match="process died"):
        Crashed(message="process died").result()


def test_cancelled_state_raises_cancelled_run():
    with pytest.raises(CancelledRun, match="user stopped it"):
        Cancelled(message="user stopped it").result()


def test_run_error_carries_the_state():
    state = Failed(message="carry me")

    with pytest.raises(FailedRun) as info:
        state.result()

    assert info.value.state is not None
    assert info.value.state.message == "carry me"


def test_result_without_raising_returns_the_exception():
    error = ValueError("quiet")

    assert Failed(data=error).result(raise_on_failure=False) is error


def test_result_without_raising_wraps_a_message_only_failure():
    outcome = Failed(message="only a message").result(raise_on_failure=False)

    assert isinstance(outcome, FailedRun)
    assert "only a message" in str(outcome)


def test_flow_state_result_returns_the_flow_value():
    @flow
    def answer():
        return 42

    assert answer(return_state=True).result() == 42


def test_flow_returning_cancelled_ends_cancelled():
    @flow
    def stop_early():
        return Cancelled(message="not today")

    state = stop_early(return_state=True)

    assert state.is_cancelled()
    with pytest.raises(CancelledRun, match="not today"):
        state.result()


# -- histories under retries (property) ---------------------------------------


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(failures=st.integers(min_value=0, max_value=3), retries=st.integers(0, 2))
def test_task_history_follows_failures_and_retries(recorded, failures, retries):
    attempts = []

    @task(retries=retries)
    def flaky():
        attempts.append(1)
        if len(attempts) <= failures:
            raise RuntimeError(f"attempt {len(attempts)} failed")
        return "ok"

    @flow
    def pipeline():
        future = flaky.submit()
        future.wait()
        return runtime_flow_run.id, future.task_run_id

    _, task_run_id = pipeline()

    succeeded = failures <= retries
    expected_runs = failures + 1 if succeeded else retries + 1
    row = recorded.task_run(task_run_id)
    history = recorded.states(task_run_id=task_run_id)
    types = [s["type"] for s in history]

    assert len(attempts) == expected_runs
    assert row["run_count"] == expected_runs
    assert row["state_type"] == ("COMPLETED" if succeeded else "FAILED")
    assert types[0] == "PENDING"
    assert types[-1] == row["state_type"]
    assert types.count("RUNNING") == expected_runs
    assert all(t not in ("COMPLETED", "FAILED") for t in types[:-1])
    stamps = [s["timestamp"] for s in history]
    assert stamps == sorted(stamps)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(outcome=st.sampled_from(["return", "raise", "fail-state", "complete-state"]))
def test_flow_history_starts_pending_and_ends_in_one_final_state(recorded, outcome):
    @flow
    def run():
        flow_run_id = runtime_flow_run.id
        ids.append(flow_run_id)
        if outcome == "raise":
            raise RuntimeError("raised")
        if outcome == "fail-state":
            return Failed(message="failed state")
        if outcome == "complete-state":
            return Completed(message="completed state")
        return 1

    ids: list = []
    run(return_state=True)

    types = recorded.state_types(flow_run_id=ids[0])
    expected_final = "FAILED" if outcome in ("raise", "fail-state") else "COMPLETED"
    assert types == ["PENDING", "RUNNING", expected_final]
    assert recorded.flow_run(ids[0])["state_type"] == expected_final
