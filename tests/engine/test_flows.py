"""The @flow decorator and Flow objects: options, calling conventions, subflows."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

import legato
from legato import Flow, flow, task
from legato.runtime import flow_run as runtime_flow_run
from legato.states import Completed, Failed, State
from legato.task_runners import ThreadPoolTaskRunner

# -- decorating ---------------------------------------------------------------


def test_top_level_names_are_exported():
    for name in ("flow", "Flow", "task", "Task", "State", "get_run_logger", "tags"):
        assert name in legato.__all__, name
        assert getattr(legato, name) is not None
    for name in ("unmapped", "allow_failure"):
        assert hasattr(legato, name), name


def test_flow_decorator_without_arguments_returns_a_flow():
    @flow
    def plain():
        return 1

    assert isinstance(plain, Flow)


def test_flow_decorator_with_arguments_returns_a_flow():
    @flow(name="named")
    def plain():
        return 1

    assert isinstance(plain, Flow)
    assert plain.name == "named"


def test_flow_decorator_with_empty_parentheses():
    @flow()
    def plain():
        return 1

    assert isinstance(plain, Flow)
    assert plain() == 1


def test_flow_class_wraps_a_function_directly():
    def add(x, y):
        return x + y

    add_flow = Flow(add, name="adder")

    assert add_flow(1, 2) == 3
    assert add_flow.name == "adder"


def test_flow_name_defaults_to_the_function_name_with_hyphens():
    @flow
    def my_etl_flow():
        return None

    assert my_etl_flow.name == "my-etl-flow"


def test_flow_description_defaults_to_the_docstring():
    @flow
    def documented():
        """Loads the warehouse."""

    assert documented.description == "Loads the warehouse."


def test_flow_stores_every_documented_option():
    runner = ThreadPoolTaskRunner(max_workers=3)

    def hook(flow, flow_run, state):
        return None

    @flow(
        name="configured",
        version="1.2.3",
        flow_run_name="run-{x}",
        description="explicit",
        retries=2,
        retry_delay_seconds=0.5,
        timeout_seconds=30,
        validate_parameters=False,
        task_runner=runner,
        log_prints=True,
        persist_result=True,
        result_serializer="json",
        cache_result_in_memory=False,
        on_completion=[hook],
        on_failure=[hook],
        on_crashed=[hook],
        on_cancellation=[hook],
        on_running=[hook],
    )
    def configured(x):
        return x

    assert configured.name == "configured"
    assert configured.version == "1.2.3"
    assert configured.flow_run_name == "run-{x}"
    assert configured.description == "explicit"
    assert configured.retries == 2
    assert configured.retry_delay_seconds == 0.5
    assert configured.timeout_seconds == 30
    assert configured.should_validate_parameters is False
    assert configured.task_runner is runner
    assert configured.log_prints is True
    assert configured.persist_result is True
    assert configured.result_serializer == "json"
    assert configured.cache_result_in_memory is False


def test_flow_accepts_result_storage(tmp_path):
    @flow(result_storage=str(tmp_path))
    def stored():
        return 1

    assert stored.result_storage == str(tmp_path)
    assert stored() == 1


def test_default_task_runner_is_a_thread_pool():
    @flow
    def plain():
        return None

    assert isinstance(plain.task_runner, ThreadPoolTaskRunner)


def test_flow_keeps_the_wrapped_function():
    def original(x):
        return x

    wrapped = flow(original)

    assert wrapped.fn is original


# -- calling ------------------------------------------------------------------


def test_calling_a_flow_returns_its_value():
    @flow
    def double(x):
        return 2 * x

    assert double(21) == 42


def test_calling_a_flow_with_keyword_arguments():
    @flow
    def greet(greeting, name="world"):
        return f"{greeting}, {name}"

    assert greet(greeting="hi", name="ada") == "hi, ada"
    assert greet("hello") == "hello, world"


def test_flow_return_state_gives_the_final_state():
    @flow
    def value():
        return 7

    state = value(return_state=True)

    assert isinstance(state, State)
    assert state.is_completed()
    assert state.result() == 7


def test_a_failing_flow_reraises_the_exception():
    @flow
    def broken():
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        broken()


def test_a_failing_flow_with_return_state_does_not_raise():
    @flow
    def broken():
        raise ValueError("bad input")

    state = broken(return_state=True)

    assert state.is_failed()
    with pytest.raises(ValueError, match="bad input"):
        state.result()


def test_failed_state_message_names_the_exception():
    @flow
    def broken():
        raise KeyError("missing-key")

    state = broken(return_state=True)

    assert "KeyError" in state.message
    assert "missing-key" in state.message


def test_flow_with_variadic_parameters():
    @flow
    def variadic(a, *args, **kwargs):
        return a, args, kwargs

    assert variadic(1, 2, 3, k=4) == (1, (2, 3), {"k": 4})


def test_flow_can_be_called_many_times():
    @flow
    def inc(x):
        return x + 1

    assert [inc(i) for i in range(5)] == [1, 2, 3, 4, 5]


def test_generator_flow_yields_its_values():
    @flow
    def count_up(n):
        yield from range(n)

    assert list(count_up(3)) == [0, 1, 2]


def test_generator_flow_is_recorded_completed_once_exhausted(recorded):
    @flow
    def count_up(n):
        yield from range(n)

    assert list(count_up(2)) == [0, 1]

    assert recorded.only_flow_run()["state_type"] == "COMPLETED"


# -- methods ------------------------------------------------------------------


class Pipeline:
    factor = 10

    def __init__(self, offset):
        self.offset = offset

    @flow
    def instance_flow(self, x):
        return x + self.offset

    @classmethod
    @flow
    def class_flow(cls, x):
        return x * cls.factor

    @staticmethod
    @flow
    def static_flow(x):
        return -x


def test_flow_as_instance_method_binds_self():
    assert Pipeline(5).instance_flow(1) == 6


def test_flow_as_class_method_binds_cls():
    assert Pipeline.class_flow(2) == 20


def test_flow_as_static_method():
    assert Pipeline.static_flow(3) == -3


def test_instance_method_flow_is_recorded(recorded):
    Pipeline(1).instance_flow(1)

    assert recorded.only_flow_run()["state_type"] == "COMPLETED"


# -- flow run names -----------------------------------------------------------


def test_flow_run_name_template_is_filled_from_parameters(recorded):
    @flow(flow_run_name="load-{region}-{day}")
    def load(region, day):
        return runtime_flow_run.name

    name = load("eu", day=3)

    assert name == "load-eu-3"
    assert recorded.only_flow_run()["name"] == "load-eu-3"


def test_flow_run_name_callable(recorded):
    def make_name():
        return f"computed-{runtime_flow_run.parameters['n']}"

    @flow(flow_run_name=make_name)
    def numbered(n):
        return runtime_flow_run.name

    assert numbered(4) == "computed-4"
    assert recorded.only_flow_run()["name"] == "computed-4"


def test_default_flow_run_names_are_generated(recorded):
    @flow
    def anonymous():
        return runtime_flow_run.name

    seen = anonymous()

    assert seen
    assert recorded.only_flow_run()["name"] == seen


# -- with_options -------------------------------------------------------------


def test_with_options_returns_a_new_flow_with_changed_options():
    @flow(name="base", retries=1)
    def base(x):
        return x

    changed = base.with_options(name="changed", retries=3, timeout_seconds=9)

    assert isinstance(changed, Flow)
    assert changed is not base
    assert (changed.name, changed.retries, changed.timeout_seconds) == ("changed", 3, 9)
    assert (base.name, base.retries, base.timeout_seconds) == ("base", 1, None)


def test_with_options_keeps_options_that_are_not_given():
    @flow(name="base", version="7", log_prints=True)
    def base(x):
        return x

    changed = base.with_options(retries=2)

    assert changed.name == "base"
    assert changed.version == "7"
    assert changed.log_prints is True
    assert changed(5) == 5


def test_with_options_can_add_hooks():
    calls = []

    @flow
    def base():
        return 1

    hooked = base.with_options(on_completion=[lambda f, r, s: calls.append(s.is_completed())])

    base()
    assert calls == []
    hooked()
    assert calls == [True]


def test_with_options_can_change_the_flow_run_name(recorded):
    @flow
    def base(x):
        return x

    base.with_options(flow_run_name="renamed-{x}")(7)

    assert recorded.only_flow_run()["name"] == "renamed-7"


def test_with_options_flow_records_its_new_name(recorded):
    @flow(name="original")
    def base():
        return None

    base.with_options(name="renamed")()

    assert recorded.only_flow_run()["flow_name"] == "renamed"


# -- subflows -----------------------------------------------------------------


def test_subflow_returns_its_value_to_the_parent():
    @flow
    def child(x):
        return x * 3

    @flow
    def parent():
        return child(2) + 1

    assert parent() == 7


def test_subflow_run_is_linked_to_its_parent(recorded):
    @flow(name="child-flow")
    def child():
        return runtime_flow_run.id

    @flow(name="parent-flow")
    def parent():
        return runtime_flow_run.id, child()

    parent_id, child_id = parent()

    child_row = recorded.only_flow_run("child-flow")
    assert child_row["id"] == str(child_id)
    assert child_row["parent_flow_run_id"] == str(parent_id)
    assert recorded.only_flow_run("parent-flow")["parent_flow_run_id"] is None


def test_subflow_has_a_task_run_in_the_parent(recorded):
    @flow(name="child-flow")
    def child():
        return None

    @flow(name="parent-flow")
    def parent():
        child()
        return runtime_flow_run.id

    parent_id = parent()

    child_row = recorded.only_flow_run("child-flow")
    assert child_row["parent_task_run_id"] is not None
    link = recorded.task_run(child_row["parent_task_run_id"])
    assert link["flow_run_id"] == str(parent_id)


def test_subflow_failure_fails_the_parent():
    @flow
    def child():
        raise RuntimeError("child broke")

    @flow
    def parent():
        child()

    state = parent(return_state=True)

    assert state.is_failed()
    with pytest.raises(RuntimeError, match="child broke"):
        state.result()


def test_parent_can_continue_after_subflow_failure_with_return_state():
    @flow
    def child():
        raise RuntimeError("child broke")

    @flow
    def parent():
        child_state = child(return_state=True)
        return child_state.is_failed()

    assert parent() is True


def test_runtime_knows_the_parent_of_a_subflow():
    @flow
    def child():
        return runtime_flow_run.parent_flow_run_id

    @flow
    def parent():
        return runtime_flow_run.id, child()

    parent_id, seen_parent = parent()

    assert str(seen_parent) == str(parent_id)


# -- final state from the return value ----------------------------------------


def test_flow_returning_a_completed_state_sets_its_final_state(recorded):
    @flow
    def explicit():
        return Completed(message="all good")

    state = explicit(return_state=True)

    assert state.is_completed()
    assert state.message == "all good"
    run = recorded.only_flow_run()
    assert (run["state_type"], run["state_message"]) == ("COMPLETED", "all good")


def test_flow_returning_a_failed_state_ends_failed(recorded):
    @flow
    def explicit():
        return Failed(message="nope")

    state = explicit(return_state=True)

    assert state.is_failed()
    assert state.message == "nope"
    run = recorded.only_flow_run()
    assert (run["state_type"], run["state_message"]) == ("FAILED", "nope")


def test_flow_returning_a_completed_state_with_data_returns_the_data():
    @flow
    def explicit():
        return Completed(data=5)

    assert explicit() == 5


def test_flow_returning_completed_task_states_ends_completed():
    @flow
    def returns_states():
        return [_succeeds(return_state=True), _succeeds(return_state=True)]

    assert returns_states(return_state=True).is_completed()


def test_flow_that_catches_a_task_failure_ends_completed(recorded):
    @flow
    def forgiving():
        with contextlib.suppress(ValueError):
            _fails()
        return "fine"

    assert forgiving() == "fine"

    assert recorded.only_flow_run()["state_type"] == "COMPLETED"
    assert recorded.only_task_run()["state_type"] == "FAILED"


def test_calling_a_flow_that_returns_a_failed_state_raises_failed_run():
    @flow
    def explicit():
        return Failed(message="nope")

    with pytest.raises(legato.exceptions.FailedRun, match="nope"):
        explicit()


@task
def _fails():
    raise ValueError("task failed")


@task
def _succeeds():
    return 1


def test_flow_returning_a_failed_future_ends_failed():
    @flow
    def returns_future():
        return _fails.submit()

    assert returns_future(return_state=True).is_failed()


def test_flow_returning_a_list_with_one_failed_future_ends_failed():
    @flow
    def returns_futures():
        return [_succeeds.submit(), _fails.submit()]

    assert returns_futures(return_state=True).is_failed()


def test_flow_returning_a_failed_task_state_ends_failed():
    @flow
    def returns_state():
        return _fails(return_state=True)

    assert returns_state(return_state=True).is_failed()


def test_flow_returning_a_completed_future_returns_the_task_value():
    @flow
    def returns_future():
        return _succeeds.submit()

    assert returns_future() == 1


def test_flow_waits_for_futures_it_did_not_resolve(recorded):
    release = threading.Event()
    side_effects = []

    @task
    def slow():
        release.wait(5)
        time.sleep(0.05)  # simulated work that outlives the flow body
        side_effects.append("done")
        return 1

    @flow
    def fire_and_forget():
        slow.submit()
        release.set()

    fire_and_forget()

    assert side_effects == ["done"]
    assert recorded.only_task_run()["state_type"] == "COMPLETED"
