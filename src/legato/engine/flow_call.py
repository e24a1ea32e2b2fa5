"""Entry point from ``Flow`` into the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.engine.flow_engine import (
    FlowRunEngine,
    run_flow_async,
    run_flow_async_generator,
    run_flow_generator,
    run_flow_sync,
)
from legato.engine.names import generate_run_name
from legato.engine.signature import ASYNC, ASYNC_GENERATOR, GENERATOR
from legato.exceptions import ParameterError, Pause
from legato.states import State

if TYPE_CHECKING:
    from legato.flows import Flow


def call_flow(
    flow: Flow[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], return_state: bool
) -> Any:
    """Run ``flow`` (a coroutine for async flows); its value or its State."""
    parameters = flow.binder.bind(args, kwargs)
    engine = FlowRunEngine(flow, parameters)
    try:
        if flow.should_validate_parameters:
            engine.flow_run.parameters = flow.validator.validate(parameters)
        engine.begin()
    except ParameterError as exc:
        if not engine.flow_run.name:
            engine.flow_run.name = generate_run_name()
        engine.fail_before_start(exc)
        if return_state:
            return engine.flow_run.state
        raise
    kind = flow._kind
    if kind == ASYNC:
        return _await_flow(engine, return_state)
    if kind == GENERATOR:
        return run_flow_generator(engine)
    if kind == ASYNC_GENERATOR:
        return run_flow_async_generator(engine)
    try:
        state = run_flow_sync(engine)
    except Pause:
        if return_state:  # suspended: the run's state is Suspended, not final
            return engine.flow_run.state
        raise
    return state if return_state else _value(state)


async def _await_flow(engine: FlowRunEngine, return_state: bool) -> Any:
    try:
        state = await run_flow_async(engine)
    except Pause:
        if return_state:
            return engine.flow_run.state
        raise
    return state if return_state else _value(state)


def _value(state: State) -> Any:
    return state.result()
