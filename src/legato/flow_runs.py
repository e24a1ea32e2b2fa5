"""Pausing, suspending, resuming and cancelling flow runs (Prefect 3's ``prefect.flow_runs``).

Inside a flow:

>>> from legato import flow
>>> from legato.flow_runs import pause_flow_run
>>> @flow
... def publish():
...     approved = pause_flow_run(wait_for_input=bool, timeout=600)  # doctest: +SKIP
...     ...

- ``pause_flow_run(wait_for_input=None, timeout=3600, poll_interval=10, key=None)``
  records the run Paused and blocks this process, checking the run's state
  every ``poll_interval`` seconds, until someone resumes it; returns None, or
  the validated input when ``wait_for_input`` is given (a ``RunInput`` or
  pydantic model class, or a type such as ``int``). Not resumed within
  ``timeout`` seconds: ``FlowPauseTimeout``, and the run fails.
- ``suspend_flow_run(wait_for_input=None, timeout=3600, key=None)`` records
  the run Suspended and ends this process's part of it (``Pause``, a
  ``SystemExit`` with code 0: the process exits quietly). Resumed, the run is
  scheduled again and starts from the beginning (``run_existing_flow_run``,
  or a worker), with the tasks that completed before not run again.

From anywhere: ``resume_flow_run(flow_run_id, run_input=None)`` and
``cancel_flow_run(flow_run_id)`` (legato's shorthand: CANCELLED when nothing
runs the flow run yet, CANCELLING otherwise, for its worker to stop it).

Each has an async twin (``apause_flow_run``...); in an async flow (or any
running event loop) the plain names return a coroutine to await, as in
Prefect 3: ``await pause_flow_run(...)``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

__all__ = [
    "acancel_flow_run",
    "apause_flow_run",
    "aresume_flow_run",
    "asuspend_flow_run",
    "cancel_flow_run",
    "pause_flow_run",
    "resume_flow_run",
    "suspend_flow_run",
]

_HOUR = 3600


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_async_flow() -> bool:
    from legato.engine.context import flow_run_context

    context = flow_run_context.get()
    return (
        context is not None
        and context.flow is not None
        and context.flow.isasync
        and _in_event_loop()
    )


def pause_flow_run(
    wait_for_input: Any = None,
    timeout: float = _HOUR,
    poll_interval: float = 10,
    key: str | None = None,
) -> Any:
    """Pause the current flow run until it is resumed; the input asked for, or None."""
    if _in_async_flow():
        return apause_flow_run(wait_for_input, timeout, poll_interval, key)
    from legato.engine.pause import pause_current_run

    return pause_current_run(wait_for_input, timeout, poll_interval, key)


async def apause_flow_run(
    wait_for_input: Any = None,
    timeout: float = _HOUR,
    poll_interval: float = 10,
    key: str | None = None,
) -> Any:
    """Async twin of ``pause_flow_run``."""
    from legato.engine.pause import apause_current_run

    return await apause_current_run(wait_for_input, timeout, poll_interval, key)


def _check_own_run(flow_run_id: Any) -> None:
    from legato.engine.context import flow_run_context
    from legato.exceptions import ParameterError

    context = flow_run_context.get()
    if flow_run_id is None or (
        context is not None and str(context.flow_run.id) == str(flow_run_id)
    ):
        return
    raise ParameterError(
        f"suspend_flow_run(flow_run_id={str(flow_run_id)!r}): legato suspends only the current "
        "flow run, from inside it. To stop another run, cancel it (`legato flow-run cancel ID`)."
    )


def suspend_flow_run(
    wait_for_input: Any = None,
    flow_run_id: uuid.UUID | str | None = None,
    timeout: float = _HOUR,
    key: str | None = None,
    client: Any = None,
) -> Any:
    """Suspend the current flow run: its process's part ends; resumed, it starts again.

    Raises ``Pause``; in a run started again after being resumed, returns at
    once (with the input, if it waited for one). ``client`` is accepted for
    Prefect compatibility and not used.
    """
    _check_own_run(flow_run_id)
    if _in_async_flow():
        return asuspend_flow_run(wait_for_input, flow_run_id, timeout, key, client)
    from legato.engine.pause import suspend_current_run

    return suspend_current_run(wait_for_input, timeout, key)


async def asuspend_flow_run(
    wait_for_input: Any = None,
    flow_run_id: uuid.UUID | str | None = None,
    timeout: float = _HOUR,
    key: str | None = None,
    client: Any = None,
) -> Any:
    """Async twin of ``suspend_flow_run``."""
    _check_own_run(flow_run_id)
    from legato.engine.pause import asuspend_current_run

    return await asuspend_current_run(wait_for_input, timeout, key)


def _input_json(run_input: Any) -> dict[str, Any] | None:
    dump = getattr(run_input, "model_dump", None)
    if callable(dump):
        dumped: dict[str, Any] = dump(mode="json")
        return dumped
    if run_input is None or isinstance(run_input, dict):
        return run_input
    from legato.exceptions import ParameterError

    raise ParameterError(
        f"run_input={run_input!r}: give a dict of the input's fields (or a pydantic model)."
    )


def _check_resumed(result: Any) -> None:
    from legato.exceptions import FlowPauseTimeout, InvalidStateTransition

    if result.status.value == "ACCEPT":
        return
    reason = getattr(result.details, "reason", None) or "the run could not be resumed"
    if result.state is not None and result.state.is_failed():
        raise FlowPauseTimeout(reason)
    raise InvalidStateTransition(f"Could not resume the flow run: {reason}")


def resume_flow_run(flow_run_id: uuid.UUID | str, run_input: Any = None) -> Any:
    """Resume a paused or suspended flow run, with the input it waits for.

    Raises NotPausedError when the run is not paused, ParameterError (naming
    the fields) when the input does not fit, FlowPauseTimeout when the pause
    timed out (the run is then Failed).
    """
    if _in_event_loop():
        return aresume_flow_run(flow_run_id, run_input)
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        _check_resumed(client.resume_flow_run(flow_run_id, _input_json(run_input)))
    return None


async def aresume_flow_run(flow_run_id: uuid.UUID | str, run_input: Any = None) -> None:
    """Async twin of ``resume_flow_run``."""
    from legato.client import get_client

    async with get_client() as client:
        _check_resumed(await client.resume_flow_run(flow_run_id, _input_json(run_input)))


def cancel_flow_run(flow_run_id: uuid.UUID | str) -> Any:
    """Cancel a flow run (legato): its OrchestrationResult; a finished run answers REJECT."""
    if _in_event_loop():
        return acancel_flow_run(flow_run_id)
    from legato.client import get_client

    with get_client(sync_client=True) as client:
        return client.cancel_flow_run(flow_run_id)


async def acancel_flow_run(flow_run_id: uuid.UUID | str) -> Any:
    """Async twin of ``cancel_flow_run``."""
    from legato.client import get_client

    async with get_client() as client:
        return await client.cancel_flow_run(flow_run_id)
