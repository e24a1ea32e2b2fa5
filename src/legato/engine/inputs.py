"""Finding and resolving futures in a task's arguments.

The engine looks inside lists, tuples, sets and dicts (not into other objects)
for futures and states. Upstream runs found there become the task's inputs
(dependencies); at run time each is replaced by its result. ``quote`` stops the
search; ``allow_failure`` lets a failed upstream through as its exception.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from legato.annotations import allow_failure, quote, unmapped
from legato.exceptions import UpstreamTaskError
from legato.futures import PrefectFuture, check_future_usable
from legato.states import State, StateType

if TYPE_CHECKING:
    from legato.engine.runs import FlowRun

_ATOMIC: frozenset[type] = frozenset({int, float, str, bool, type(None), bytes, complex})
_COLLECTIONS: frozenset[type] = frozenset({list, tuple, set, frozenset, dict})
# Shared by calls with no upstreams; callers only iterate it.
_NO_FUTURES: list[PrefectFuture[Any]] = []


def map_futures(expr: Any, fn: Callable[[PrefectFuture[Any]], Any]) -> Any:
    """``expr`` with ``fn(future)`` in place of each future inside it."""
    kind = type(expr)
    if kind in _ATOMIC:
        return expr
    if isinstance(expr, PrefectFuture):
        return fn(expr)
    if kind is dict:
        return {key: map_futures(value, fn) for key, value in expr.items()}
    if kind in _COLLECTIONS:
        return kind(map_futures(item, fn) for item in expr)
    if isinstance(expr, list):  # PrefectFutureList and other list subclasses
        return [map_futures(item, fn) for item in expr]
    return expr


def find_upstreams(value: Any, found: list[PrefectFuture[Any] | State]) -> None:
    """Append every future or upstream state inside ``value`` to ``found``."""
    kind = type(value)
    if kind in _ATOMIC:
        return
    if isinstance(value, PrefectFuture | State):
        found.append(value)
    elif kind is dict:
        for item in value.values():
            find_upstreams(item, found)
    elif kind in _COLLECTIONS or isinstance(value, list):
        for item in value:
            find_upstreams(item, found)
    elif isinstance(value, allow_failure | unmapped):
        find_upstreams(value.value, found)


def upstream_id(upstream: PrefectFuture[Any] | State) -> uuid.UUID | None:
    """The task run id an upstream future or state stands for."""
    if isinstance(upstream, PrefectFuture):
        return upstream.task_run_id
    task_run_id = upstream.state_details.task_run_id
    return task_run_id if isinstance(task_run_id, uuid.UUID) else None


def collect_task_inputs(
    parameters: dict[str, Any], wait_for: Iterable[Any] | None
) -> tuple[dict[str, list[uuid.UUID]] | None, list[PrefectFuture[Any]]]:
    """Upstream run ids per parameter (None if none), and every upstream future to wait for."""
    if not wait_for:
        for value in parameters.values():
            if type(value) not in _ATOMIC:
                break
        else:
            return None, _NO_FUTURES  # the common call: plain values only
    inputs: dict[str, list[uuid.UUID]] = {}
    futures: list[PrefectFuture[Any]] = []
    for name, value in parameters.items():
        if type(value) in _ATOMIC:
            continue
        found: list[PrefectFuture[Any] | State] = []
        find_upstreams(value, found)
        if found:
            ids = [i for i in map(upstream_id, found) if i is not None]
            if ids:
                inputs[name] = ids
            futures.extend(f for f in found if isinstance(f, PrefectFuture))
    if wait_for:
        found = []
        find_upstreams(list(wait_for), found)
        ids = [i for i in map(upstream_id, found) if i is not None]
        if ids:
            inputs["wait_for"] = ids
        futures.extend(f for f in found if isinstance(f, PrefectFuture))
    return inputs, futures


def resolve_value(value: Any, flow_run: FlowRun | None, allow_failed: bool = False) -> Any:
    """``value`` with futures and states replaced by their results.

    Raises ``UpstreamTaskError`` if an upstream did not complete (unless
    wrapped in ``allow_failure``).
    """
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if isinstance(value, PrefectFuture):
        check_future_usable(value, flow_run)
        value.wait()
        return _state_value(value.state, value.task_run.name, allow_failed)
    if isinstance(value, State):
        return _state_value(value, None, allow_failed)
    if kind is dict:
        items = {key: resolve_value(item, flow_run, allow_failed) for key, item in value.items()}
        return value if all(items[key] is item for key, item in value.items()) else items
    if kind in _COLLECTIONS or isinstance(value, list):
        resolved = [resolve_value(item, flow_run, allow_failed) for item in value]
        if all(new is old for new, old in zip(resolved, value, strict=True)):
            return value
        return resolved if kind not in _COLLECTIONS else kind(resolved)
    if isinstance(value, allow_failure):
        return resolve_value(value.value, flow_run, True)
    if isinstance(value, quote):
        return value.value
    if isinstance(value, unmapped):
        return resolve_value(value.value, flow_run, allow_failed)
    return value


def _state_value(state: State, run_name: str | None, allow_failed: bool) -> Any:
    if state.type is StateType.COMPLETED:
        return state.result()
    if allow_failed and state.is_final():
        return state.result(raise_on_failure=False)
    who = f"Upstream task run {run_name!r}" if run_name else "An upstream state"
    raise UpstreamTaskError(
        f"{who} did not reach a 'COMPLETED' state (it is {state}), so this task did not run. "
        "Wrap the upstream in allow_failure(...) to run it anyway."
    )


def resolve_parameters(
    parameters: dict[str, Any], flow_run: FlowRun | None
) -> tuple[dict[str, Any], bool]:
    """Resolve every parameter; also say whether any value changed."""
    resolved = parameters
    changed = False
    for name, value in parameters.items():
        if type(value) in _ATOMIC:
            continue
        new = resolve_value(value, flow_run)
        if new is not value:
            if not changed:
                resolved = dict(parameters)
                changed = True
            resolved[name] = new
    return resolved, changed
