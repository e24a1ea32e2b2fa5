"""Running a flow as a flow run that already exists in the store.

``run_existing_flow_run(flow, flow_run_id)`` is how a run created elsewhere
executes in this process: a run a worker claimed (created from a deployment,
SCHEDULED then PENDING), or a suspended run that was resumed (SCHEDULED,
named "Resuming"). ``run_stored_flow_run(flow, stored)`` does the same for a
run already read (the worker's flow process, ``legato.engine.deployed_run``,
passes the snapshot the worker sent). The engine adopts the stored run (its
id, name, parameters, tags, run count, parent ids, times) instead of creating
one, binds and validates the parameters against the flow's signature, and
runs the flow as a top-level run (generator flows are drained). When the run
ran before (``run_count > 0``: it was suspended), the task runs that
completed then are not run again: their persisted results are carried over
(``legato.engine.replay``).

A run already CANCELLING or CANCELLED (cancelled between being claimed and
starting) is ended Cancelled without running the flow. A run in any other
state than SCHEDULED or PENDING is refused with InvalidStateTransition.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import TYPE_CHECKING, Any

from legato.engine.context import flow_run_context, task_run_context
from legato.engine.flow_engine import (
    FlowRunEngine,
    flow_id_for,
    run_flow_async,
    run_flow_async_generator,
    run_flow_generator,
    run_flow_sync,
)
from legato.engine.replay import read_replay
from legato.engine.signature import ASYNC, ASYNC_GENERATOR, GENERATOR
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

__all__ = ["run_existing_flow_run", "run_stored_flow_run"]

_STARTABLE = (StateType.SCHEDULED, StateType.PENDING)


def run_existing_flow_run(flow: Flow[..., Any], flow_run_id: uuid.UUID | str) -> State:
    """Run ``flow`` as the stored flow run ``flow_run_id``; its state at the end.

    Returns the final state, or the Suspended state when the flow suspended
    itself (the process may then exit 0). Raises ObjectNotFound for an
    unknown run, ParameterError when the run belongs to another flow, and
    InvalidStateTransition when the run is not waiting to start.
    """
    recorder = ensure_started()
    client: Any = recorder.client  # the full client (the Client protocol names only a part)
    return run_stored_flow_run(flow, client.read_flow_run(flow_run_id))


def run_stored_flow_run(flow: Flow[..., Any], stored: Any) -> State:
    """Run ``flow`` as the flow run ``stored`` (a client ``FlowRun``, or an object with its fields).

    Fields other than id, name, flow_id, parameters, tags and run_count may be
    missing. Same results and errors as ``run_existing_flow_run``.
    """
    if flow_run_context.get() is not None or task_run_context.get() is not None:
        raise MissingContextError(
            "run_existing_flow_run starts a top-level flow run: call it outside any flow or task."
        )
    _check_stored(flow, stored)
    engine = FlowRunEngine(flow, dict(stored.parameters))
    _adopt(engine, stored)
    if engine.flow_run.state.type in (StateType.CANCELLING, StateType.CANCELLED):
        return _cancelled_before_start(engine)
    if stored.run_count > 0:
        engine.context.replay = read_replay(engine.recorder.client, engine.flow_run.id)
    if not _begin(engine, stored):
        return engine.flow_run.state
    try:
        return _run(engine)
    except Pause:
        return engine.flow_run.state


def _run(engine: FlowRunEngine) -> State:
    """Run the flow loop for the flow's kind (generators are drained)."""
    kind = engine.flow._kind
    if kind in (ASYNC, ASYNC_GENERATOR):
        import asyncio  # only async flows pay for it

    if kind == ASYNC:
        return asyncio.run(run_flow_async(engine))
    if kind == ASYNC_GENERATOR:
        return asyncio.run(_drain_async(run_flow_async_generator(engine), engine))
    if kind == GENERATOR:
        try:
            for _ in run_flow_generator(engine):
                pass
        except Exception:
            if not engine.flow_run.is_finished:  # not the flow's own (recorded) failure
                raise
        return engine.flow_run.state
    return run_flow_sync(engine)


async def _drain_async(generator: Any, engine: FlowRunEngine) -> State:
    try:
        async for _ in generator:
            pass
    except Exception:
        if not engine.flow_run.is_finished:  # not the flow's own (recorded) failure
            raise
    return engine.flow_run.state


def _check_stored(flow: Flow[..., Any], stored: Any) -> None:
    if stored.flow_id != flow_id_for(flow.name):
        owner = getattr(stored, "flow_name", None)
        raise ParameterError(
            f"Flow run {stored.name!r} ({stored.id}) is a run of flow {owner!r}, "
            f"not of {flow.name!r}: load that flow's entrypoint to run it."
        )
    state = getattr(stored, "state", None)
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


def stored_seconds(moment: Any) -> float | None:
    """A stored time (a datetime, ISO text, or already seconds) as seconds since the epoch."""
    if moment is None or isinstance(moment, int | float):
        return moment
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return float(moment.timestamp())


def stored_duration(value: Any) -> float | None:
    """A stored duration (a timedelta, or already seconds) in seconds."""
    if value is None or isinstance(value, int | float):
        return value
    return float(value.total_seconds())


def _adopt(engine: FlowRunEngine, stored: Any) -> None:
    """Give the engine's run the stored run's identity and history."""
    run = engine.flow_run
    run.id = stored.id
    run._id_text = None
    run.name = stored.name
    run.flow_name = getattr(stored, "flow_name", None) or run.flow_name
    run.tags = sorted(set(stored.tags) | set(run.tags))
    run.run_count = stored.run_count
    run.flow_version = getattr(stored, "flow_version", None) or run.flow_version
    run.deployment_id = getattr(stored, "deployment_id", None)
    run.parent_flow_run_id = getattr(stored, "parent_flow_run_id", None)
    run.parent_task_run_id = getattr(stored, "parent_task_run_id", None)
    run.created = stored_seconds(getattr(stored, "created", None)) or run.created
    run._expected_start_time = stored_seconds(stored.expected_start_time) or run.created
    run._start_time = stored_seconds(getattr(stored, "start_time", None))
    total = stored_duration(getattr(stored, "total_run_time", None))
    if total is not None:
        run.total_run_time = total
    state = getattr(stored, "state", None)
    if state is not None:
        run.state = state.to_state()


def _begin(engine: FlowRunEngine, stored: Any) -> bool:
    """Bind and validate the parameters, record PENDING; False when the run could not start."""
    flow = engine.flow
    try:
        parameters = flow.binder.bind((), engine.flow_run.parameters)
        if flow.should_validate_parameters:
            parameters = flow.validator.validate(parameters)
    except ParameterError as exc:
        engine.fail_before_start(exc)
        return False
    engine.flow_run.parameters = parameters
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
