"""Moving one flow run through its states.

``FlowRunEngine`` holds the rules (begin, attempt, result to state, retries,
hooks, finish); ``run_flow_sync`` and ``run_flow_async`` are thin loops around
it. When a flow run returns, everything it recorded has been written.
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from legato.engine import cancellation, persistence, signals
from legato.engine.context import (
    FlowRunContext,
    current_tags,
    flow_run_context,
    task_run_context,
)
from legato.engine.names import generate_run_name
from legato.engine.runs import FlowRun, TaskRun
from legato.engine.startup import ensure_started
from legato.engine.timeouts import timeout_after
from legato.exceptions import (
    FlowRunCancelled,
    FlowRunTimeoutError,
    ParameterError,
    Pause,
    TerminationSignal,
)
from legato.futures import PrefectFuture
from legato.logging.configuration import flush_console
from legato.logging.engine_lines import log_run_line
from legato.logging.loggers import flow_run_extra, flow_run_logger
from legato.states import (
    AwaitingRetry,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    State,
    StateType,
    TimedOut,
    format_exception_line,
    summarize_states,
)

if TYPE_CHECKING:
    from legato.engine.recorder import Recorder
    from legato.flows import Flow

_FLOW_NAMESPACE = uuid.UUID("6f1c2a52-6a55-4a0e-9d1e-3c6d0c9b7a10")
_flow_ids: dict[str, uuid.UUID] = {}
_INFO = logging.INFO


def flow_id_for(name: str) -> uuid.UUID:
    """Flow ids are derived from flow names, so every process agrees on them."""
    flow_id = _flow_ids.get(name)
    if flow_id is None:
        flow_id = _flow_ids[name] = uuid.uuid5(_FLOW_NAMESPACE, name)
    return flow_id


class FlowRunEngine:
    """The rules of one flow run, shared by the sync and async loops."""

    def __init__(self, flow: Flow[..., Any], parameters: dict[str, Any]) -> None:
        self.flow = flow
        self.parent = flow_run_context.get()
        parent_task = task_run_context.get()
        self.recorder: Recorder = (
            self.parent.recorder if self.parent is not None else ensure_started()
        )
        extra_tags = current_tags()
        self.flow_run = FlowRun(
            name="",
            flow_id=flow_id_for(flow.name),
            flow_name=flow.name,
            state=Pending(),
            tags=sorted(extra_tags) if extra_tags else [],
            parameters=parameters,
            flow_version=flow.version,
            parent_flow_run_id=self.parent.flow_run.id if self.parent is not None else None,
            parent_task_run_id=parent_task.task_run.id if parent_task is not None else None,
        )
        log_prints = flow.log_prints
        if log_prints is None:
            log_prints = (
                self.parent.log_prints if self.parent is not None else flow.default_log_prints()
            )
        if log_prints:
            from legato.logging.loggers import install_print_hook

            install_print_hook()
        self.context = FlowRunContext(
            flow,
            self.flow_run,
            flow.task_runner.duplicate(),
            self.recorder,
            log_prints,
            persistence.flow_persists(flow, self.parent),
        )
        # Attempts in this process (run_count also counts earlier processes' attempts).
        self.attempts = 0
        # After SIGTERM: the task runner's threads are not joined (see handle_interruption).
        self.abandons_task_runs = False
        self.link: TaskRun | None = None
        if self.parent is not None and parent_task is None:
            self.link = self._create_link_task_run(self.parent)
            self.flow_run.parent_task_run_id = self.link.id

    def _create_link_task_run(self, parent: FlowRunContext) -> TaskRun:
        """The task run that stands for this subflow in its parent's graph (as in Prefect)."""
        task_key = f"subflow-{self.flow.name}"
        dynamic_key = parent.next_dynamic_key(task_key)
        link = TaskRun(
            name=f"{self.flow.name}-{dynamic_key}",
            task_key=task_key,
            task_name=self.flow.name,
            dynamic_key=str(dynamic_key),
            state=Pending(),
            tags=list(self.flow_run.tags),
            parameters={},
            flow_run_id=parent.flow_run.id,
            flow_run_name=parent.flow_run.name,
        )
        self.recorder.task_state(link)
        return link

    def _mirror_on_link(self, state: State) -> None:
        link = self.link
        if link is None or state.type is StateType.PENDING:
            return
        now = state.timestamp_seconds
        if state.type is StateType.RUNNING:
            link.run_count += 1
            if link._start_time is None:
                link._start_time = now
        if state.is_final():
            link._end_time = now
            link.total_run_time = self.flow_run.total_run_time
        link.state = State(state.type, state.name, state.message, timestamp=now)
        self.recorder.task_state(link)

    # -- logging and states -----------------------------------------------------
    def log(self, level: int, message: str, *args: Any, exc_info: Any = None) -> None:
        if flow_run_logger.isEnabledFor(level):
            run = self.flow_run
            log_run_line(
                flow_run_logger,
                level,
                f"Flow run {run.name!r} - ",
                message % args if args else message,
                self.recorder,
                run.id_text,
                None,
                self._log_extra,
                exc_info,
            )

    def _log_extra(self) -> dict[str, Any]:
        return flow_run_extra(self.context)

    def set_state(self, state: State) -> State:
        run = self.flow_run
        previous = run.state
        now = state.timestamp_seconds
        if previous.type is StateType.RUNNING:
            run.total_run_time += now - previous.timestamp_seconds
        if state.type is StateType.RUNNING and run._start_time is None:
            run._start_time = now
        if state.is_final():
            run._end_time = now
        state.state_details.flow_run_id = run.id
        run.state = state
        self.recorder.flow_state(run)
        if self.link is not None:
            self._mirror_on_link(state)
        return state

    # -- lifecycle ----------------------------------------------------------------
    def begin(self) -> None:
        """Name the run, record it Pending and announce it."""
        self.flow_run.name = self._run_name()
        self.set_state(self.flow_run.state)
        kind = "subflow run" if self.parent is not None else "flow run"
        self.log(_INFO, "Beginning %s %r for flow %r", kind, self.flow_run.name, self.flow.name)

    def _run_name(self) -> str:
        template = self.flow.flow_run_name
        if template is None:
            return generate_run_name()
        token = flow_run_context.set(self.context)
        try:
            name = template() if callable(template) else template.format(**self.flow_run.parameters)
        except (KeyError, IndexError) as exc:
            raise ParameterError(
                f"flow_run_name {template!r} of flow {self.flow.name!r} refers to {exc}, which is not "
                f"a parameter ({', '.join(self.flow_run.parameters) or 'none'}). Use parameter names in braces."
            ) from None
        finally:
            flow_run_context.reset(token)
        return str(name)

    def fail_before_start(self, exc: BaseException) -> None:
        """Record a run that could not start (e.g. invalid parameters)."""
        self.set_state(Failed(message=f"Flow run could not start: {exc}", data=exc))
        self.finish()

    def begin_attempt(self) -> None:
        run = self.flow_run
        run.run_count += 1
        self.attempts += 1
        self.set_state(Retrying() if self.attempts > 1 else Running())
        if self.flow.on_running_hooks:
            self.run_hooks(self.flow.on_running_hooks, run.state)

    def handle_result(self, result: Any) -> State:
        """The final state a flow's return value stands for."""
        self.wait_for_futures()
        state = return_value_to_state(result)
        if self.context.persist_result and state.type is StateType.COMPLETED:
            try:
                self._persist(state)
            except Exception as exc:
                self.log(logging.ERROR, "Could not persist the flow's result: %s", exc)
                state = Failed(message=f"Could not persist the flow's result: {exc}", data=exc)
        return self.set_state(state)

    def _persist(self, state: State) -> None:
        store = persistence.flow_result_store(self.flow)
        record = store.create_result_record(state.data)
        store.persist_result_record(record)
        persistence.refer_to(state, record, self.flow.cache_result_in_memory)

    def handle_exception(self, exc: BaseException) -> float | None:
        """Record a failed attempt; the retry delay, or None if final."""
        self.wait_for_futures()
        if isinstance(exc, FlowRunTimeoutError):
            message = f"Flow run exceeded timeout of {self.flow.timeout_seconds:g} second(s)"
            exc = FlowRunTimeoutError(message)
            state = TimedOut(message=message, data=exc)
        else:
            state = Failed(
                message=f"Flow run encountered an exception: {format_exception_line(exc)}", data=exc
            )
        if self.attempts <= self.flow.retries:
            delay = self.flow.retry_delay_seconds or 0.0
            self.log(
                _INFO,
                "Received non-final state 'AwaitingRetry' when proposing final state %r and will attempt to run again...",
                str(state),
            )
            self.set_state(AwaitingRetry(message=state.message))
            return float(delay)
        self.log(logging.ERROR, "Encountered exception during execution: %r", exc, exc_info=exc)
        self.set_state(state)
        return None

    def handle_crash(self, exc: BaseException) -> None:
        self.wait_for_futures()
        self.set_state(
            Crashed(message=f"Execution was interrupted: {format_exception_line(exc)}", data=exc)
        )

    def handle_interruption(self, exc: BaseException) -> None:
        """A BaseException stopped the run: Cancelled if it was asked to cancel, else Crashed.

        After SIGTERM the run does not wait for its submitted task runs (the
        process is about to end): those still in progress end with it.
        """
        run = self.flow_run
        ids = (run.id, run.parent_flow_run_id)
        if cancellation.is_cancellation(exc, ids, self.recorder.client):
            self.abandons_task_runs = True
            self.end_unfinished_task_runs(Cancelled, "Cancelled with its flow run.")
            message = (
                str(exc)
                if isinstance(exc, FlowRunCancelled)
                else "The flow run was cancelled: its process got SIGTERM while it was Cancelling."
            )
            self.set_state(Cancelled(message=message, data=exc))
        elif isinstance(exc, TerminationSignal):
            self.abandons_task_runs = True
            self.end_unfinished_task_runs(Crashed, "Crashed with its flow run (SIGTERM).")
            self.set_state(
                Crashed(
                    message=f"Execution was interrupted: {format_exception_line(exc)}", data=exc
                )
            )
        else:
            self.handle_crash(exc)

    def end_unfinished_task_runs(self, make: Callable[..., State], message: str) -> None:
        """End the submitted task runs still in progress (their threads are not waited for)."""
        for future in list(self.context.futures):
            task_run = future.task_run
            if not future.done() and not task_run.state.is_final():
                task_run.state = make(message=message)
                task_run.state.attach_run_ids(task_run.flow_run_id, task_run.id)
                self.recorder.task_state(task_run)

    def suspend(self) -> State:
        """End this process's part of a suspended run: no final state, everything written."""
        self.context.task_runner.shutdown()
        self.recorder.flush()
        if self.parent is None:
            flush_console()
        return self.flow_run.state

    def wait_for_futures(self) -> None:
        for future in list(self.context.futures):
            future.wait()

    def finish(self) -> State:
        """Close the task runner, run hooks, announce and write everything."""
        if self.abandons_task_runs:
            _shutdown_without_waiting(self.context.task_runner)
        else:
            self.context.task_runner.shutdown()
        run = self.flow_run
        run.is_finished = True
        state = run.state
        flow = self.flow
        hooks = {
            StateType.COMPLETED: flow.on_completion_hooks,
            StateType.FAILED: flow.on_failure_hooks,
            StateType.CRASHED: flow.on_crashed_hooks,
            StateType.CANCELLED: flow.on_cancellation_hooks,
        }.get(state.type)
        if hooks:
            self.run_hooks(hooks, state)
        level = logging.ERROR if state.type in (StateType.FAILED, StateType.CRASHED) else _INFO
        self.log(level, "Finished in state %s", state)
        self.recorder.flush()
        if self.parent is None:
            flush_console()
        return state

    def run_hooks(self, hooks: Iterable[Any], state: State) -> None:
        for hook in hooks:
            try:
                outcome = hook(self.flow, self.flow_run, state)
                if inspect.iscoroutine(outcome):
                    from legato.engine.asyncio_bridge import run_coroutine_sync

                    run_coroutine_sync(outcome)
            except Exception:
                name = getattr(hook, "__name__", repr(hook))
                self.log(
                    logging.ERROR,
                    "An error was encountered while running hook %r",
                    name,
                    exc_info=True,
                )


def return_value_to_state(result: Any) -> State:
    """Completed with the value, or the state that returned futures/states add up to."""
    if isinstance(result, State):
        return result
    if isinstance(result, PrefectFuture):
        result.wait()
        state = result.state
        return Completed(data=state.result()) if state.is_completed() else _failed_from(state)
    if (
        isinstance(result, list | tuple | set)
        and result
        and any(isinstance(item, State | PrefectFuture) for item in result)
    ):
        states = []
        for item in result:
            if isinstance(item, PrefectFuture):
                item.wait()
                states.append(item.state)
            elif isinstance(item, State):
                states.append(item)
        summary = summarize_states(states)
        if summary.is_completed():
            from legato.futures import resolve_futures_to_results

            return Completed(data=resolve_futures_to_results(result))
        return summary
    return Completed(data=result)


def _failed_from(state: State) -> State:
    return Failed(message=f"The returned run ended in state {state}.", data=state)


def _shutdown_without_waiting(task_runner: Any) -> None:
    """Stop a cancelled run's task runner without joining threads still running tasks."""
    from legato.task_runners import ThreadPoolTaskRunner

    if isinstance(task_runner, ThreadPoolTaskRunner):
        task_runner.shutdown(wait=False)
    else:
        task_runner.shutdown()


# -- the loops -------------------------------------------------------------------


def run_flow_sync(engine: FlowRunEngine) -> State:
    """Run a sync flow to a final state (retries included)."""
    if engine.parent is not None:
        return _run_flow_sync(engine)
    run_id = engine.flow_run.id
    signals.enter_flow_run(run_id)
    try:
        return _run_flow_sync(engine)
    finally:
        signals.exit_flow_run(run_id)


def _run_flow_sync(engine: FlowRunEngine) -> State:
    flow = engine.flow
    token = flow_run_context.set(engine.context)
    try:
        args, kwargs = flow.binder.to_call_arguments(engine.flow_run.parameters)
        args = flow.bound_arguments(args)
        timeout = flow.timeout_seconds
        while True:
            engine.begin_attempt()
            try:
                if timeout is None:
                    result = flow.fn(*args, **kwargs)
                else:
                    with timeout_after(timeout, FlowRunTimeoutError):
                        result = flow.fn(*args, **kwargs)
            except Exception as exc:
                delay = engine.handle_exception(exc)
                if delay is None:
                    break
                if delay:
                    time.sleep(delay)
                continue
            except Pause:
                engine.suspend()
                raise
            except BaseException as exc:
                engine.handle_interruption(exc)
                engine.finish()
                raise
            engine.handle_result(result)
            break
    finally:
        flow_run_context.reset(token)
    return engine.finish()


async def run_flow_async(engine: FlowRunEngine) -> State:
    """Run an async flow to a final state (retries included)."""
    if engine.parent is not None:
        return await _run_flow_async(engine, None)
    run_id = engine.flow_run.id
    signals.enter_flow_run(run_id)
    termination = signals.AsyncTermination()
    termination.install()
    try:
        return await _run_flow_async(engine, termination)
    finally:
        termination.remove()
        signals.exit_flow_run(run_id)


async def _run_flow_async(
    engine: FlowRunEngine, termination: signals.AsyncTermination | None
) -> State:
    import asyncio

    flow = engine.flow
    token = flow_run_context.set(engine.context)
    try:
        args, kwargs = flow.binder.to_call_arguments(engine.flow_run.parameters)
        args = flow.bound_arguments(args)
        timeout = flow.timeout_seconds
        while True:
            engine.begin_attempt()
            try:
                if timeout is None:
                    result = await flow.fn(*args, **kwargs)
                else:
                    try:
                        async with asyncio.timeout(timeout):
                            result = await flow.fn(*args, **kwargs)
                    except TimeoutError as exc:
                        raise FlowRunTimeoutError() from exc
            except Exception as exc:
                delay = engine.handle_exception(exc)
                if delay is None:
                    break
                if delay:
                    await asyncio.sleep(delay)
                continue
            except Pause:
                engine.suspend()
                raise
            except BaseException as exc:
                received = termination.received if termination is not None else None
                if received is not None and isinstance(exc, asyncio.CancelledError):
                    engine.handle_interruption(received)  # SIGTERM, seen as a cancelled task
                    engine.finish()
                    raise received from None
                engine.handle_interruption(exc)
                engine.finish()
                raise
            engine.handle_result(result)
            break
    finally:
        flow_run_context.reset(token)
    return engine.finish()


def run_flow_generator(engine: FlowRunEngine) -> Any:
    """Run a generator flow: yields its values; completes when exhausted."""
    flow = engine.flow
    args, kwargs = flow.binder.to_call_arguments(engine.flow_run.parameters)
    args = flow.bound_arguments(args)
    engine.begin_attempt()
    gen = flow.fn(*args, **kwargs)
    value: Any = None
    try:
        while True:
            token = flow_run_context.set(engine.context)
            try:
                item = gen.send(value)
            finally:
                flow_run_context.reset(token)
            value = yield item
    except StopIteration as stop:
        engine.handle_result(stop.value)
    except Exception as exc:
        engine.handle_exception(exc)
    state = engine.finish()
    if not state.is_completed():
        state.result()
    return state.data


async def run_flow_async_generator(engine: FlowRunEngine) -> Any:
    """Run an async generator flow, yielding its values; completes when exhausted."""
    flow = engine.flow
    args, kwargs = flow.binder.to_call_arguments(engine.flow_run.parameters)
    args = flow.bound_arguments(args)
    engine.begin_attempt()
    failed = False
    token = flow_run_context.set(engine.context)
    try:
        async for item in flow.fn(*args, **kwargs):
            flow_run_context.reset(token)
            yield item
            token = flow_run_context.set(engine.context)
    except Exception as exc:
        failed = True
        engine.handle_exception(exc)
    finally:
        flow_run_context.reset(token)
    if not failed:
        engine.handle_result(None)
    state = engine.finish()
    if not state.is_completed():
        state.result()
