"""The @task decorator and Task objects: options, calls, submit, map, annotations."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legato import Task, allow_failure, flow, tags, task, unmapped
from legato.runtime import task_run as runtime_task_run
from legato.states import State
from legato.tasks import exponential_backoff, task_input_hash
from legato.utilities.annotations import quote

# -- decorating ---------------------------------------------------------------


def test_task_decorator_without_arguments_returns_a_task():
    @task
    def plain():
        return 1

    assert isinstance(plain, Task)


def test_task_decorator_with_arguments_returns_a_task():
    @task(name="named")
    def plain():
        return 1

    assert isinstance(plain, Task)
    assert plain.name == "named"


def test_task_decorator_with_empty_parentheses():
    @task()
    def plain():
        return 1

    assert isinstance(plain, Task)
    assert plain() == 1


def test_task_class_wraps_a_function_directly():
    def add(x, y):
        return x + y

    add_task = Task(add, name="adder")

    assert add_task(1, 2) == 3
    assert add_task.name == "adder"


def test_task_name_defaults_to_the_function_name():
    @task
    def fetch_rows():
        return None

    assert fetch_rows.name == "fetch_rows"


def test_task_description_defaults_to_the_docstring():
    @task
    def documented():
        """Fetches rows."""

    assert documented.description == "Fetches rows."


def test_task_stores_every_documented_option():
    def key_fn(context, arguments):
        return "k"

    def condition(task, task_run, state):
        return True

    def hook(task, task_run, state):
        return None

    @task(
        name="configured",
        description="explicit",
        tags=["io", "db"],
        version="2.0",
        task_run_name="configured-{x}",
        retries=3,
        retry_delay_seconds=[1, 2, 3],
        retry_jitter_factor=0.5,
        retry_condition_fn=condition,
        timeout_seconds=12.5,
        log_prints=True,
        cache_key_fn=key_fn,
        cache_expiration=dt.timedelta(minutes=5),
        refresh_cache=True,
        persist_result=True,
        result_storage_key="out-{parameters[x]}",
        result_serializer="json",
        cache_result_in_memory=False,
        on_completion=[hook],
        on_failure=[hook],
        on_running=[hook],
    )
    def configured(x):
        return x

    assert configured.name == "configured"
    assert configured.description == "explicit"
    assert set(configured.tags) == {"io", "db"}
    assert configured.version == "2.0"
    assert configured.task_run_name == "configured-{x}"
    assert configured.retries == 3
    assert list(configured.retry_delay_seconds) == [1, 2, 3]
    assert configured.retry_jitter_factor == 0.5
    assert configured.retry_condition_fn is condition
    assert configured.timeout_seconds == 12.5
    assert configured.log_prints is True
    assert configured.cache_key_fn is key_fn
    assert configured.cache_expiration == dt.timedelta(minutes=5)
    assert configured.refresh_cache is True
    assert configured.persist_result is True
    assert configured.result_storage_key == "out-{parameters[x]}"
    assert configured.result_serializer == "json"
    assert configured.cache_result_in_memory is False


def test_task_accepts_result_storage(tmp_path):
    @task(result_storage=str(tmp_path))
    def stored():
        return 1

    assert stored.result_storage == str(tmp_path)
    assert stored() == 1


def test_task_accepts_a_cache_policy():
    from legato import cache_policies

    @task(cache_policy=cache_policies.NO_CACHE)
    def uncached():
        return 1

    assert uncached.cache_policy is cache_policies.NO_CACHE
    assert uncached() == 1


def test_task_input_hash_is_accepted_as_cache_key_fn():
    @task(cache_key_fn=task_input_hash)
    def cached(x):
        return x

    assert cached.cache_key_fn is task_input_hash

    @flow
    def uses_cached():
        return cached(3)

    assert uses_cached() == 3


def test_exponential_backoff_gives_one_delay_per_retry():
    delays = exponential_backoff(backoff_factor=2)

    assert [float(d) for d in delays(3)] == [2.0, 4.0, 8.0]


def test_task_keeps_the_wrapped_function():
    def original(x):
        return x

    assert task(original).fn is original


# -- calling ------------------------------------------------------------------


@task
def double(x):
    return 2 * x


@task
def add(x, y):
    return x + y


@task
def explode(message="boom"):
    raise ValueError(message)


def test_calling_a_task_in_a_flow_returns_its_value():
    @flow
    def pipeline():
        return double(4)

    assert pipeline() == 8


def test_a_failing_task_call_raises_in_the_flow():
    @flow
    def pipeline():
        explode("bad row")

    with pytest.raises(ValueError, match="bad row"):
        pipeline()


def test_a_failing_task_call_can_be_caught_by_the_flow():
    @flow
    def pipeline():
        try:
            explode()
        except ValueError:
            return "recovered"

    assert pipeline() == "recovered"


def test_task_call_with_return_state_gives_the_state():
    @flow
    def pipeline():
        ok = double(2, return_state=True)
        bad = explode(return_state=True)
        with pytest.raises(ValueError, match="boom"):
            bad.result()
        return (
            isinstance(ok, State),
            ok.is_completed(),
            ok.result(),
            isinstance(bad, State),
            bad.is_failed(),
        )

    assert pipeline() == (True, True, 4, True, True)


def test_a_task_called_outside_a_flow_runs(recorded):
    assert double(5) == 10

    row = recorded.only_task_run()
    assert row["flow_run_id"] is None
    assert row["state_type"] == "COMPLETED"


def test_a_failing_task_called_outside_a_flow_raises(recorded):
    with pytest.raises(ValueError, match="boom"):
        explode()

    assert recorded.only_task_run()["state_type"] == "FAILED"


def test_task_with_variadic_parameters():
    @task
    def variadic(a, *args, **kwargs):
        return a, args, kwargs

    @flow
    def pipeline():
        return variadic(1, 2, k=3)

    assert pipeline() == (1, (2,), {"k": 3})


def test_task_called_inside_a_task_is_recorded_in_the_same_flow_run(recorded):
    @task
    def inner(x):
        return x + 1

    @task
    def outer(x):
        return inner(x) * 10

    @flow
    def pipeline():
        return outer(1)

    assert pipeline() == 20

    flow_run_id = recorded.only_flow_run()["id"]
    runs = recorded.task_runs()
    assert len(runs) == 2
    assert {row["flow_run_id"] for row in runs} == {flow_run_id}
    assert {row["state_type"] for row in runs} == {"COMPLETED"}


def test_task_returning_a_failed_state_ends_failed(recorded):
    from legato.states import Failed

    @task
    def judged():
        return Failed(message="judged bad")

    @flow
    def pipeline():
        state = judged(return_state=True)
        return state.is_failed(), state.message

    assert pipeline() == (True, "judged bad")
    row = recorded.only_task_run()
    assert (row["state_type"], row["state_message"]) == ("FAILED", "judged bad")


def test_generator_task_yields_its_values():
    @task
    def chunks(n):
        yield from range(n)

    @flow
    def pipeline():
        return list(chunks(3))

    assert pipeline() == [0, 1, 2]


class Repository:
    def __init__(self, base):
        self.base = base

    @task
    def instance_task(self, x):
        return self.base + x

    @classmethod
    @task
    def class_task(cls, x):
        return (cls.__name__, x)

    @staticmethod
    @task
    def static_task(x):
        return x * x


def test_task_methods_bind_like_plain_methods():
    @flow
    def pipeline():
        repo = Repository(100)
        return repo.instance_task(1), Repository.class_task(2), Repository.static_task(3)

    assert pipeline() == (101, ("Repository", 2), 9)


def test_task_run_name_template_is_filled_from_parameters(recorded):
    @task(task_run_name="fetch-{source}")
    def fetch(source):
        return runtime_task_run.name

    @flow
    def pipeline():
        return fetch("s3")

    assert pipeline() == "fetch-s3"
    assert recorded.only_task_run()["name"] == "fetch-s3"


def test_task_run_name_callable(recorded):
    @task(task_run_name=lambda: "made-by-callable")
    def fetch():
        return None

    @flow
    def pipeline():
        fetch()

    pipeline()

    assert recorded.only_task_run()["name"] == "made-by-callable"


def test_default_task_run_names_start_with_the_task_name(recorded):
    @flow
    def pipeline():
        double(1)
        double(2)

    pipeline()

    names = [row["name"] for row in recorded.task_runs()]
    assert len(names) == 2
    assert all(name.startswith("double") for name in names)
    assert len(set(names)) == 2


# -- with_options -------------------------------------------------------------


def test_with_options_returns_a_new_task_with_changed_options():
    @task(name="base", retries=1, tags=["a"])
    def base(x):
        return x

    changed = base.with_options(name="changed", retries=4, tags=["b"])

    assert isinstance(changed, Task)
    assert changed is not base
    assert (changed.name, changed.retries, set(changed.tags)) == ("changed", 4, {"b"})
    assert (base.name, base.retries, set(base.tags)) == ("base", 1, {"a"})


def test_with_options_keeps_options_that_are_not_given():
    @task(name="base", version="3", timeout_seconds=5)
    def base(x):
        return x

    changed = base.with_options(retries=2)

    assert (changed.name, changed.version, changed.timeout_seconds) == ("base", "3", 5)

    @flow
    def pipeline():
        return changed(9)

    assert pipeline() == 9


# -- tags ---------------------------------------------------------------------


def test_task_tags_are_recorded(recorded):
    @task(tags=["io"])
    def tagged():
        return None

    @flow
    def pipeline():
        tagged()

    pipeline()

    assert "io" in recorded.only_task_run()["tags"]


def test_tags_context_adds_tags_to_task_runs(recorded):
    @task(tags=["own"])
    def tagged():
        return sorted(runtime_task_run.tags)

    @flow
    def pipeline():
        with tags("ctx"):
            return tagged()

    assert pipeline() == ["ctx", "own"]
    assert set(recorded.only_task_run()["tags"]) == {"ctx", "own"}


def test_tags_context_applies_to_flow_and_task_runs_inside_it(recorded):
    @task
    def inner():
        return None

    @flow
    def pipeline():
        inner()

    with tags("nightly", "team-a"):
        pipeline()

    assert {"nightly", "team-a"} <= set(recorded.only_flow_run()["tags"])
    assert {"nightly", "team-a"} <= set(recorded.only_task_run()["tags"])


def test_nested_tags_contexts_accumulate():
    @task
    def tagged():
        return set(runtime_task_run.tags)

    @flow
    def pipeline():
        with tags("outer"), tags("inner"):
            return tagged()

    assert pipeline() >= {"outer", "inner"}


def test_tags_context_yields_the_current_tags():
    with tags("outer"), tags("inner") as current:
        assert {"outer", "inner"} <= set(current)


def test_tags_context_ends_with_the_block(recorded):
    @flow
    def pipeline():
        return None

    with tags("inside"):
        pipeline()
    pipeline()

    first, second = recorded.flow_runs()
    assert "inside" in first["tags"]
    assert "inside" not in second["tags"]


# -- submit -------------------------------------------------------------------


def test_submit_returns_a_future_with_the_result():
    @flow
    def pipeline():
        future = double.submit(21)
        assert not isinstance(future, int)
        return future.result()

    assert pipeline() == 42


def test_submitted_tasks_run_concurrently():
    barrier = threading.Barrier(2, timeout=5)

    @task
    def meet():
        barrier.wait()
        return True

    @flow
    def pipeline():
        first, second = meet.submit(), meet.submit()
        return first.result(), second.result()

    assert pipeline() == (True, True)


def test_submit_return_state_is_a_final_state():
    @flow
    def pipeline():
        state = explode.submit(return_state=True)
        return isinstance(state, State), state.is_failed()

    assert pipeline() == (True, True)


def test_future_as_argument_passes_the_upstream_result():
    @flow
    def pipeline():
        upstream = double.submit(2)
        return add.submit(upstream, 1).result()

    assert pipeline() == 5


def test_future_as_argument_of_a_direct_call_is_resolved():
    @flow
    def pipeline():
        upstream = double.submit(2)
        return add(upstream, 10)

    assert pipeline() == 14


def test_futures_inside_collections_are_resolved():
    @task
    def total(values):
        return sum(values["items"])

    @flow
    def pipeline():
        futures = [double.submit(i) for i in range(4)]
        return total({"items": futures})

    assert pipeline() == 12


def test_future_arguments_are_recorded_as_task_inputs(recorded):
    @flow
    def pipeline():
        upstream = double.submit(2)
        downstream = add.submit(upstream, 1)
        downstream.wait()
        return str(upstream.task_run_id), str(downstream.task_run_id)

    upstream_id, downstream_id = pipeline()

    inputs = recorded.task_run(downstream_id)["task_inputs"]
    assert {"input_type": "task_run", "id": upstream_id} in inputs["x"]


def test_a_failed_upstream_stops_the_downstream_task():
    calls = []

    @task
    def downstream(value):
        calls.append(value)
        return value

    @flow
    def pipeline():
        failed = explode.submit()
        downstream.submit(failed).wait()

    pipeline()

    assert calls == []


def test_downstream_of_a_failed_upstream_does_not_complete(recorded):
    @task
    def downstream(value):
        return value

    @flow
    def pipeline():
        failed = explode.submit()
        blocked = downstream.submit(failed)
        blocked.wait()
        return blocked.state.is_completed(), str(blocked.task_run_id)

    completed, blocked_id = pipeline()

    assert completed is False
    assert recorded.task_run(blocked_id)["state_type"] != "COMPLETED"


def test_allow_failure_runs_the_downstream_with_the_upstream_exception():
    @task
    def inspect_upstream(value):
        return type(value).__name__, str(value)

    @flow
    def pipeline():
        failed = explode.submit("upstream broke")
        return inspect_upstream(allow_failure(failed))

    assert pipeline() == ("ValueError", "upstream broke")


def test_quote_passes_the_value_without_resolving_futures():
    received = []

    @task
    def keep(value):
        received.append(value)
        return None

    @flow
    def pipeline():
        upstream = double.submit(1)
        upstream.wait()
        keep(quote([upstream]))

    pipeline()

    (value,) = received
    assert isinstance(value, list)
    assert value[0] is not None and value[0] != 2
    assert hasattr(value[0], "task_run_id")


def test_wait_for_orders_tasks_without_passing_data():
    order = []
    release = threading.Event()

    @task
    def first():
        release.wait(5)
        order.append("first")

    @task
    def second():
        order.append("second")

    @flow
    def pipeline():
        upstream = first.submit()
        downstream = second.submit(wait_for=[upstream])
        release.set()
        downstream.wait()

    pipeline()

    assert order == ["first", "second"]


def test_wait_for_is_recorded_as_a_task_input(recorded):
    @flow
    def pipeline():
        upstream = double.submit(1)
        downstream = double.submit(2, wait_for=[upstream])
        downstream.wait()
        return str(upstream.task_run_id), str(downstream.task_run_id)

    upstream_id, downstream_id = pipeline()

    inputs = recorded.task_run(downstream_id)["task_inputs"]
    assert {"input_type": "task_run", "id": upstream_id} in inputs["wait_for"]


def test_wait_for_a_failed_upstream_stops_the_downstream():
    calls = []

    @task
    def downstream():
        calls.append(1)

    @flow
    def pipeline():
        failed = explode.submit()
        downstream.submit(wait_for=[failed]).wait()

    pipeline()

    assert calls == []


def test_wait_for_allow_failure_runs_the_downstream():
    @task
    def downstream():
        return "ran"

    @flow
    def pipeline():
        failed = explode.submit()
        return downstream.submit(wait_for=[allow_failure(failed)]).result()

    assert pipeline() == "ran"


def test_direct_call_accepts_wait_for():
    order = []

    @task
    def first():
        order.append("first")

    @task
    def second():
        order.append("second")

    @flow
    def pipeline():
        upstream = first.submit()
        second(wait_for=[upstream])

    pipeline()

    assert order == ["first", "second"]


# -- map ----------------------------------------------------------------------


def test_map_runs_once_per_element():
    @flow
    def pipeline():
        return double.map([1, 2, 3]).result()

    assert pipeline() == [2, 4, 6]


def test_map_returns_a_future_list_that_can_be_waited():
    @flow
    def pipeline():
        futures = double.map([1, 2])
        futures.wait()
        return [f.state.is_completed() for f in futures], len(futures)

    assert pipeline() == ([True, True], 2)


def test_map_zips_several_iterables():
    @flow
    def pipeline():
        return add.map([1, 2, 3], [10, 20, 30]).result()

    assert pipeline() == [11, 22, 33]


def test_map_with_keyword_iterables():
    @flow
    def pipeline():
        return add.map(x=[1, 2], y=[3, 4]).result()

    assert pipeline() == [4, 6]


def test_map_with_unmapped_passes_the_value_whole():
    @task
    def size_plus(x, extra):
        return x + len(extra)

    @flow
    def pipeline():
        return size_plus.map([1, 2], unmapped([7, 7, 7])).result()

    assert pipeline() == [4, 5]


def test_map_treats_non_iterable_arguments_as_static():
    @flow
    def pipeline():
        return add.map([1, 2], 100).result()

    assert pipeline() == [101, 102]


def test_map_over_futures_chains_tasks():
    @flow
    def pipeline():
        return double.map(double.map([1, 2, 3])).result()

    assert pipeline() == [4, 8, 12]


def test_map_over_a_generator():
    @flow
    def pipeline():
        return double.map(x for x in range(3)).result()

    assert pipeline() == [0, 2, 4]


def test_map_over_futures_records_each_upstream(recorded):
    @flow
    def pipeline():
        upstream = double.map([1, 2])
        downstream = double.map(upstream)
        downstream.wait()
        return [
            (str(u.task_run_id), str(d.task_run_id))
            for u, d in zip(upstream, downstream, strict=True)
        ]

    for upstream_id, downstream_id in pipeline():
        inputs = recorded.task_run(downstream_id)["task_inputs"]
        assert {"input_type": "task_run", "id": upstream_id} in inputs["x"]


def test_map_over_an_empty_iterable_gives_no_runs(recorded):
    @flow
    def pipeline():
        return double.map([]).result()

    assert pipeline() == []
    assert recorded.task_runs() == []


def test_map_with_wait_for():
    order = []
    release = threading.Event()

    @task
    def first():
        release.wait(5)
        order.append("first")

    @task
    def each(x):
        order.append(x)

    @flow
    def pipeline():
        upstream = first.submit()
        mapped = each.map([1, 2], wait_for=[upstream])
        release.set()
        mapped.wait()

    pipeline()

    assert order[0] == "first"
    assert sorted(order[1:]) == [1, 2]


def test_map_with_return_state_gives_states():
    @flow
    def pipeline():
        states = double.map([1, 2], return_state=True)
        return [(isinstance(s, State), s.is_completed()) for s in states]

    assert pipeline() == [(True, True), (True, True)]


def test_map_result_raises_if_one_run_failed():
    @task
    def fail_on_two(x):
        if x == 2:
            raise ValueError("two")
        return x

    @flow
    def pipeline():
        futures = fail_on_two.map([1, 2, 3])
        with pytest.raises(ValueError, match="two"):
            futures.result()
        return futures.result(raise_on_failure=False)

    first, second, third = pipeline()
    assert (first, third) == (1, 3)
    assert isinstance(second, ValueError)


def test_map_with_allow_failure_runs_every_downstream():
    @task
    def fail_on_two(x):
        if x == 2:
            raise ValueError("two")
        return x

    @task
    def describe(value):
        return type(value).__name__

    @flow
    def pipeline():
        upstream = fail_on_two.map([1, 2, 3])
        return describe.map(allow_failure(upstream)).result()

    assert pipeline() == ["int", "ValueError", "int"]


def test_map_with_quote_passes_each_element_as_is():
    @task
    def kind(value):
        return type(value).__name__

    @flow
    def pipeline():
        return kind.map(quote([1, "a", None])).result()

    assert pipeline() == ["int", "str", "NoneType"]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.integers(-1000, 1000), max_size=12))
def test_map_gives_one_result_per_element_in_order(values):
    @flow
    def pipeline():
        return double.map(values).result()

    assert pipeline() == [2 * v for v in values]


def test_mapped_runs_are_recorded(recorded):
    @flow
    def pipeline():
        double.map([1, 2, 3]).wait()

    pipeline()

    runs = recorded.task_runs()
    assert len(runs) == 3
    assert {row["state_type"] for row in runs} == {"COMPLETED"}


def test_the_users_exception_type_reaches_the_caller():
    class DomainError(Exception):
        pass

    @task
    def domain():
        raise DomainError("domain")

    @flow
    def pipeline():
        domain()

    with pytest.raises(DomainError):
        pipeline()
