"""Moving one task run through its states.

``TaskRunEngine`` holds the state machine (begin, attempt, success, failure,
retry, finish); ``run_task_sync`` and ``run_task_async`` are the two thin loops
around it, so the rules live in one place for sync and async tasks (generator
tasks: ``generator_tasks``). Tagged runs hold their tag concurrency slots
around each attempt (``tag_limits``); untagged runs never look limits up.
"""

from __future__ import annotations

import inspect
import logging
import random
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from legato.engine import cancellation, persistence, tag_limits
from legato.engine.context import (
    FlowRunContext,
    TaskRunContext,
    current_tags,
    task_run_context,
)
from legato.engine.inputs import collect_task_inputs, resolve_parameters, resolve_value
from legato.engine.runs import TaskRun
from legato.engine.timeouts import timeout_after
from legato.exceptions import ParameterError, TaskRunTimeoutError, UpstreamTaskError
from legato.logging.engine_lines import log_run_line
from legato.logging.loggers import task_run_extra, task_run_logger
from legato.states import (
    TERMINAL_STATES,
    AwaitingRetry,
    Cancelled,
    Crashed,
    Failed,
    Pending,
    State,
    StateType,
    TimedOut,
    format_exception_line,
)
from legato.transactions import Transaction, get_transaction, lock_key

if TYPE_CHECKING:
    from legato.concurrency._global_slots import HeldSlots
    from legato.engine.recorder import Recorder
    from legato.tasks import Task

logger = logging.getLogger(__name__)
_INFO = logging.INFO
_RUNNING = StateType.RUNNING
_COMPLETED = StateType.COMPLETED
_PENDING = StateType.PENDING
_standalone_counter: dict[str, int] = {}


def create_task_run(
    task: Task[..., Any],
    parameters: dict[str, Any],
    flow_context: FlowRunContext | None,
    recorder: Recorder,
    wait_for: Iterable[Any] | None = None,
) -> tuple[TaskRun, list[Any]]:
    """A new Pending task run (recorded), and the upstream futures it waits for."""
    flow_run_id: uuid.UUID | None
    if flow_context is not None:
        dynamic_key = flow_context.next_dynamic_key(task.task_key)
        flow_run = flow_context.flow_run
        flow_run_id, flow_run_name = flow_run.id, flow_run.name
    else:
        dynamic_key = _standalone_counter.get(task.task_key, 0)
        _standalone_counter[task.task_key] = dynamic_key + 1
        parent = task_run_context.get()
        flow_run_id = parent.task_run.flow_run_id if parent is not None else None
        flow_run_name = None
    inputs, upstream_futures = collect_task_inputs(parameters, wait_for)
    extra_tags = current_tags()
    if extra_tags:
        tags = sorted(task.tags.union(extra_tags))
    else:
        tags = sorted(task.tags) if task.tags else []
    task_run = TaskRun(
        name=f"{task.name}-{dynamic_key}",
        task_key=task.task_key,
        task_name=task.name,
        dynamic_key=str(dynamic_key),
        state=State(_PENDING, "Pending"),
        tags=tags,
        parameters=parameters,
        flow_run_id=flow_run_id,
        flow_run_name=flow_run_name,
        task_version=task.version,
        task_inputs=inputs,
    )
    if wait_for:
        task_run.wait_for = list(wait_for)
    recorder.task_state(task_run)
    return task_run, upstream_futures


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


class TaskRunEngine:
    """The rules of one task run, shared by the sync and async loops."""

    __slots__ = (
        "cache_key",
        "call_arguments",
        "context",
        "flow_context",
        "key_lock",
        "persist",
        "recorder",
        "slots",
        "store",
        "task",
        "task_run",
        "txn",
        "txn_name",
    )

    def __init__(
        self,
        task: Task[..., Any],
        task_run: TaskRun,
        flow_context: FlowRunContext | None,
        recorder: Recorder,
    ) -> None:
        self.task = task
        self.task_run = task_run
        self.flow_context = flow_context
        self.recorder = recorder
        log_prints = task.log_prints
        if log_prints is None:
            log_prints = (
                flow_context.log_prints if flow_context is not None else task.default_log_prints()
            )
        self.context = TaskRunContext(task, task_run, recorder, log_prints, task_run.parameters)
        # The caller's (args, kwargs) when the task was called directly: used as is
        # when no argument needed resolving.
        self.call_arguments: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        # Results and caching (see check_cache): decided when the run starts.
        self.persist = False
        self.store: Any = None
        self.cache_key: str | None = None
        self.key_lock: str | None = None  # the holder name while a SERIALIZABLE key is locked
        self.slots: HeldSlots | None = None  # tag concurrency slots held by the running attempt
        # The enclosing transaction, and this run's name in it (made now, in call order).
        txn = get_transaction()
        self.txn = txn
        self.txn_name = txn.child_key(task.task_key) if txn is not None else None

    # -- logging --------------------------------------------------------------
    def log(self, level: int, message: str, *args: Any, exc_info: Any = None) -> None:
        if task_run_logger.isEnabledFor(level):
            run = self.task_run
            log_run_line(
                task_run_logger,
                level,
                f"Task run {run.name!r} - ",
                message % args if args else message,
                self.recorder,
                self.flow_context.flow_run.id_text
                if self.flow_context is not None
                else _text(run.flow_run_id),
                run.id_text,
                self._log_extra,
                exc_info,
            )

    def _log_extra(self) -> dict[str, Any]:
        return task_run_extra(self.context, self.flow_context)

    # -- transitions ----------------------------------------------------------
    def set_state(self, state: State) -> State:
        run = self.task_run
        previous = run.state
        now = state.timestamp_seconds
        if previous.type is _RUNNING:
            run.total_run_time += now - previous.timestamp_seconds
        if state.type is _RUNNING and run._start_time is None:
            run._start_time = now
        if state.type in TERMINAL_STATES:
            run._end_time = now
        state.attach_run_ids(run.flow_run_id, run.id)
        run.state = state
        self.recorder.task_state(run)
        return state

    def resolve_inputs(self) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """The call's arguments with upstream results in place of futures.

        Returns None (and leaves the run Pending/NotReady) if an upstream did
        not complete.
        """
        flow_run = self.flow_context.flow_run if self.flow_context is not None else None
        parameters = self.task_run.parameters
        try:
            if self.task_run.wait_for:
                resolve_value(self.task_run.wait_for, flow_run)
            resolved, changed = resolve_parameters(parameters, flow_run)
        except UpstreamTaskError as exc:
            self.set_state(Pending(name="NotReady", message=str(exc), data=exc))
            self.log(logging.INFO, "Not run: %s", exc)
            return None
        if changed:
            self.task_run.parameters = resolved
            self.context.parameters = resolved
        if self.task.task_run_name is not None:
            self._name_run(resolved)
        if not changed and self.call_arguments is not None:
            return self.call_arguments
        return self.task.binder.to_call_arguments(resolved)

    def _name_run(self, parameters: dict[str, Any]) -> None:
        template = self.task.task_run_name
        if template is None:
            return
        try:
            name = template() if callable(template) else template.format(**parameters)
        except (KeyError, IndexError) as exc:
            raise ParameterError(
                f"task_run_name {template!r} of task {self.task.name!r} refers to {exc}, "
                f"which is not a parameter ({', '.join(parameters) or 'none'}). "
                "Use only parameter names in braces."
            ) from None
        self.task_run.name = str(name)

    def begin_attempt(self) -> None:
        run = self.task_run
        run.run_count += 1
        self.set_state(
            State(_RUNNING, "Retrying") if run.run_count > 1 else State(_RUNNING, "Running")
        )
        if self.task.on_running_hooks:
            self.run_hooks(self.task.on_running_hooks, run.state)

    def handle_success(self, result: Any) -> State:
        state = (
            result if isinstance(result, State) else State(_COMPLETED, "Completed", None, result)
        )
        if (self.persist or self.txn is not None or self.task.on_commit_hooks) and (
            state.type is _COMPLETED
        ):
            try:
                self._keep_result(state)
            except Exception as exc:
                self.log(logging.ERROR, "Could not persist the result: %s", exc, exc_info=exc)
                return self.set_state(
                    Failed(message=f"Could not persist the task's result: {exc}", data=exc)
                )
        return self.set_state(state)

    # -- results and caching ------------------------------------------------
    def check_cache(self) -> bool:
        """Decide persistence and look the key up; True if the run ended Cached."""
        task = self.task
        flow_context = self.flow_context
        if flow_context is not None and flow_context.replay and self._replay(flow_context.replay):
            return True
        txn = self.txn
        if txn is not None and txn.is_committed():
            found, value = txn.replayed(self.txn_name or "")
            if found:
                self._end_cached(value, None, "replayed from committed transaction")
                return True
        persist = persistence.task_persists(task, self.flow_context)
        if not persist:
            return False
        self.persist = True
        try:
            self.store = store = persistence.task_result_store(task, self.flow_context)
            key = persistence.compute_key(
                task, self.context, self.task_run.parameters, self.flow_context
            )
        except Exception as exc:
            self.log(logging.ERROR, "Could not set up result persistence: %s", exc, exc_info=exc)
            self._fail_transaction()
            self.set_state(Failed(message=str(exc), data=exc))
            self.persist = False
            return True
        self.cache_key = key
        self.task_run.cache_key = key
        if key is None or task.refresh_cache:
            return False
        if task.cache_isolation_serializable:
            # Held until finish(): a run that misses writes its result under the lock.
            self.key_lock = lock_key(
                store,
                key,
                f"Task {task.name!r}",
                "Give the cache policy one, e.g. "
                "INPUTS.configure(lock_manager=FileSystemLockManager(...)).",
            )
        record = self._lookup(store, key)
        if record is None:
            return False
        self._end_cached(record.result, record, None)
        return True

    def _lookup(self, store: Any, key: str) -> Any:
        try:
            return persistence.lookup(store, key)
        except Exception as exc:
            self.log(
                logging.WARNING,
                "The cached result under key %r could not be read (%s); running the task again.",
                key,
                exc,
            )
            return None

    def _replay(self, replay: dict[tuple[str, str], dict[str, Any]]) -> bool:
        """In a flow run started again: end Cached with the result this task run had before."""
        from legato.engine.replay import replayed_state

        state = replayed_state(replay, self.task.task_key, self.task_run.dynamic_key, self.log)
        if state is None:
            return False
        self.set_state(state)
        return True

    def _release_key(self) -> None:
        holder, self.key_lock = self.key_lock, None
        if holder is not None and self.cache_key is not None:
            try:
                self.store.release_lock(self.cache_key, holder=holder)
            except Exception:
                self.log(logging.WARNING, "Could not release the lock on %r", self.cache_key)

    def _end_cached(self, value: Any, record: Any, message: str | None) -> None:
        state = State(_COMPLETED, "Cached", message, value)
        if record is not None:
            persistence.refer_to(state, record, self.task.cache_result_in_memory)
        self.set_state(state)
        if self.txn is not None:
            self._stage(state, value, None)

    def _keep_result(self, state: State) -> None:
        """Persist the value now, or stage it in the transaction to write on commit.

        A task with on_commit hooks runs in a transaction of its own even outside
        any ``transaction()`` block: the hooks run when it commits, at once.
        """
        value = state.data
        task = self.task
        record = None
        if self.persist:
            record = self.store.create_result_record(
                value, key=self.cache_key, expiration=persistence.expiration_of(task)
            )
        if self.txn is not None or task.on_commit_hooks:
            self._stage(state, value, record)
        elif record is not None:
            self.store.persist_result_record(record, holder=self.key_lock)
        if record is not None:
            persistence.refer_to(state, record, task.cache_result_in_memory)

    def _stage(self, state: State, value: Any, record: Any) -> None:
        task = self.task
        child = Transaction(key=self.cache_key, store=self.store, parent=self.txn)
        child.begin_child(self.txn_name)
        child.stage(
            value,
            on_rollback_hooks=task.on_rollback_hooks,
            on_commit_hooks=task.on_commit_hooks,
            record=record,
        )
        child.end()

    def handle_exception(self, exc: BaseException) -> float | None:
        """Record a failed attempt; return the retry delay, or None if final."""
        timed_out = isinstance(exc, TaskRunTimeoutError)
        if timed_out:
            timeout = self.task.timeout_seconds
            message = f"Task run exceeded timeout of {timeout} second(s)"
            exc = TaskRunTimeoutError(message)
            state = TimedOut(message=message, data=exc)
        else:
            state = Failed(
                message=f"Task run encountered an exception {format_exception_line(exc)}", data=exc
            )
        delay = self._retry_delay(state)
        if delay is None:
            retries = self.task.retries
            reason = "Retries are exhausted" if retries else "No retries configured for this task."
            self.log(
                logging.ERROR, "Task run failed with exception: %r - %s", exc, reason, exc_info=exc
            )
            self._fail_transaction()
            self.set_state(state)
            return None
        count = self.task_run.run_count
        when = f"in {delay:g} second(s)" if delay else "immediately"
        self.log(
            _INFO,
            "Task run failed with exception: %r - Retry %d/%d will start %s",
            exc,
            count,
            self.task.retries,
            when,
        )
        self.set_state(AwaitingRetry(message=state.message))
        return delay

    def _retry_delay(self, failed: State) -> float | None:
        task = self.task
        if self.task_run.run_count > task.retries:
            return None
        if task.retry_condition_fn is not None:
            try:
                if not task.retry_condition_fn(task, self.task_run, failed):
                    return None
            except Exception:
                self.log(logging.ERROR, "retry_condition_fn raised; not retrying", exc_info=True)
                return None
        delays = task.retry_delays
        if not delays:
            return 0.0
        delay = delays[min(self.task_run.run_count - 1, len(delays) - 1)]
        jitter = task.retry_jitter_factor
        if jitter:
            delay += random.uniform(0, delay * jitter)
        return delay

    def _fail_transaction(self) -> None:
        if self.txn is not None:
            self.txn.mark_failed()

    def handle_crash(self, exc: BaseException) -> None:
        self._release_key()
        self._fail_transaction()
        if self._is_cancellation(exc):
            self.set_state(Cancelled(message="Cancelled with its flow run.", data=exc))
            self.log(_INFO, "Cancelled with its flow run.")
            return
        self.set_state(
            Crashed(message=f"Execution was interrupted: {format_exception_line(exc)}", data=exc)
        )
        self.log(logging.ERROR, "Crashed: %s", format_exception_line(exc))

    def _is_cancellation(self, exc: BaseException) -> bool:
        context = self.flow_context
        run = context.flow_run if context is not None else None
        ids = (run.id, run.parent_flow_run_id) if run is not None else (self.task_run.flow_run_id,)
        return cancellation.is_cancellation(exc, ids, self.recorder.client)

    def finish(self) -> State:
        self._release_key()
        state = self.task_run.state
        task = self.task
        state_type = state.type
        if state_type is _COMPLETED:
            if task.on_completion_hooks:
                self.run_hooks(task.on_completion_hooks, state)
        elif state_type is StateType.FAILED and task.on_failure_hooks:
            self.run_hooks(task.on_failure_hooks, state)
        level = logging.ERROR if state_type in (StateType.FAILED, StateType.CRASHED) else _INFO
        self.log(level, "Finished in state %s", state)
        return state

    def run_hooks(self, hooks: Iterable[Any], state: State) -> None:
        for hook in hooks:
            try:
                result = hook(self.task, self.task_run, state)
                if inspect.iscoroutine(result):
                    from legato.engine.asyncio_bridge import run_coroutine_sync

                    run_coroutine_sync(result)
            except Exception:
                name = getattr(hook, "__name__", repr(hook))
                self.log(
                    logging.ERROR,
                    "An error was encountered while running hook %r",
                    name,
                    exc_info=True,
                )


# -- the two loops -------------------------------------------------------------


def run_task_sync(engine: TaskRunEngine) -> State:
    """Run a sync task to a final state (retries included)."""
    task = engine.task
    token = task_run_context.set(engine.context)
    try:
        call = engine.resolve_inputs()
        if call is None:
            return engine.task_run.state
        if engine.check_cache():
            return engine.finish()
        args, kwargs = call
        fn = task.fn
        timeout = task.timeout_seconds
        while True:
            if engine.task_run.tags and not tag_limits.take(engine):
                break
            engine.begin_attempt()
            try:
                if timeout is None:
                    result = fn(*args, **kwargs)
                else:
                    with timeout_after(timeout, TaskRunTimeoutError):
                        result = fn(*args, **kwargs)
            except Exception as exc:
                delay = engine.handle_exception(exc)
                if delay is None:
                    break
                if engine.slots is not None:
                    tag_limits.release(engine)  # no slot is held during a retry's delay
                if delay:
                    time.sleep(delay)
                continue
            except BaseException as exc:
                engine.handle_crash(exc)
                raise
            engine.handle_success(result)
            break
        if engine.slots is not None:
            tag_limits.release(engine)
        return engine.finish()
    finally:
        if engine.slots is not None:  # a crash: given back on the way out
            tag_limits.release(engine)
        task_run_context.reset(token)


async def run_task_async(engine: TaskRunEngine) -> State:
    """Run an async task to a final state (retries included)."""
    import asyncio

    task = engine.task
    token = task_run_context.set(engine.context)
    try:
        call = engine.resolve_inputs()
        if call is None:
            return engine.task_run.state
        if engine.check_cache():
            return engine.finish()
        args, kwargs = call
        timeout = task.timeout_seconds
        while True:
            if engine.task_run.tags and not await tag_limits.atake(engine):
                break
            engine.begin_attempt()
            try:
                if timeout is None:
                    result = await task.fn(*args, **kwargs)
                else:
                    try:
                        async with asyncio.timeout(timeout):
                            result = await task.fn(*args, **kwargs)
                    except TimeoutError as exc:
                        raise TaskRunTimeoutError() from exc
            except Exception as exc:
                delay = engine.handle_exception(exc)
                if delay is None:
                    break
                if engine.slots is not None:
                    await tag_limits.arelease(engine)
                if delay:
                    await asyncio.sleep(delay)
                continue
            except BaseException as exc:
                engine.handle_crash(exc)
                raise
            engine.handle_success(result)
            break
        if engine.slots is not None:
            await tag_limits.arelease(engine)
        return engine.finish()
    finally:
        if engine.slots is not None:  # a crash or a cancellation: given back without awaiting
            tag_limits.release(engine)
        task_run_context.reset(token)
