"""What both clients do with their arguments before reaching the store or the server.

Keyword shorthands (``flow_name=``, ``state_types=``, ``after=``...) become
filter models, so that ``read_flow_runs(flow_name="etl")`` and
``read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["etl"])))``
are one read; flows, tasks and states given as engine objects become request
bodies. Plain functions, shared by ``EmbeddedClient`` and the HTTP clients.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from legato.client.schemas import filters as f
from legato.client.schemas.actions import FlowRunCreate, LogCreate, StateCreate, TaskRunCreate
from legato.client.schemas.objects import State, TaskRunResult
from legato.states import State as EngineState

__all__ = [
    "RunFilters",
    "StateLike",
    "as_uuid",
    "flow_name_of",
    "flow_run_create",
    "flow_run_filters",
    "flows_filter",
    "log_creates",
    "log_filter",
    "task_run_create",
    "task_run_filters",
]

StateLike = EngineState | State | StateCreate
# The filters of a flow, flow run or task run read: (flows, flow runs, task runs).
RunFilters = tuple[f.FlowFilter | None, f.FlowRunFilter | None, f.TaskRunFilter | None]
M = TypeVar("M", bound=BaseModel)


def as_uuid(value: Any) -> uuid.UUID:
    """An id given as a UUID or its text."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def coerce(model_class: type[M], value: M | Mapping[str, Any] | None) -> M | None:
    """A filter given as a model or as its dict form, as the model."""
    if value is None or isinstance(value, model_class):
        return value
    return model_class.model_validate(value)


def _merge(model: Any, shorthand: Any, model_name: str) -> Any:
    if shorthand is None:
        return model
    if model is not None:
        raise ValueError(
            f"Pass either {model_name} or its keyword shorthands (flow_name=, state_types=, ...), "
            "not both."
        )
    return shorthand


def flows_filter(
    flow_filter: f.FlowFilter | Mapping[str, Any] | None, name: str | None
) -> f.FlowFilter | None:
    """``name=``: flows whose name contains it."""
    shorthand = None if name is None else f.FlowFilter(name=f.FlowFilterName(like_=name))
    return _merge(coerce(f.FlowFilter, flow_filter), shorthand, "flow_filter")  # type: ignore[no-any-return]


def flow_run_filters(
    flow_filter: f.FlowFilter | Mapping[str, Any] | None,
    flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None,
    task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None = None,
    *,
    flow_name: str | None = None,
    state_types: Sequence[str] | None = None,
    state_names: Sequence[str] | None = None,
    parent_flow_run_id: Any = None,
) -> RunFilters:
    """The filters of a flow run read (models or dicts), with ``flow_name=`` (exact),
    ``state_types=``, ``state_names=`` and ``parent_flow_run_id=`` applied."""
    flow_shorthand = (
        None if flow_name is None else f.FlowFilter(name=f.FlowFilterName(any_=[flow_name]))
    )
    state = _state_filter(
        f.FlowRunFilterState,
        f.FlowRunFilterStateType,
        f.FlowRunFilterStateName,
        state_types,
        state_names,
    )
    run_shorthand = None
    if state is not None or parent_flow_run_id is not None:
        parent = (
            None
            if parent_flow_run_id is None
            else f.FlowRunFilterParentFlowRunId(any_=[as_uuid(parent_flow_run_id)])
        )
        run_shorthand = f.FlowRunFilter(state=state, parent_flow_run_id=parent)
    return (
        _merge(coerce(f.FlowFilter, flow_filter), flow_shorthand, "flow_filter"),
        _merge(coerce(f.FlowRunFilter, flow_run_filter), run_shorthand, "flow_run_filter"),
        coerce(f.TaskRunFilter, task_run_filter),
    )


def _state_filter(
    state_model: Any,
    type_model: Any,
    name_model: Any,
    state_types: Sequence[str] | None,
    state_names: Sequence[str] | None,
) -> Any:
    if state_types is None and state_names is None:
        return None
    return state_model(
        type=None if state_types is None else type_model(any_=list(state_types)),
        name=None if state_names is None else name_model(any_=list(state_names)),
    )


def task_run_filters(
    flow_filter: f.FlowFilter | Mapping[str, Any] | None,
    flow_run_filter: f.FlowRunFilter | Mapping[str, Any] | None,
    task_run_filter: f.TaskRunFilter | Mapping[str, Any] | None,
    *,
    flow_run_id: Any = None,
    name: str | None = None,
    state_types: Sequence[str] | None = None,
) -> RunFilters:
    """The filters of a task run read (models or dicts), with ``flow_run_id=``,
    ``name=`` (substring) and ``state_types=`` applied to the task run filter."""
    flows = coerce(f.FlowFilter, flow_filter)
    runs = coerce(f.FlowRunFilter, flow_run_filter)
    tasks = coerce(f.TaskRunFilter, task_run_filter)
    if flow_run_id is None and name is None and state_types is None:
        return flows, runs, tasks
    shorthand = f.TaskRunFilter(
        flow_run_id=None
        if flow_run_id is None
        else f.TaskRunFilterFlowRunId(any_=[as_uuid(flow_run_id)]),
        name=None if name is None else f.TaskRunFilterName(like_=name),
        state=_state_filter(
            f.TaskRunFilterState,
            f.TaskRunFilterStateType,
            f.TaskRunFilterStateName,
            state_types,
            None,
        ),
    )
    return flows, runs, _merge(tasks, shorthand, "task_run_filter")


def log_filter(
    model: f.LogFilter | Mapping[str, Any] | None,
    *,
    flow_run_id: Any = None,
    task_run_id: Any = None,
    after: float | None = None,
) -> f.LogFilter | None:
    """A log filter with ``flow_run_id=``, ``task_run_id=`` and ``after=``.

    ``after`` (POSIX seconds) is exclusive at microsecond resolution, for
    following a run's logs: lines whose time, to the microsecond, is later.
    """
    model = coerce(f.LogFilter, model)
    if flow_run_id is None and task_run_id is None and after is None:
        return model
    shorthand = f.LogFilter(
        flow_run_id=None
        if flow_run_id is None
        else f.LogFilterFlowRunId(any_=[as_uuid(flow_run_id)]),
        task_run_id=None
        if task_run_id is None
        else f.LogFilterTaskRunId(any_=[as_uuid(task_run_id)]),
        timestamp=None if after is None else f.LogFilterTimestamp(after_exclusive_=after),
    )
    return _merge(model, shorthand, "log_filter")  # type: ignore[no-any-return]


def flow_name_of(flow: Any) -> str:
    """A flow's name: a ``@flow`` object, a Flow model, or the name itself."""
    if isinstance(flow, str):
        return flow
    name = getattr(flow, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"Expected a flow or a flow name, got {flow!r}.")
    return name


def flow_run_create(
    flow_id: uuid.UUID,
    *,
    flow: Any = None,
    name: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    parent_task_run_id: Any = None,
    state: StateLike | None = None,
    work_pool_name: str | None = None,
    work_queue_name: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> FlowRunCreate:
    """The body that creates a flow run (parameters made JSON-safe, like the recorder)."""
    version = getattr(flow, "version", None)
    return FlowRunCreate(
        work_pool_name=work_pool_name,
        work_queue_name=work_queue_name,
        job_variables=None if job_variables is None else dict(job_variables),
        idempotency_key=idempotency_key,
        flow_id=flow_id,
        name=name,
        flow_version=None if version is None else str(version),
        parameters=to_jsonable_python(dict(parameters or {}), fallback=repr),
        context=to_jsonable_python(dict(context or {}), fallback=repr),
        tags=sorted(set(tags or ()) | set(getattr(flow, "tags", ()) or ())),
        parent_task_run_id=None if parent_task_run_id is None else as_uuid(parent_task_run_id),
        state=None if state is None else StateCreate.from_state(state),
    )


def task_run_create(
    task: Any,
    flow_run_id: Any,
    dynamic_key: str,
    *,
    id: Any = None,
    name: str | None = None,
    extra_tags: Iterable[str] | None = None,
    state: StateLike | None = None,
    task_inputs: Mapping[str, Iterable[Any]] | None = None,
) -> TaskRunCreate:
    """The body that creates a task run of ``task`` (a ``@task`` object or a name)."""
    task_name = task if isinstance(task, str) else getattr(task, "name", None)
    if not isinstance(task_name, str):
        raise TypeError(f"Expected a task or a task name, got {task!r}.")
    version = getattr(task, "version", None)
    return TaskRunCreate(
        id=None if id is None else as_uuid(id),
        name=name or f"{task_name}-{dynamic_key}",
        flow_run_id=None if flow_run_id is None else as_uuid(flow_run_id),
        task_key=getattr(task, "task_key", None) or task_name,
        dynamic_key=str(dynamic_key),
        task_version=None if version is None else str(version),
        tags=sorted(set(extra_tags or ()) | set(getattr(task, "tags", ()) or ())),
        task_inputs={
            key: [_task_input(item) for item in items] for key, items in (task_inputs or {}).items()
        },
        state=None if state is None else StateCreate.from_state(state),
    )


def _task_input(item: Any) -> Any:
    if isinstance(item, uuid.UUID | str):
        return TaskRunResult(id=as_uuid(item))
    return item


def log_creates(logs: Iterable[LogCreate | Mapping[str, Any]]) -> list[LogCreate]:
    """Log lines as ``LogCreate`` bodies."""
    return [log if isinstance(log, LogCreate) else LogCreate.model_validate(log) for log in logs]
