"""Running a flow as a flow run that already exists in the store.

``run_existing_flow_run(flow, flow_run_id)`` is how a run created elsewhere
executes in this process: a run a worker claimed (created from a deployment,
SCHEDULED then PENDING), or a suspended run that was resumed (SCHEDULED,
named "Resuming"). The engine adopts the stored run (its id, name,
parameters, tags, run count, times) instead of creating one, validates the
parameters against the flow's signature, and runs the flow as a top-level
run. When the run ran before (``run_count > 0``: it was suspended), the task
runs that completed then are not run again: their persisted results are
carried over (``legato.engine.replay``).

A run already CANCELLING or CANCELLED (cancelled between being claimed and
starting) is ended Cancelled without running the flow. A run in any other
state than SCHEDULED or PENDING is refused with InvalidStateTransition.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from legato.engine.context import flow_run_context, task_run_context
from legato.engine.flow_engine import FlowRunEngine, flow_id_for, run_flow_async, run_flow_sync
from legato.engine.replay import read_replay
from legato.engine.signature import ASYNC, SYNC
from legato.engine.startup import ensure_started
from legato.exceptions import (
    InvalidStateTransition,
    MissingContextError,
    ParameterError,
    Pause,
)
from legato.states import Cancelled, Pending, State, StateType

if TYPE_CHECKING:
    from legato.flows import Flow

__all__ = ["run_existing_flow_run"]

_STARTABLE = (StateType.SCHEDULED, StateType.PENDING)


def run_existing_flow_run(flow: Flow[..., Any], flow_run_id: uuid.UUID | str) -> State:
    """Run ``flow`` as the stored flow run ``flow_run_id``; its state at the end.

    Returns the final state, or the Suspended state when the flow suspended
    itself (the process may then exit 0). Raises ObjectNotFound for an
    unknown run, ParameterError when the run belongs to another flow, and
    InvalidStateTransition when the run is not waiting to start.
    """
    if flow_run_context.get() is not None or task_run_context.get() is not None:
        raise MissingContextError(
            "run_existing_flow_run starts a top-level flow run: call it outside any flow or task."
        )
    if flow._kind not in (SYNC, ASYNC):
        raise ParameterError(
            f"Flow {flow.name!r} is a generator: run_existing_flow_run runs sync and async flows."
        )
    recorder = ensure_started()
    client: Any = recorder.client  # the full client (the Client protocol names only a part)
    stored = client.read_flow_run(flow_run_id)
    _check_stored(flow, stored)
    engine = FlowRunEngine(flow, dict(stored.parameters))
    _adopt(engine, stored)
    if stored.state is not None and stored.state.type in (
        StateType.CANCELLING,
        StateType.CANCELLED,
    ):
        return _cancelled_before_start(engine)
    if stored.run_count > 0:
        engine.context.replay = read_replay(client, engine.flow_run.id)
    if not _begin(engine, stored):
        return engine.flow_run.state
    try:
        if flow._kind == ASYNC:
            return asyncio.run(run_flow_async(engine))
        return run_flow_sync(engine)
    except Pause:
        return engine.flow_run.state


def _check_stored(flow: Flow[..., Any], stored: Any) -> None:
    if stored.flow_id != flow_id_for(flow.name):
        raise ParameterError(
            f"Flow run {stored.name!r} ({stored.id}) is a run of flow {stored.flow_name!r}, "
            f"not of {flow.name!r}: load that flow's entrypoint to run it."
        )
    state = stored.state
    if state is None or state.type in _STARTABLE:
        return
    if state.type in (StateType.CANCELLING, StateType.CANCELLED):
        return
    hint = (
        f"Resume it first with `legato flow-run resume {stored.id}`."
        if state.type is StateType.PAUSED
        else "Only a SCHEDULED or PENDING run can be started."
    )
    raise InvalidStateTransition(
        f"Flow run {stored.name!r} ({stored.id}) is {state.name} ({state.type.value}); "
        f"it is not waiting to start. {hint}"
    )


def _seconds(moment: Any) -> float | None:
    return None if moment is None else float(moment.timestamp())


def _adopt(engine: FlowRunEngine, stored: Any) -> None:
    """Give the engine's run the stored run's identity and history."""
    run = engine.flow_run
    run.id = stored.id
    run._id_text = None
    run.name = stored.name
    run.tags = list(stored.tags)
    run.run_count = stored.run_count
    run.flow_version = stored.flow_version or run.flow_version
    run.deployment_id = stored.deployment_id
    run.created = _seconds(stored.created) or run.created
    run._expected_start_time = _seconds(stored.expected_start_time) or run.created
    run._start_time = _seconds(stored.start_time)
    run.total_run_time = stored.total_run_time.total_seconds()
    if stored.state is not None:
        run.state = stored.state.to_state()


def _begin(engine: FlowRunEngine, stored: Any) -> bool:
    """Validate the parameters and record PENDING; False when the run could not start."""
    flow = engine.flow
    try:
        if flow.should_validate_parameters:
            engine.flow_run.parameters = flow.validator.validate(engine.flow_run.parameters)
    except ParameterError as exc:
        engine.fail_before_start(exc)
        return False
    if engine.flow_run.state.type is not StateType.PENDING:
        engine.set_state(Pending())
    again = " again, from the beginning" if stored.run_count > 0 else ""
    engine.log(logging.INFO, "Beginning flow run %r for flow %r%s", stored.name, flow.name, again)
    return True


def _cancelled_before_start(engine: FlowRunEngine) -> State:
    if engine.flow_run.state.type is StateType.CANCELLING:
        engine.set_state(Cancelled(message="Cancelled before it started running."))
    engine.finish()
    return engine.flow_run.state
