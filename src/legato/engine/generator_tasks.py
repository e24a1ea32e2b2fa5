"""Generator and async-generator task runs: the run yields the task's values.

The run goes Running when the first value is asked for and completes when
the generator is exhausted; between yields the consumer runs outside the
task's context. Tag concurrency slots are held from the start to the end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

from legato.engine import tag_limits
from legato.engine.context import task_run_context
from legato.engine.task_engine import TaskRunEngine
from legato.states import State

__all__ = ["run_task_async_generator", "run_task_generator"]


def run_task_generator(engine: TaskRunEngine) -> Generator[Any, Any, State]:
    """Run a generator task: yields its values; the run completes when it is exhausted."""
    token = task_run_context.set(engine.context)
    try:
        call = engine.resolve_inputs()
        if call is None:
            return engine.task_run.state
        args, kwargs = call
        if engine.task_run.tags and not tag_limits.take(engine):
            return engine.finish()
        engine.begin_attempt()
        try:
            gen = engine.task.fn(*args, **kwargs)
            returned = yield from _contextual(gen, engine)
        except Exception as exc:
            engine.handle_exception(exc)
        else:
            engine.handle_success(returned)
        if engine.slots is not None:
            tag_limits.release(engine)
        return engine.finish()
    finally:
        if engine.slots is not None:
            tag_limits.release(engine)
        task_run_context.reset(token)


def _contextual(gen: Generator[Any, Any, Any], engine: TaskRunEngine) -> Generator[Any, Any, Any]:
    # The consumer runs between yields outside the task's context; restore it
    # around each step of the user's generator.
    value: Any = None
    while True:
        token = task_run_context.set(engine.context)
        try:
            item = gen.send(value)
        except StopIteration as stop:
            return stop.value
        finally:
            task_run_context.reset(token)
        value = yield item


async def run_task_async_generator(engine: TaskRunEngine) -> AsyncGenerator[Any, None]:
    """Run an async generator task, yielding its values."""
    token = task_run_context.set(engine.context)
    try:
        call = engine.resolve_inputs()
        if call is None:
            return
        args, kwargs = call
        if engine.task_run.tags and not await tag_limits.atake(engine):
            engine.finish()
            return
        engine.begin_attempt()
        try:
            async for item in engine.task.fn(*args, **kwargs):
                task_run_context.reset(token)
                yield item
                token = task_run_context.set(engine.context)
        except Exception as exc:
            engine.handle_exception(exc)
        else:
            engine.handle_success(None)
        if engine.slots is not None:
            await tag_limits.arelease(engine)
        engine.finish()
    finally:
        if engine.slots is not None:
            tag_limits.release(engine)
        task_run_context.reset(token)
