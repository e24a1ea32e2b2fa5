"""Pausing and suspending the current flow run (the engine side of ``legato.flow_runs``).

A pause goes through the client (the transition rules decide, as for any
proposed state), after the recorder has written everything so far:

1. with ``wait_for_input``, the input's JSON schema is stored as a flow run
   input under the pause's keyset (``paused-<key>-schema``);
2. the run is proposed PAUSED (``pause_timeout``, ``pause_key``,
   ``pause_reschedule``, ``run_input_keyset`` in its state details), and the
   engine takes that state without recording it again;
3. ``pause_flow_run`` then polls the run's state every ``poll_interval``
   seconds until it leaves PAUSED: RUNNING means resumed (the input, if any,
   is read from ``paused-<key>-response`` and validated); CANCELLING or
   CANCELLED ends the run Cancelled; still PAUSED at the timeout raises
   ``FlowPauseTimeout``, which fails the run.
   ``suspend_flow_run`` instead raises ``Pause``: the engine ends the
   process's part of the run without a final state (the run stays Suspended)
   and, on resume, the run starts again from the beginning.

Pause keys default to "1", "2", ... in call order, so a run started again
after a suspension meets the same keys: a pause or suspension whose key the
run already went through is skipped (its input, if any, is returned again),
and the flow carries on past it.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from legato.engine.context import flow_run_context, task_run_context
from legato.exceptions import (
    FlowPauseTimeout,
    FlowRunCancelled,
    InvalidStateTransition,
    MissingContextError,
    ObjectAlreadyExists,
    ParameterError,
    Pause,
)
from legato.states import Paused, State, StateType, Suspended

if TYPE_CHECKING:
    from legato.engine.context import FlowRunContext

__all__ = [
    "DEFAULT_POLL_INTERVAL_SECONDS",
    "DEFAULT_TIMEOUT_SECONDS",
    "apause_current_run",
    "asuspend_current_run",
    "pause_current_run",
    "suspend_current_run",
]

DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_POLL_INTERVAL_SECONDS = 10


@dataclass
class _Pause:
    """One pause of the current flow run, prepared."""

    context: FlowRunContext
    client: Any
    state: State
    key: str
    timeout: float
    input_type: Any  # the RunInput class asked for, or None
    wanted: Any  # what wait_for_input was (a model class is returned as itself)

    @property
    def keyset(self) -> dict[str, str] | None:
        keyset: dict[str, str] | None = self.state.state_details.run_input_keyset
        return keyset

    @property
    def run_id(self) -> Any:
        return self.context.flow_run.id


def _current_flow(caller: str) -> FlowRunContext:
    if task_run_context.get() is not None:
        raise MissingContextError(
            f"{caller} was called inside a task run: only a flow can pause. Call it in the "
            "flow's body, between task calls."
        )
    context = flow_run_context.get()
    if context is None:
        raise MissingContextError(
            f"{caller} was called outside of a flow run. Call it inside a function decorated "
            "with @flow (to resume a run from outside, use resume_flow_run(flow_run_id))."
        )
    return context


def _prepare(
    caller: str, wait_for_input: Any, timeout: float, key: str | None, reschedule: bool
) -> _Pause:
    context = _current_flow(caller)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ParameterError(f"{caller}(timeout={timeout!r}): give a number of seconds > 0.")
    if key is not None:
        from legato.orchestration.flow_run_inputs import validate_input_key

        validate_input_key(key)
    context.pause_count += 1
    pause_key = key if key is not None else str(context.pause_count)
    make = Suspended if reschedule else Paused
    state = make(timeout_seconds=math.ceil(timeout), pause_key=pause_key)
    input_type = None
    if wait_for_input is not None:
        from legato.input import keyset_from_paused_state, run_input_subclass_from_type

        input_type = run_input_subclass_from_type(wait_for_input)
        state.state_details.run_input_keyset = keyset_from_paused_state(state)
    client = context.recorder.client
    return _Pause(context, client, state, pause_key, float(timeout), input_type, wait_for_input)


def _was_resumed_before(pause: _Pause) -> bool:
    """True when this run already went through a pause with this key (a run started again)."""
    if pause.context.replay is None:
        return False
    for state in pause.client.read_flow_run_states(pause.run_id):
        if state.type is StateType.PAUSED and state.state_details.pause_key == pause.key:
            return True
    return False


def _record(pause: _Pause) -> None:
    """Write what the run did so far, its input schema, then propose PAUSED."""
    context, client = pause.context, pause.client
    context.recorder.flush()
    keyset = pause.keyset
    if keyset is not None and pause.input_type is not None:
        _put_input(client, pause.run_id, keyset["schema"], pause.input_type.input_schema())
        description = pause.input_type._description
        if description is not None:
            _put_input(client, pause.run_id, keyset["description"], description)
    result = client.set_flow_run_state(pause.run_id, pause.state)
    if result.status.value != "ACCEPT":
        _refused(result)
    stored = result.state.to_state() if result.state is not None else pause.state
    stored.state_details = pause.state.state_details
    context.flow_run.adopt_state(stored)


def _put_input(client: Any, run_id: Any, key: str, value: Any) -> None:
    try:
        client.create_flow_run_input(run_id, key, value)
    except ObjectAlreadyExists:  # left by an attempt that ended before it paused
        client.delete_flow_run_input(run_id, key)
        client.create_flow_run_input(run_id, key, value)


def _refused(result: Any) -> None:
    state = result.state
    if state is not None and state.type in (StateType.CANCELLING, StateType.CANCELLED):
        raise FlowRunCancelled("The flow run was cancelled before it could pause.")
    reason = getattr(result.details, "reason", None) or "refused"
    raise InvalidStateTransition(f"The flow run could not pause: {reason}")


def _announce(pause: _Pause, what: str) -> None:
    from legato.logging import get_run_logger

    get_run_logger().info(
        "%s; resume it with `legato flow-run resume %s` within %g s.",
        what,
        pause.run_id,
        pause.timeout,
    )


def _timed_out(pause: _Pause) -> FlowPauseTimeout:
    return FlowPauseTimeout(
        f"Flow run was paused for {pause.timeout:g} s without being resumed; resume it with "
        f"`legato flow-run resume {pause.run_id}` before the timeout, or pass a longer "
        "timeout= to pause_flow_run."
    )


def _after_poll(pause: _Pause, run: Any) -> Any:
    """What the run's state, once it left PAUSED, means for the flow."""
    state = run.state
    if state is None or state.type is StateType.RUNNING:
        if state is not None:
            pause.context.flow_run.adopt_state(state.to_state())
        return _load_input(pause)
    if state.type in (StateType.CANCELLING, StateType.CANCELLED):
        raise FlowRunCancelled("The flow run was cancelled while it was paused.")
    if state.type is StateType.FAILED:
        raise FlowPauseTimeout(state.message or "The paused flow run was failed from outside.")
    raise InvalidStateTransition(
        f"While paused, the flow run was moved to {state.type.value}; it cannot carry on."
    )


def _load_input(pause: _Pause) -> Any:
    keyset = pause.keyset
    if keyset is None or pause.input_type is None:
        return None
    value = pause.client.read_flow_run_input(pause.run_id, keyset["response"])
    loaded = pause.input_type.from_value(value, keyset["response"], pause.run_id)
    from legato.input import AutomaticRunInput, RunInput

    if isinstance(loaded, AutomaticRunInput):
        return loaded.value
    model: Any = pause.wanted
    if isinstance(pause.wanted, type) and not issubclass(pause.wanted, RunInput):
        return model.model_validate(loaded.model_dump())  # the caller's own model class
    return loaded


# -- pause: block in this process -------------------------------------------------


def pause_current_run(
    wait_for_input: Any, timeout: float, poll_interval: float, key: str | None
) -> Any:
    """Pause the current flow run until it is resumed (see the module docstring)."""
    pause = _prepare("pause_flow_run", wait_for_input, timeout, key, reschedule=False)
    if _was_resumed_before(pause):
        return _load_input(pause)
    _record(pause)
    _announce(pause, "Paused")
    deadline = time.monotonic() + pause.timeout
    while True:
        run = pause.client.read_flow_run(pause.run_id)
        if run.state is not None and run.state.type is not StateType.PAUSED:
            return _after_poll(pause, run)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timed_out(pause)
        time.sleep(min(_interval(poll_interval), remaining))


async def apause_current_run(
    wait_for_input: Any, timeout: float, poll_interval: float, key: str | None
) -> Any:
    """Async twin of ``pause_current_run``: the client calls run in a worker thread."""
    pause = _prepare("pause_flow_run", wait_for_input, timeout, key, reschedule=False)
    if await asyncio.to_thread(_was_resumed_before, pause):
        return await asyncio.to_thread(_load_input, pause)
    await asyncio.to_thread(_record, pause)
    _announce(pause, "Paused")
    deadline = time.monotonic() + pause.timeout
    while True:
        run = await asyncio.to_thread(pause.client.read_flow_run, pause.run_id)
        if run.state is not None and run.state.type is not StateType.PAUSED:
            return await asyncio.to_thread(_after_poll, pause, run)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timed_out(pause)
        await asyncio.sleep(min(_interval(poll_interval), remaining))


def _interval(poll_interval: float) -> float:
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float):
        raise ParameterError(f"poll_interval={poll_interval!r}: give a number of seconds > 0.")
    return max(0.01, float(poll_interval))


# -- suspend: end this process's part of the run ---------------------------------------


def _prepare_suspension(wait_for_input: Any, timeout: float, key: str | None) -> _Pause:
    pause = _prepare("suspend_flow_run", wait_for_input, timeout, key, reschedule=True)
    run = pause.context.flow_run
    if run.parent_flow_run_id is not None or run.parent_task_run_id is not None:
        raise MissingContextError(
            "suspend_flow_run was called in a subflow: only a top-level flow run can be "
            "suspended (its process ends). Suspend the parent flow, or use pause_flow_run."
        )
    return pause


def _suspend(pause: _Pause) -> Pause:
    context = pause.context
    if not context.persist_result:
        from legato.logging import get_run_logger

        get_run_logger().warning(
            "Task results of this flow run are not persisted: tasks that completed will run "
            "again when it resumes. Set persist_result=True on the flow to keep them."
        )
    for future in list(context.futures):  # their results are persisted before the process ends
        future.wait()
    _record(pause)
    _announce(pause, "Suspended: it starts again from the beginning when resumed")
    return Pause(
        f"Flow run {context.flow_run.name!r} is suspended; resume it with "
        f"`legato flow-run resume {pause.run_id}`.",
        context.flow_run.state,
    )


def suspend_current_run(wait_for_input: Any, timeout: float, key: str | None) -> Any:
    """Suspend the current flow run: raises ``Pause`` (or returns if it was resumed before)."""
    pause = _prepare_suspension(wait_for_input, timeout, key)
    if _was_resumed_before(pause):
        return _load_input(pause)
    raise _suspend(pause)


async def asuspend_current_run(wait_for_input: Any, timeout: float, key: str | None) -> Any:
    """Async twin of ``suspend_current_run``."""
    pause = _prepare_suspension(wait_for_input, timeout, key)
    if await asyncio.to_thread(_was_resumed_before, pause):
        return await asyncio.to_thread(_load_input, pause)
    raise await asyncio.to_thread(_suspend, pause)
