"""Futures: handles on task runs submitted to a task runner.

``task.submit()`` returns a ``PrefectFuture``; ``task.map()`` a
``PrefectFutureList``. ``wait`` and ``as_completed`` work over any futures.
"""

from __future__ import annotations

import concurrent.futures as cf
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from legato.exceptions import FutureError
from legato.states import State, get_state_result

if TYPE_CHECKING:
    from legato.engine.runs import FlowRun, TaskRun

R = TypeVar("R")


class PrefectFuture(Generic[R]):
    """The eventual final state of one task run.

    ``result()`` waits and returns the value (or raises the task's error);
    ``state`` is the run's current state without waiting.
    """

    __slots__ = ("_flow_run", "_inner", "_task_run", "__weakref__")

    def __init__(self, task_run: TaskRun, flow_run: FlowRun | None = None) -> None:
        self._task_run = task_run
        self._flow_run = flow_run
        self._inner: cf.Future[State] = cf.Future()

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
        inner = self._inner
        if inner.done():
            return inner.result()
        return self._task_run.state

    @property
    def wrapped_future(self) -> cf.Future[State]:
        return self._inner

    def done(self) -> bool:
        return self._inner.done()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the run is final, or ``timeout`` seconds pass."""
        cf.wait([self._inner], timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """The run's return value; raises its error if it failed.

        Raises ``TimeoutError`` if the run is not final after ``timeout`` seconds.
        """
        try:
            state = self._inner.result(timeout=timeout)
        except cf.TimeoutError:
            raise TimeoutError(
                f"Task run {self._task_run.name!r} did not finish within {timeout} seconds. "
                "Wait longer, or check its state with future.state."
            ) from None
        result: R = get_state_result(state, raise_on_failure=raise_on_failure)
        return result

    def add_done_callback(self, fn: Callable[[PrefectFuture[R]], object]) -> None:
        """Call ``fn(future)`` when the run is final (at once if it is already)."""
        self._inner.add_done_callback(lambda _inner: fn(self))

    # -- engine side --------------------------------------------------------
    def set_final_state(self, state: State) -> None:
        """Mark the run final. Called by the task runner, once."""
        self._inner.set_result(state)

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


def wait(futures: Iterable[PrefectFuture[R]], timeout: float | None = None) -> DoneAndNotDoneFutures[R]:
    """Wait for futures to finish; returns ``(done, not_done)`` after ``timeout``."""
    by_inner = {future._inner: future for future in futures}
    done, not_done = cf.wait(list(by_inner), timeout=timeout)
    return DoneAndNotDoneFutures({by_inner[f] for f in done}, {by_inner[f] for f in not_done})


def as_completed(
    futures: Iterable[PrefectFuture[R]], timeout: float | None = None
) -> Iterator[PrefectFuture[R]]:
    """Yield futures as their runs finish; ``TimeoutError`` after ``timeout``."""
    by_inner = {future._inner: future for future in futures}
    try:
        for inner in cf.as_completed(list(by_inner), timeout=timeout):
            yield by_inner[inner]
    except cf.TimeoutError:
        raise TimeoutError(f"Not every future finished within {timeout} seconds.") from None


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
