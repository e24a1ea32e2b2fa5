"""Task runners: where submitted task runs execute.

- ``ThreadPoolTaskRunner`` (the default): threads in this process. A run whose
  upstream futures are not done yet is not given a thread until they are, so
  long dependency chains never tie up the pool.
- ``ProcessPoolTaskRunner``: separate processes (spawned, so safe with threads),
  task and arguments sent with cloudpickle. The child runs the task engine and
  sends back the run's state history and logs; this process records them, so
  only one process writes each run.
"""

from __future__ import annotations

import contextvars
import os
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from legato.engine.worker_pool import WorkerPool
from legato.futures import PrefectFuture, PrefectFutureList
from legato.states import Failed, State, format_exception_line

if TYPE_CHECKING:
    import concurrent.futures as cf

    from legato.engine.context import FlowRunContext
    from legato.engine.recorder import Recorder
    from legato.engine.runs import TaskRun
    from legato.tasks import Task


class TaskRunner(ABC):
    """Runs submitted task runs and completes their futures."""

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @abstractmethod
    def duplicate(self) -> TaskRunner:
        """A fresh runner with the same options (one per flow run)."""

    @abstractmethod
    def submit_run(
        self,
        task: Task[..., Any],
        task_run: TaskRun,
        upstreams: list[PrefectFuture[Any]],
        flow_context: FlowRunContext | None,
        recorder: Recorder,
    ) -> PrefectFuture[Any]:
        """Start ``task_run`` once its upstream futures are done."""

    def shutdown(self) -> None:  # noqa: B027 - optional for runners with nothing to release
        """Wait for running work and release resources."""

    # Prefect 3's public names.
    def submit(
        self, task: Task[..., Any], parameters: dict[str, Any], wait_for: Any = None
    ) -> PrefectFuture[Any]:
        from legato.engine.task_call import submit_task

        return submit_task(task, parameters, wait_for)

    def map(
        self, task: Task[..., Any], parameters: dict[str, Any], wait_for: Any = None
    ) -> PrefectFutureList[Any]:
        from legato.engine.task_call import submit_task
        from legato.tasks import expand_map_parameters

        runs = expand_map_parameters(task.name, parameters)
        return PrefectFutureList(submit_task(task, run, wait_for) for run in runs)

    @property
    def name(self) -> str:
        return type(self).__name__


def _when_done(upstreams: list[PrefectFuture[Any]], start: Any) -> None:
    """Call ``start()`` once every upstream future is done (now if they are)."""
    pending = [future for future in upstreams if not future.done()]
    if not pending:
        start()
        return
    remaining = [len(pending)]
    lock = threading.Lock()

    def one_done(_: PrefectFuture[Any]) -> None:
        with lock:
            remaining[0] -= 1
            ready = remaining[0] == 0
        if ready:
            start()

    for future in pending:
        future.add_done_callback(one_done)


class ThreadPoolTaskRunner(TaskRunner):
    """Runs tasks on a pool of threads in this process."""

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (
            isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
        ):
            from legato.exceptions import ParameterError

            raise ParameterError(
                f"max_workers={max_workers!r} must be a whole number >= 1, or None for the default."
            )
        self.max_workers = max_workers
        self._executor: WorkerPool | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> ThreadPoolTaskRunner:
        return type(self)(max_workers=self.max_workers)

    def _pool(self) -> WorkerPool:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    workers = self.max_workers
                    if workers is None:
                        from legato.settings import get_current_settings

                        workers = get_current_settings().task_runner.thread_pool_max_workers
                    self._executor = WorkerPool(workers or _default_workers(), "legato-task")
                executor = self._executor
        return executor

    def submit_run(
        self,
        task: Task[..., Any],
        task_run: TaskRun,
        upstreams: list[PrefectFuture[Any]],
        flow_context: FlowRunContext | None,
        recorder: Recorder,
    ) -> PrefectFuture[Any]:
        from legato.engine.task_engine import TaskRunEngine

        future: PrefectFuture[Any] = PrefectFuture(
            task_run, flow_context.flow_run if flow_context else None
        )
        engine = TaskRunEngine(task, task_run, flow_context, recorder)
        context = contextvars.copy_context()
        pool = self._pool()
        if not upstreams or all(upstream.done() for upstream in upstreams):
            pool.submit(context.run, _complete, future, engine, task.isasync)
        else:
            _when_done(
                upstreams,
                lambda: pool.submit(context.run, _complete, future, engine, task.isasync),
            )
        return future

    def shutdown(self, wait: bool = True) -> None:
        """Stop the threads once queued calls are done; ``wait=False`` does not join them
        (a cancelled flow run leaves tasks still running to end with the process)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait)
            from legato.engine.asyncio_bridge import close_finished_threads_loops

            close_finished_threads_loops()


def _default_workers() -> int:
    # concurrent.futures' default: enough threads for I/O-bound tasks on few cores.
    return min(32, (os.cpu_count() or 1) + 4)


def _complete(future: PrefectFuture[Any], engine: Any, is_async: bool) -> None:
    future.set_final_state(_run_engine(engine, is_async))


def _run_engine(engine: Any, is_async: bool) -> State:
    from legato.engine.task_engine import run_task_async, run_task_sync

    try:
        if is_async:
            from legato.engine.asyncio_bridge import run_coroutine_in_this_thread

            return run_coroutine_in_this_thread(run_task_async(engine))
        return run_task_sync(engine)
    except BaseException as exc:
        state: State = engine.task_run.state
        if not state.is_final():
            state = engine.set_state(
                Failed(message=f"Task run could not run: {format_exception_line(exc)}", data=exc)
            )
        return state


class ProcessPoolTaskRunner(TaskRunner):
    """Runs tasks in separate processes (spawned), sent with cloudpickle."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers
        self._executor: cf.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending: set[cf.Future[bytes]] = set()

    def duplicate(self) -> ProcessPoolTaskRunner:
        return type(self)(max_workers=self.max_workers)

    def _pool(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                import concurrent.futures as cf
                import multiprocessing

                self._executor = cf.ProcessPoolExecutor(
                    max_workers=self.max_workers, mp_context=multiprocessing.get_context("spawn")
                )
            return self._executor

    def submit_run(
        self,
        task: Task[..., Any],
        task_run: TaskRun,
        upstreams: list[PrefectFuture[Any]],
        flow_context: FlowRunContext | None,
        recorder: Recorder,
    ) -> PrefectFuture[Any]:
        from legato.engine import subprocess_runs
        from legato.engine.task_engine import TaskRunEngine

        future: PrefectFuture[Any] = PrefectFuture(
            task_run, flow_context.flow_run if flow_context else None
        )
        engine = TaskRunEngine(task, task_run, flow_context, recorder)
        pool = self._pool()

        def start() -> None:
            if engine.resolve_inputs() is None:  # an upstream failed: NotReady
                future.set_final_state(task_run.state)
                return
            payload = subprocess_runs.pack(task, task_run, flow_context)
            child = pool.submit(subprocess_runs.run_packed_task, payload)
            with self._lock:
                self._pending.add(child)
            child.add_done_callback(lambda done: self._finish(done, engine, future))

        _when_done(upstreams, start)
        return future

    def _finish(self, child: cf.Future[bytes], engine: Any, future: PrefectFuture[Any]) -> None:
        from legato.engine import subprocess_runs

        with self._lock:
            self._pending.discard(child)
        future.set_final_state(subprocess_runs.apply_child_result(child, engine))

    def shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


_standalone_runner: ThreadPoolTaskRunner | None = None


def default_standalone_runner() -> ThreadPoolTaskRunner:
    """The runner for ``.submit()`` called outside any flow run."""
    global _standalone_runner
    if _standalone_runner is None:
        _standalone_runner = ThreadPoolTaskRunner()
    return _standalone_runner


__all__ = ["ProcessPoolTaskRunner", "TaskRunner", "ThreadPoolTaskRunner"]
