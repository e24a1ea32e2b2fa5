"""Async flows and tasks: calling, awaiting, concurrency, retries, timeouts, recording."""

from __future__ import annotations

import asyncio

import pytest

from legato import flow, get_run_logger, task
from legato.runtime import flow_run as runtime_flow_run
from legato.runtime import task_run as runtime_task_run
from legato.states import State


@task
async def async_double(x):
    await asyncio.sleep(0)
    return 2 * x


@task
def sync_double(x):
    return 2 * x


@task
async def async_fail():
    await asyncio.sleep(0)
    raise ValueError("async task failed")


def test_async_flow_call_returns_a_coroutine_with_the_value():
    @flow
    async def pipeline():
        return 5

    assert asyncio.run(pipeline()) == 5


def test_async_task_awaited_in_an_async_flow():
    @flow
    async def pipeline():
        return await async_double(4)

    assert asyncio.run(pipeline()) == 8


def test_sync_task_called_in_an_async_flow():
    @flow
    async def pipeline():
        return sync_double(4)

    assert asyncio.run(pipeline()) == 8


def test_async_task_submitted_from_a_sync_flow():
    @flow
    def pipeline():
        return async_double.submit(3).result()

    assert pipeline() == 6


def test_async_task_submitted_from_an_async_flow():
    @flow
    async def pipeline():
        return async_double.submit(3).result()

    assert asyncio.run(pipeline()) == 6


def test_async_task_map_in_an_async_flow():
    @flow
    async def pipeline():
        return async_double.map([1, 2, 3]).result()

    assert asyncio.run(pipeline()) == [2, 4, 6]


def test_async_tasks_gathered_run_concurrently():
    @task
    async def waiter(event):
        await asyncio.wait_for(event.wait(), 5)
        return "waited"

    @task
    async def setter(event):
        event.set()
        return "set"

    @flow
    async def pipeline():
        event = asyncio.Event()
        return await asyncio.gather(waiter(event), setter(event))

    assert asyncio.run(pipeline()) == ["waited", "set"]


def test_async_flow_exception_is_raised_by_the_coroutine():
    @flow
    async def pipeline():
        raise ValueError("async flow failed")

    with pytest.raises(ValueError, match="async flow failed"):
        asyncio.run(pipeline())


def test_async_task_exception_propagates_to_the_flow():
    @flow
    async def pipeline():
        await async_fail()

    with pytest.raises(ValueError, match="async task failed"):
        asyncio.run(pipeline())


def test_async_flow_return_state():
    @flow
    async def pipeline():
        return 1

    state = asyncio.run(pipeline(return_state=True))

    assert isinstance(state, State)
    assert state.is_completed()
    assert state.result() == 1


def test_async_task_return_state():
    @flow
    async def pipeline():
        state = await async_fail(return_state=True)
        return state.is_failed()

    assert asyncio.run(pipeline()) is True


def test_async_subflow_awaited_in_an_async_flow(recorded):
    @flow(name="async-child")
    async def child(x):
        return x + 1

    @flow(name="async-parent")
    async def parent():
        return await child(1)

    assert asyncio.run(parent()) == 2

    child_run = recorded.only_flow_run("async-child")
    parent_run = recorded.only_flow_run("async-parent")
    assert child_run["parent_flow_run_id"] == parent_run["id"]


def test_sync_subflow_in_an_async_flow():
    @flow
    def child(x):
        return x * 10

    @flow
    async def parent():
        return child(2)

    assert asyncio.run(parent()) == 20


def test_sync_flow_called_from_inside_an_event_loop():
    @flow
    def sync_pipeline():
        return sync_double(5)

    async def main():
        return sync_pipeline()

    assert asyncio.run(main()) == 10


def test_async_flows_gathered_make_separate_runs(recorded):
    @flow
    async def pipeline(i):
        await asyncio.sleep(0)
        return runtime_flow_run.id

    async def main():
        return await asyncio.gather(pipeline(1), pipeline(2), pipeline(3))

    ids = asyncio.run(main())

    assert len({str(i) for i in ids}) == 3
    assert {run["state_type"] for run in recorded.flow_runs()} == {"COMPLETED"}
    assert len(recorded.flow_runs()) == 3


def test_async_generator_flow_yields_its_values():
    @flow
    async def stream(n):
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    async def main():
        return [item async for item in stream(3)]

    assert asyncio.run(main()) == [0, 1, 2]


def test_async_task_retries():
    attempts = []

    @task(retries=2)
    async def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("again")
        return runtime_task_run.run_count

    @flow
    async def pipeline():
        return await flaky()

    assert asyncio.run(pipeline()) == 3


def test_async_flow_retries():
    attempts = []

    @flow(retries=1)
    async def flaky():
        attempts.append(1)
        if len(attempts) < 2:
            raise RuntimeError("again")
        return "ok"

    assert asyncio.run(flaky()) == "ok"
    assert len(attempts) == 2


def test_async_task_timeout_ends_timed_out(recorded):
    @task(timeout_seconds=0.2)
    async def stuck():
        await asyncio.sleep(5)

    @flow
    async def pipeline():
        state = await stuck(return_state=True)
        return state.name, state.is_failed()

    assert asyncio.run(pipeline()) == ("TimedOut", True)
    assert recorded.only_task_run()["state_name"] == "TimedOut"


def test_async_flow_timeout_raises_timeout_error(recorded):
    @flow(timeout_seconds=0.2)
    async def stuck():
        await asyncio.sleep(5)

    with pytest.raises(TimeoutError):
        asyncio.run(stuck())

    run = recorded.only_flow_run()
    assert (run["state_type"], run["state_name"]) == ("FAILED", "TimedOut")


def test_async_flow_hooks_are_called():
    calls = []

    @flow(on_completion=[lambda f, r, s: calls.append(s.is_completed())])
    async def pipeline():
        return 1

    asyncio.run(pipeline())

    assert calls == [True]


def test_async_runs_are_recorded_with_their_history(recorded):
    @flow
    async def pipeline():
        get_run_logger().info("async log line")
        return await async_double(1)

    asyncio.run(pipeline())

    run = recorded.only_flow_run()
    task_run = recorded.only_task_run()
    assert recorded.state_types(flow_run_id=run["id"]) == ["PENDING", "RUNNING", "COMPLETED"]
    assert recorded.state_types(task_run_id=task_run["id"]) == ["PENDING", "RUNNING", "COMPLETED"]
    assert task_run["flow_run_id"] == run["id"]
    assert "async log line" in recorded.log_messages(flow_run_id=run["id"])


def test_async_task_runtime_context():
    @task(name="async-ctx")
    async def who_am_i():
        return runtime_task_run.task_name, runtime_flow_run.flow_name

    @flow(name="async-ctx-flow")
    async def pipeline():
        return await who_am_i()

    assert asyncio.run(pipeline()) == ("async-ctx", "async-ctx-flow")


def test_async_flow_with_options():
    @flow(name="async-base")
    async def base():
        return runtime_flow_run.flow_name

    assert asyncio.run(base.with_options(name="async-renamed")()) == "async-renamed"


def test_async_task_outside_a_flow(recorded):
    assert asyncio.run(async_double(21)) == 42
    assert recorded.only_task_run()["state_type"] == "COMPLETED"


def test_async_task_hooks_are_called():
    calls = []

    @task(
        on_completion=[lambda t, r, s: calls.append(("completed", s.is_completed()))],
        on_failure=[lambda t, r, s: calls.append(("failed", s.is_failed()))],
    )
    async def maybe_fail(fail):
        if fail:
            raise ValueError("async failure")
        return 1

    @flow
    async def pipeline():
        await maybe_fail(False)
        await maybe_fail(True, return_state=True)

    asyncio.run(pipeline())

    assert calls == [("completed", True), ("failed", True)]


def test_async_flow_log_prints(recorded):
    @task
    async def chatty_task():
        print("async task print")

    @flow(log_prints=True)
    async def chatty():
        print("async flow print")
        await chatty_task()

    asyncio.run(chatty())

    messages = recorded.log_messages()
    assert "async flow print" in messages
    assert "async task print" in messages


def test_async_task_logger_records_the_task_run(recorded):
    @task
    async def logs_something():
        get_run_logger().info("async task log")
        return runtime_task_run.id

    @flow
    async def pipeline():
        return await logs_something()

    task_run_id = asyncio.run(pipeline())

    assert "async task log" in recorded.log_messages(task_run_id=task_run_id)
