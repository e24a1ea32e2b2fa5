"""Entry points from ``Task`` into the engine: call now, or submit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.engine.context import flow_run_context, task_run_context
from legato.engine.generator_tasks import run_task_async_generator, run_task_generator
from legato.engine.signature import ASYNC, ASYNC_GENERATOR, GENERATOR
from legato.engine.startup import ensure_started
from legato.engine.task_engine import (
    TaskRunEngine,
    create_task_run,
    run_task_async,
    run_task_sync,
)
from legato.states import State

if TYPE_CHECKING:
    from legato.engine.recorder import Recorder
    from legato.futures import PrefectFuture
    from legato.tasks import Task


def _recorder_for(flow_context: Any) -> Recorder:
    if flow_context is not None:
        return flow_context.recorder  # type: ignore[no-any-return]
    parent = task_run_context.get()
    if parent is not None:
        return parent.recorder
    return ensure_started()


def call_task(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    return_state: bool,
    wait_for: Any,
) -> Any:
    """Run ``task`` now in this thread; its value, or its State."""
    flow_context = flow_run_context.get()
    recorder = _recorder_for(flow_context)
    parameters = task.binder.bind(args, kwargs)
    task_run, upstreams = create_task_run(task, parameters, flow_context, recorder, wait_for)
    for upstream in upstreams:
        upstream.wait()
    engine = TaskRunEngine(task, task_run, flow_context, recorder)
    engine.call_arguments = (args, kwargs)
    standalone = flow_context is None and task_run_context.get() is None
    kind = task._kind
    if kind == ASYNC:
        return _await_task(engine, return_state, standalone)
    if kind == GENERATOR:
        return _generate(engine, return_state, standalone)
    if kind == ASYNC_GENERATOR:
        return run_task_async_generator(engine)
    state = run_task_sync(engine)
    if standalone:
        recorder.flush()
    return state if return_state else _value(state)


async def _await_task(engine: TaskRunEngine, return_state: bool, standalone: bool) -> Any:
    state = await run_task_async(engine)
    if standalone:
        engine.recorder.flush()
    return state if return_state else _value(state)


def _generate(engine: TaskRunEngine, return_state: bool, standalone: bool) -> Any:
    state = yield from run_task_generator(engine)
    if standalone:
        engine.recorder.flush()
    if state.is_failed() or state.is_crashed():
        _value(state)
    return state if return_state else None


def _value(state: State) -> Any:
    if state.is_pending() and isinstance(state.data, BaseException):
        raise state.data
    return state.result()


def submit_task(
    task: Task[..., Any], parameters: dict[str, Any], wait_for: Any
) -> PrefectFuture[Any]:
    """Submit ``task`` to the current flow's task runner (or a process-wide one)."""
    flow_context = flow_run_context.get()
    if flow_context is not None:
        runner = flow_context.task_runner
        recorder = flow_context.recorder
    else:
        from legato.task_runners import default_standalone_runner

        runner = default_standalone_runner()
        recorder = _recorder_for(None)
    task_run, upstreams = create_task_run(task, parameters, flow_context, recorder, wait_for)
    future = runner.submit_run(task, task_run, upstreams, flow_context, recorder)
    if flow_context is not None:
        flow_context.futures.append(future)
    return future
