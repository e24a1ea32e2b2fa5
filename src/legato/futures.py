"""Futures: handles on task runs submitted to a task runner.

``task.submit()`` returns a ``PrefectFuture``; ``task.map()`` a
``PrefectFutureList``. ``wait`` and ``as_completed`` work over any futures.
"""

from __future__ import annotations

import logging
import queue
import time
import uuid
from _thread import allocate_lock as _allocate_lock
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from legato.exceptions import FutureError
from legato.states import State, get_state_result

if TYPE_CHECKING:
    from legato.engine.runs import FlowRun, TaskRun

R = TypeVar("R")
logger = logging.getLogger(__name__)
# Guards callback lists; held only to append or swap a list, never while calling.
_callbacks_lock = _allocate_lock()


class PrefectFuture(Generic[R]):
    """The eventual final state of one task run.

    ``result()`` waits and returns the value (or raises the task's error);
    ``state`` is the run's current state without waiting.

    Completion is a plain lock held until the run is final: creating a future,
    completing it and waiting on it cost a few C calls, where a
    ``concurrent.futures.Future`` needs a Condition (and an RLock) per future.
    """

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_done_lock",
        "_final_state",
        "_flow_run",
        "_task_run",
    )

    def __init__(self, task_run: TaskRun, flow_run: FlowRun | None = None) -> None:
        self._task_run = task_run
        self._flow_run = flow_run
        self._final_state: State | None = None
        self._callbacks: list[Callable[[PrefectFuture[R]], object]] | None = None
        self._done_lock = _allocate_lock()
        self._done_lock.acquire()

    @property
    def task_run_id(self) -> uuid.UUID:
        return self._task_run.id

    @property
    def task_run(self) -> TaskRun:
        return self._task_run

    @property
    def flow_run(self) -> FlowRun | None:
        return self._flow_run

    @property
    def state(self) -> State:
        """The final state if the run is done, otherwise its current state."""
        final = self._final_state
        return final if final is not None else self._task_run.state

    def done(self) -> bool:
        return self._final_state is not None

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run is final, or ``timeout`` seconds pass."""
        if self._final_state is None and self._done_lock.acquire(
            timeout=-1 if timeout is None else max(timeout, 0)
        ):
            self._done_lock.release()

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """The run's return value; raises its error if it failed.

        Raises ``TimeoutError`` if the run is not final after ``timeout`` seconds.
        """
        self.wait(timeout)
        state = self._final_state
        if state is None:
            raise TimeoutError(
                f"Task run {self._task_run.name!r} did not finish within {timeout} seconds. "
                "Wait longer, or check its state with future.state."
            )
        result: R = get_state_result(state, raise_on_failure=raise_on_failure)
        return result

    def add_done_callback(self, fn: Callable[[PrefectFuture[R]], object]) -> None:
        """Call ``fn(future)`` when the run is final (at once if it is already)."""
        with _callbacks_lock:
            if self._final_state is None:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(fn)
                return
        fn(self)

    # -- engine side --------------------------------------------------------
    def set_final_state(self, state: State) -> None:
        """Mark the run final and run the done callbacks. Called by the task runner, once."""
        with _callbacks_lock:
            if self._final_state is not None:
                raise FutureError(
                    f"The future of task run {self._task_run.name!r} is already complete."
                )
            self._final_state = state
            callbacks, self._callbacks = self._callbacks, None
        self._done_lock.release()
        if callbacks:
            for callback in callbacks:
                try:
                    callback(self)
                except Exception:
                    logger.exception("A done callback of task run %r raised", self._task_run.name)

    def __repr__(self) -> str:
        return f"PrefectFuture(task_run={self._task_run.name!r}, state={self.state})"


# Prefect 3 names the thread-pool future this way; it is the same class here.
PrefectConcurrentFuture = PrefectFuture
PrefectDistributedFuture = PrefectFuture


class PrefectFutureList(list[PrefectFuture[R]]):
    """The futures of a ``.map()`` call, in input order."""

    def wait(self, timeout: float | None = None) -> None:
        """Block until every run is final, or ``timeout`` seconds pass."""
        wait(self, timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[R]:
        """Every run's return value, in order; raises the first error."""
        done, not_done = wait(self, timeout=timeout)
        if not_done:
            raise TimeoutError(
                f"{len(not_done)} of {len(self)} task runs did not finish within {timeout} seconds."
            )
        return [future.result(raise_on_failure=raise_on_failure) for future in self]


class DoneAndNotDoneFutures(NamedTuple, Generic[R]):
    """What ``wait()`` returns."""

    done: set[PrefectFuture[R]]
    not_done: set[PrefectFuture[R]]


def wait(
    futures: Iterable[PrefectFuture[R]], timeout: float | None = None
) -> DoneAndNotDoneFutures[R]:
    """Wait for futures to finish; returns ``(done, not_done)`` after ``timeout``."""
    futures = list(futures)
    deadline = None if timeout is None else time.monotonic() + timeout
    for future in futures:
        if deadline is None:
            future.wait()
        elif not future.done():
            future.wait(deadline - time.monotonic())
    done = {future for future in futures if future.done()}
    return DoneAndNotDoneFutures(done, {future for future in futures if future not in done})


def as_completed(
    futures: Iterable[PrefectFuture[R]], timeout: float | None = None
) -> Iterator[PrefectFuture[R]]:
    """Yield futures as their runs finish; ``TimeoutError`` after ``timeout``."""
    pending = set(futures)
    finished: queue.SimpleQueue[PrefectFuture[R]] = queue.SimpleQueue()
    for future in pending:
        future.add_done_callback(finished.put)
    deadline = None if timeout is None else time.monotonic() + timeout
    while pending:
        try:
            if deadline is None:
                future = finished.get()
            else:
                future = finished.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise TimeoutError(
                f"{len(pending)} future(s) did not finish within {timeout} seconds."
            ) from None
        if future in pending:
            pending.discard(future)
            yield future


def resolve_futures_to_states(expr: Any) -> Any:
    """``expr`` with every future inside it replaced by its final state."""
    from legato.engine.inputs import map_futures

    return map_futures(expr, lambda future: _final_state(future))


def resolve_futures_to_results(expr: Any) -> Any:
    """``expr`` with every future inside it replaced by its result."""
    from legato.engine.inputs import map_futures

    return map_futures(expr, lambda future: future.result())


def _final_state(future: PrefectFuture[Any]) -> State:
    future.wait()
    return future.state


def check_future_usable(future: PrefectFuture[Any], flow_run: FlowRun | None) -> None:
    """Refuse futures of another flow run that has already finished."""
    owner = future.flow_run
    if owner is not None and owner is not flow_run and owner.is_finished:
        raise FutureError(
            f"The future of task run {future.task_run.name!r} belongs to flow run {owner.name!r}, "
            "which has finished. Futures cannot cross flow runs: pass the value "
            "(future.result()) instead of the future."
        )


__all__ = [
    "DoneAndNotDoneFutures",
    "PrefectConcurrentFuture",
    "PrefectFuture",
    "PrefectFutureList",
    "as_completed",
    "resolve_futures_to_results",
    "resolve_futures_to_states",
    "wait",
]
