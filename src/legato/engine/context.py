"""The run context: the only ambient state legato keeps, in contextvars.

A flow run sets a ``FlowRunContext``; a task run sets a ``TaskRunContext``.
Worker threads get a copy of the submitting thread's context.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from legato.engine.recorder import Recorder
    from legato.engine.runs import FlowRun, TaskRun
    from legato.flows import Flow
    from legato.futures import PrefectFuture
    from legato.task_runners import TaskRunner
    from legato.tasks import Task


class FlowRunContext:
    """What code running inside a flow run can see."""

    __slots__ = (
        "_counters",
        "flow",
        "flow_run",
        "futures",
        "log_prints",
        "pause_count",
        "persist_result",
        "recorder",
        "replay",
        "task_runner",
    )

    def __init__(
        self,
        flow: Flow[..., Any] | None,
        flow_run: FlowRun,
        task_runner: TaskRunner,
        recorder: Recorder,
        log_prints: bool,
        persist_result: bool = False,
    ) -> None:
        self.flow = flow
        self.flow_run = flow_run
        # Whether this run persists its result: the default for its tasks.
        self.persist_result = persist_result
        self.task_runner = task_runner
        self.recorder = recorder
        self.log_prints = log_prints
        self.futures: list[PrefectFuture[Any]] = []
        self._counters: dict[str, itertools.count[int]] = {}
        # Pauses and suspensions so far: the default pause keys "1", "2", ...
        self.pause_count = 0
        # In a flow run started again (after a suspension): the persisted results of
        # its task runs that completed before, by (task_key, dynamic_key); else None.
        self.replay: dict[tuple[str, str], dict[str, Any]] | None = None

    def next_dynamic_key(self, task_key: str) -> int:
        """0, 1, 2, ... for successive runs of one task in this flow run."""
        counter = self._counters.get(task_key)
        if counter is None:
            counter = self._counters.setdefault(task_key, itertools.count())
        return next(counter)


class TaskRunContext:
    """What code running inside a task run can see."""

    __slots__ = ("log_prints", "parameters", "recorder", "task", "task_run")

    def __init__(
        self,
        task: Task[..., Any],
        task_run: TaskRun,
        recorder: Recorder,
        log_prints: bool,
        parameters: dict[str, Any],
    ) -> None:
        self.task = task
        self.task_run = task_run
        self.recorder = recorder
        self.log_prints = log_prints
        self.parameters = parameters


flow_run_context: ContextVar[FlowRunContext | None] = ContextVar("legato_flow_run", default=None)
task_run_context: ContextVar[TaskRunContext | None] = ContextVar("legato_task_run", default=None)
_tags: ContextVar[frozenset[str]] = ContextVar("legato_tags", default=frozenset())


def current_tags() -> frozenset[str]:
    """Tags added by enclosing ``tags(...)`` blocks."""
    return _tags.get()


@contextmanager
def tags(*new_tags: str) -> Iterator[set[str]]:
    """Add tags to every flow and task run created inside the block.

    >>> with tags("nightly", "etl"):
    ...     my_flow()
    """
    current = _tags.get()
    merged = current.union(new_tags)
    token = _tags.set(merged)
    try:
        yield set(merged)
    finally:
        _tags.reset(token)


def get_run_context() -> FlowRunContext | TaskRunContext:
    """The innermost run context; raises MissingContextError outside any run."""
    from legato.exceptions import MissingContextError

    task_context = task_run_context.get()
    if task_context is not None:
        return task_context
    flow_context = flow_run_context.get()
    if flow_context is not None:
        return flow_context
    raise MissingContextError(
        "No run context: this was called outside of a flow or task run. "
        "Call it from inside a function decorated with @flow or @task."
    )
