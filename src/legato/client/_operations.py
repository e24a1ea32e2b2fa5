"""What each HTTP client method asks of the REST API, without doing any I/O.

An operation is a generator: it yields ``Request``s, receives each
``httpx.Response`` (or, thrown into it, the error the response meant:
``ObjectNotFound`` for a 404...), and returns the method's result. The sync
and the async client drive the same operations, each with its own transport
(``legato.client.http``), so the logic of a call exists once. The signatures
are those of ``EmbeddedClient``: both clients pass one contract suite.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from legato._types import UNSET, Unset
from legato.client import _arguments as args
from legato.client._records_wire import RECORDS_PATH, record_bodies
from legato.client.errors import DataError, RecordsRefused
from legato.client.schemas import filters as f
from legato.client.schemas.actions import FlowRunUpdate, LogCreate, StateCreate
from legato.client.schemas.objects import (
    Artifact,
    DependencyResult,
    Flow,
    FlowRun,
    Log,
    OrchestrationResult,
    State,
    TaskRun,
    Variable,
)
from legato.client.schemas.sorting import FlowRunSort, FlowSort, LogSort, TaskRunSort
from legato.exceptions import ObjectNotFound, ParameterError
from legato.storage.records import RecordBatch

T = TypeVar("T")
# A filter may also be given as its JSON-like dict form.
Filter = Mapping[str, Any] | None

PAGE_SIZE = 200
"""Objects per read request (the server's most); larger ``limit``s read several pages."""
LOGS_PER_REQUEST = 1000
"""Log lines per ``POST /logs/`` (the server's default ``LEGATO_SERVER_LOGS_MAX_BATCH_SIZE``)."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, relative to the API URL."""

    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    params: Mapping[str, Any] | None = None
    # Safe to send again when the connection failed mid-request (reads, idempotent writes).
    is_idempotent: bool = True
    # False: one attempt (health checks answer now or never).
    retries: bool = True


Operation = Generator[Request, httpx.Response, T]


@dataclass(slots=True)
class Session:
    """What a client remembers between calls: the flows known to exist, by name."""

    flow_ids: dict[str, uuid.UUID] = field(default_factory=dict)


def _id(value: Any, kind: str) -> str:
    try:
        return str(args.as_uuid(value))
    except (ValueError, TypeError):
        raise ObjectNotFound(f"No {kind} with id {str(value)!r}: that is not a UUID.") from None


def _dump(model: BaseModel | None) -> Any:
    return None if model is None else model.model_dump(mode="json", exclude_unset=True)


def _check_page(limit: int | None, offset: int) -> None:
    if (limit is not None and limit < 0) or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got limit={limit}, offset={offset}")


def _paged(
    path: str,
    body: dict[str, Any],
    limit: int | None,
    offset: int,
    parse: Callable[[Any], T],
    default_limit: int = PAGE_SIZE,
) -> Operation[list[T]]:
    """Read up to ``limit`` objects, ``PAGE_SIZE`` a request."""
    _check_page(limit, offset)
    wanted = default_limit if limit is None else limit
    results: list[T] = []
    while len(results) < wanted:
        size = min(PAGE_SIZE, wanted - len(results))
        page_body = {**body, "limit": size, "offset": offset + len(results)}
        response = yield Request("POST", path, json=page_body)
        page = [parse(item) for item in response.json()]
        results.extend(page)
        if len(page) < size:
            break
    return results


def _run_filters_body(
    flow_filter: f.FlowFilter | None,
    flow_run_filter: f.FlowRunFilter | None,
    task_run_filter: f.TaskRunFilter | None,
    sort: Any = None,
) -> dict[str, Any]:
    """The body of a flow, flow run or task run read (Prefect's keys)."""
    body = {
        "flows": _dump(flow_filter),
        "flow_runs": _dump(flow_run_filter),
        "task_runs": _dump(task_run_filter),
    }
    if sort is not None:
        body["sort"] = str(sort.value if hasattr(sort, "value") else sort)
    return body


def _filter(
    path: str,
    filters: args.RunFilters,
    sort: Any,
    limit: int | None,
    offset: int,
    parse: Callable[[Any], T],
) -> Operation[list[T]]:
    """A flow, flow run or task run read (100 unless ``limit`` says otherwise)."""
    body = _run_filters_body(*filters, sort)
    return (yield from _paged(path, body, limit, offset, parse, default_limit=100))


def _count(path: str, filters: args.RunFilters) -> Operation[int]:
    response = yield Request("POST", path, json=_run_filters_body(*filters))
    return int(response.json())


# -- health -----------------------------------------------------------------------


def api_healthcheck(session: Session) -> Operation[Exception | None]:
    """None when the server answers ``/health``, else the error (Prefect's contract)."""
    try:
        yield Request("GET", "/health", retries=False)
    except Exception as exc:
        return exc
    return None


# -- flows --------------------------------------------------------------------------


def create_flow_from_name(session: Session, flow_name: str) -> Operation[uuid.UUID]:
    """The id of the flow named ``flow_name``, created if needed."""
    response = yield Request("POST", "/flows/", json={"name": flow_name})
    flow_id = uuid.UUID(response.json()["id"])
    session.flow_ids[flow_name] = flow_id
    return flow_id


def create_flow(session: Session, flow: Any) -> Operation[uuid.UUID]:
    """The id of ``flow``'s flow (a ``@flow`` or a name), created if needed."""
    return (yield from create_flow_from_name(session, args.flow_name_of(flow)))


def read_flow(session: Session, flow_id: Any) -> Operation[Flow]:
    """One flow; raises ObjectNotFound."""
    response = yield Request("GET", f"/flows/{_id(flow_id, 'flow')}")
    return Flow.model_validate(response.json())


def read_flow_by_name(session: Session, flow_name: str) -> Operation[Flow]:
    """One flow by name; raises ObjectNotFound."""
    response = yield Request("GET", f"/flows/name/{quote(flow_name, safe='')}")
    return Flow.model_validate(response.json())


def read_flows(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Filter = None,
    flow_run_filter: f.FlowRunFilter | Filter = None,
    task_run_filter: f.TaskRunFilter | Filter = None,
    sort: FlowSort | None = None,
    limit: int | None = None,
    offset: int = 0,
    name: str | None = None,
) -> Operation[list[Flow]]:
    """Flows, newest first; ``name=`` is a shorthand for a substring filter."""
    filters = args.flow_run_filters(
        args.flows_filter(flow_filter, name), flow_run_filter, task_run_filter
    )
    return (yield from _filter("/flows/filter", filters, sort, limit, offset, Flow.model_validate))


def delete_flow(session: Session, flow_id: Any) -> Operation[None]:
    """Delete a flow with its runs; raises ObjectNotFound."""
    yield Request("DELETE", f"/flows/{_id(flow_id, 'flow')}")
    session.flow_ids = {name: id_ for name, id_ in session.flow_ids.items() if id_ != flow_id}


# -- flow runs ------------------------------------------------------------------------


def create_flow_run(
    session: Session,
    flow: Any,
    name: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    parent_task_run_id: Any = None,
    state: args.StateLike | None = None,
    work_pool_name: str | None = None,
    work_queue_name: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Operation[FlowRun]:
    """Create a flow run of ``flow`` (a ``@flow`` or a name) in ``state`` (default PENDING)."""
    flow_name = args.flow_name_of(flow)
    for attempt in range(2):
        flow_id = session.flow_ids.get(flow_name)
        if flow_id is None:
            flow_id = yield from create_flow_from_name(session, flow_name)
        body = args.flow_run_create(
            flow_id,
            flow=flow,
            name=name,
            parameters=parameters,
            context=context,
            tags=tags,
            parent_task_run_id=parent_task_run_id,
            state=state,
            work_pool_name=work_pool_name,
            work_queue_name=work_queue_name,
            job_variables=job_variables,
            idempotency_key=idempotency_key,
        )
        try:
            response = yield Request(
                "POST",
                "/flow_runs/",
                json=body.model_dump(mode="json"),
                is_idempotent=idempotency_key is not None,  # a resend finds the same run
            )
        except ObjectNotFound:
            if attempt:
                raise
            session.flow_ids.pop(flow_name, None)  # deleted since: create it again
            continue
        return FlowRun.model_validate(response.json())
    raise AssertionError("unreachable")  # pragma: no cover


def read_flow_run(session: Session, flow_run_id: Any) -> Operation[FlowRun]:
    """One flow run (with ``flow_name``); raises ObjectNotFound."""
    response = yield Request("GET", f"/flow_runs/{_id(flow_run_id, 'flow run')}")
    return FlowRun.model_validate(response.json())


def read_flow_runs(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Filter = None,
    flow_run_filter: f.FlowRunFilter | Filter = None,
    task_run_filter: f.TaskRunFilter | Filter = None,
    sort: FlowRunSort | None = None,
    limit: int | None = None,
    offset: int = 0,
    flow_name: str | None = None,
    state_types: Sequence[str] | None = None,
    state_names: Sequence[str] | None = None,
    parent_flow_run_id: Any = None,
) -> Operation[list[FlowRun]]:
    """Flow runs, newest first unless ``sort`` says otherwise (shorthands as embedded)."""
    filters = args.flow_run_filters(
        flow_filter,
        flow_run_filter,
        task_run_filter,
        flow_name=flow_name,
        state_types=state_types,
        state_names=state_names,
        parent_flow_run_id=parent_flow_run_id,
    )
    return (
        yield from _filter(
            "/flow_runs/filter", filters, sort, limit, offset, FlowRun.model_validate
        )
    )


def count_flow_runs(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Filter = None,
    flow_run_filter: f.FlowRunFilter | Filter = None,
    task_run_filter: f.TaskRunFilter | Filter = None,
    flow_name: str | None = None,
    state_types: Sequence[str] | None = None,
) -> Operation[int]:
    """How many flow runs match."""
    filters = args.flow_run_filters(
        flow_filter, flow_run_filter, task_run_filter, flow_name=flow_name, state_types=state_types
    )
    return (yield from _count("/flow_runs/count", filters))


def update_flow_run(
    session: Session,
    flow_run_id: Any,
    name: str | None = None,
    flow_version: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    infrastructure_pid: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
) -> Operation[None]:
    """Change a flow run's name, version, parameters, tags, infrastructure pid or job
    variables; raises ObjectNotFound."""
    update = FlowRunUpdate(
        name=name,
        flow_version=flow_version,
        parameters=None if parameters is None else dict(parameters),
        tags=None if tags is None else list(tags),
        infrastructure_pid=infrastructure_pid,
        job_variables=None if job_variables is None else dict(job_variables),
    )
    yield Request(
        "PATCH",
        f"/flow_runs/{_id(flow_run_id, 'flow run')}",
        json=update.model_dump(mode="json", exclude_none=True),
    )


def delete_flow_run(session: Session, flow_run_id: Any) -> Operation[None]:
    """Delete a flow run with its task runs, states and logs; raises ObjectNotFound."""
    yield Request("DELETE", f"/flow_runs/{_id(flow_run_id, 'flow run')}")


def _set_state(path: str, state: args.StateLike, force: bool) -> Operation[OrchestrationResult]:
    body = {"state": StateCreate.from_state(state).model_dump(mode="json"), "force": force}
    response = yield Request("POST", path, json=body, is_idempotent=False)
    return OrchestrationResult.model_validate(response.json())


def set_flow_run_state(
    session: Session, flow_run_id: Any, state: args.StateLike, force: bool = False
) -> Operation[OrchestrationResult]:
    """Propose a state for a flow run, through the transition rules."""
    path = f"/flow_runs/{_id(flow_run_id, 'flow run')}/set_state"
    return (yield from _set_state(path, state, force))


def _states(kind: str, run_id: Any) -> Operation[list[State]]:
    """A run's state history (``kind``: "flow_run" or "task_run"); [] for text that is no id."""
    try:
        params = {f"{kind}_id": _id(run_id, kind.replace("_", " "))}
    except ObjectNotFound:
        return []
    response = yield Request("GET", f"/{kind}_states/", params=params)
    return [State.model_validate(item) for item in response.json()]


def read_flow_run_states(session: Session, flow_run_id: Any) -> Operation[list[State]]:
    """A flow run's state history, oldest first."""
    return (yield from _states("flow_run", flow_run_id))


def read_flow_run_graph(session: Session, flow_run_id: Any) -> Operation[list[DependencyResult]]:
    """A flow run's task runs with the task runs each one's inputs came from."""
    response = yield Request("GET", f"/flow_runs/{_id(flow_run_id, 'flow run')}/graph")
    return [DependencyResult.model_validate(item) for item in response.json()]


# -- task runs -------------------------------------------------------------------------


def create_task_run(
    session: Session,
    task: Any,
    flow_run_id: Any,
    dynamic_key: str,
    id: Any = None,
    name: str | None = None,
    extra_tags: Iterable[str] | None = None,
    state: args.StateLike | None = None,
    task_inputs: Mapping[str, Iterable[Any]] | None = None,
) -> Operation[TaskRun]:
    """Create a task run of ``task`` (idempotent on flow run, task key and dynamic key)."""
    body = args.task_run_create(
        task,
        flow_run_id,
        dynamic_key,
        id=id,
        name=name,
        extra_tags=extra_tags,
        state=state,
        task_inputs=task_inputs,
    )
    response = yield Request("POST", "/task_runs/", json=body.model_dump(mode="json"))
    return TaskRun.model_validate(response.json())


def read_task_run(session: Session, task_run_id: Any) -> Operation[TaskRun]:
    """One task run; raises ObjectNotFound."""
    response = yield Request("GET", f"/task_runs/{_id(task_run_id, 'task run')}")
    return TaskRun.model_validate(response.json())


def read_task_runs(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Filter = None,
    flow_run_filter: f.FlowRunFilter | Filter = None,
    task_run_filter: f.TaskRunFilter | Filter = None,
    sort: TaskRunSort | None = None,
    limit: int | None = None,
    offset: int = 0,
    flow_run_id: Any = None,
    name: str | None = None,
    state_types: Sequence[str] | None = None,
) -> Operation[list[TaskRun]]:
    """Task runs, newest first unless ``sort`` says otherwise (shorthands as embedded)."""
    filters = args.task_run_filters(
        flow_filter,
        flow_run_filter,
        task_run_filter,
        flow_run_id=flow_run_id,
        name=name,
        state_types=state_types,
    )
    return (
        yield from _filter(
            "/task_runs/filter", filters, sort, limit, offset, TaskRun.model_validate
        )
    )


def count_task_runs(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Filter = None,
    flow_run_filter: f.FlowRunFilter | Filter = None,
    task_run_filter: f.TaskRunFilter | Filter = None,
) -> Operation[int]:
    """How many task runs match."""
    filters = args.task_run_filters(flow_filter, flow_run_filter, task_run_filter)
    return (yield from _count("/task_runs/count", filters))


def set_task_run_state(
    session: Session, task_run_id: Any, state: args.StateLike, force: bool = False
) -> Operation[OrchestrationResult]:
    """Propose a state for a task run, through the transition rules."""
    path = f"/task_runs/{_id(task_run_id, 'task run')}/set_state"
    return (yield from _set_state(path, state, force))


def read_task_run_states(session: Session, task_run_id: Any) -> Operation[list[State]]:
    """A task run's state history, oldest first."""
    return (yield from _states("task_run", task_run_id))


def delete_task_run(session: Session, task_run_id: Any) -> Operation[None]:
    """Delete a task run with its states and logs; raises ObjectNotFound."""
    yield Request("DELETE", f"/task_runs/{_id(task_run_id, 'task run')}")


def read_states(
    session: Session, *, flow_run_id: Any = None, task_run_id: Any = None
) -> Operation[list[State]]:
    """The state history of one run, oldest first."""
    if flow_run_id is None and task_run_id is None:
        raise ValueError("read_states needs a flow_run_id or a task_run_id")
    if flow_run_id is not None:
        return (yield from read_flow_run_states(session, flow_run_id))
    return (yield from read_task_run_states(session, task_run_id))


# -- logs and records ------------------------------------------------------------------


def create_logs(session: Session, logs: Iterable[LogCreate | Mapping[str, Any]]) -> Operation[None]:
    """Write log lines for runs (``LOGS_PER_REQUEST`` a request)."""
    lines = [line.model_dump(mode="json") for line in args.log_creates(logs)]
    for start in range(0, len(lines), LOGS_PER_REQUEST):
        chunk = lines[start : start + LOGS_PER_REQUEST]
        yield Request("POST", "/logs/", json=chunk, is_idempotent=False)


def read_logs(
    session: Session,
    log_filter: f.LogFilter | Filter = None,
    limit: int | None = None,
    offset: int | None = None,
    sort: LogSort | None = None,
    *,
    flow_run_id: Any = None,
    task_run_id: Any = None,
    after: float | None = None,
) -> Operation[list[Log]]:
    """Log lines, oldest first; ``after`` (POSIX seconds, exclusive) to follow a run."""
    log_filter = args.log_filter(
        log_filter, flow_run_id=flow_run_id, task_run_id=task_run_id, after=after
    )
    body: dict[str, Any] = {"logs": _dump(log_filter)}
    if sort is not None:
        body["sort"] = sort.value
    return (
        yield from _paged(
            "/logs/filter", body, limit, offset or 0, Log.model_validate, default_limit=1000
        )
    )


def record(session: Session, batch: RecordBatch) -> Operation[None]:
    """Send one recorder batch (split in order when it holds more rows than a request may)."""
    for body in record_bodies(batch):
        try:
            yield Request("POST", RECORDS_PATH, content=body)
        except (ParameterError, RecordsRefused) as exc:
            raise RecordsRefused(
                f"The server refused a batch of run records: {exc}",
                url=RECORDS_PATH,
                status_code=422,
                detail=str(exc),
            ) from DataError(str(exc))


# -- artifacts ------------------------------------------------------------------------------


def _artifact_path(artifact_id: Any) -> str:
    return f"/artifacts/{_id(artifact_id, 'artifact')}"


def create_artifact(
    session: Session,
    *,
    key: str | None = None,
    type: str,
    data: Any,
    description: str | None = None,
    flow_run_id: Any = None,
    task_run_id: Any = None,
    metadata: dict[str, str] | None = None,
) -> Operation[Artifact]:
    """Store an artifact (a new version when ``key`` exists) and return it."""
    body = {
        "key": key,
        "type": type,
        "data": data,
        "description": description,
        "flow_run_id": None if flow_run_id is None else str(flow_run_id),
        "task_run_id": None if task_run_id is None else str(task_run_id),
        "metadata_": metadata,
    }
    response = yield Request("POST", "/artifacts/", json=body, is_idempotent=False)
    return Artifact.model_validate(response.json())


def update_artifact(
    session: Session,
    artifact_id: Any,
    *,
    data: Any | Unset = UNSET,
    description: str | None | Unset = UNSET,
) -> Operation[Artifact]:
    """Change an artifact in place (progress); raises ObjectNotFound."""
    body: dict[str, Any] = {}
    if data is not UNSET:
        body["data"] = data
    if description is not UNSET:
        body["description"] = description
    path = _artifact_path(artifact_id)
    yield Request("PATCH", path, json=body)
    response = yield Request("GET", path)
    return Artifact.model_validate(response.json())


def read_artifact(session: Session, artifact_id: Any) -> Operation[Artifact]:
    """One artifact (one version); raises ObjectNotFound."""
    response = yield Request("GET", _artifact_path(artifact_id))
    return Artifact.model_validate(response.json())


def read_latest_artifact(session: Session, key: str) -> Operation[Artifact]:
    """The newest version of ``key``; raises ObjectNotFound."""
    response = yield Request("GET", f"/artifacts/{quote(key, safe='')}/latest")
    return Artifact.model_validate(response.json())


def _artifact_filter(
    key: str | None, type: str | None, flow_run_id: Any, task_run_id: Any
) -> dict[str, Any] | None:
    model = f.ArtifactFilter(
        key=None if key is None else f.ArtifactFilterKey(any_=[key]),
        type=None if type is None else f.ArtifactFilterType(any_=[type]),
        flow_run_id=None
        if flow_run_id is None
        else f.ArtifactFilterFlowRunId(any_=[args.as_uuid(flow_run_id)]),
        task_run_id=None
        if task_run_id is None
        else f.ArtifactFilterTaskRunId(any_=[args.as_uuid(task_run_id)]),
    )
    return _dump(model)  # type: ignore[no-any-return]


_ARTIFACT_SORTS = {
    "created_desc": "CREATED_DESC",
    "updated_desc": "UPDATED_DESC",
    "key_asc": "KEY_ASC",
    "key_desc": "KEY_DESC",
}


def read_artifacts(
    session: Session,
    *,
    key: str | None = None,
    type: str | None = None,
    flow_run_id: Any = None,
    task_run_id: Any = None,
    latest_only: bool = False,
    sort: str = "created_desc",
    limit: int = 100,
    offset: int = 0,
) -> Operation[list[Artifact]]:
    """Artifacts matching every filter given; ``latest_only``: newest version per key."""
    if sort not in _ARTIFACT_SORTS:
        raise ParameterError(
            f"Unknown artifact sort {sort!r}. Choose one of {', '.join(_ARTIFACT_SORTS)}."
        )
    body = {
        "artifacts": _artifact_filter(key, type, flow_run_id, task_run_id),
        "latest_only": latest_only,
        "sort": _ARTIFACT_SORTS[sort],
    }
    return (yield from _paged("/artifacts/filter", body, limit, offset, Artifact.model_validate))


def count_artifacts(
    session: Session,
    *,
    key: str | None = None,
    type: str | None = None,
    flow_run_id: Any = None,
    task_run_id: Any = None,
    latest_only: bool = False,
) -> Operation[int]:
    """How many artifacts ``read_artifacts`` would return without paging."""
    body = {
        "artifacts": _artifact_filter(key, type, flow_run_id, task_run_id),
        "latest_only": latest_only,
    }
    response = yield Request("POST", "/artifacts/count", json=body)
    return int(response.json())


def delete_artifact(session: Session, artifact_id: Any) -> Operation[None]:
    """Delete one artifact (one version); raises ObjectNotFound."""
    yield Request("DELETE", _artifact_path(artifact_id))


# -- variables ------------------------------------------------------------------------------


def _variable_path(name: str) -> str:
    return f"/variables/name/{quote(name, safe='')}"


def create_variable(
    session: Session, *, name: str, value: Any, tags: Sequence[str] | None = None
) -> Operation[Variable]:
    """Store a new variable; raises ObjectAlreadyExists if the name is taken."""
    body = {"name": name, "value": value, "tags": None if tags is None else list(tags)}
    response = yield Request("POST", "/variables/", json=body, is_idempotent=False)
    return Variable.model_validate(response.json())


def read_variable_by_name(session: Session, name: str) -> Operation[Variable | None]:
    """The variable called ``name``, None if there is none."""
    try:
        response = yield Request("GET", _variable_path(name))
    except ObjectNotFound:
        return None
    return Variable.model_validate(response.json())


def read_variables(
    session: Session,
    *,
    name_like: str | None = None,
    tags: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Operation[list[Variable]]:
    """Variables by name; ``name_like`` is a substring, ``tags`` must all be present."""
    model = f.VariableFilter(
        name=None if name_like is None else f.VariableFilterName(like_=name_like),
        tags=None if tags is None else f.VariableFilterTags(all_=list(tags)),
    )
    body = {"variables": _dump(model)}
    return (yield from _paged("/variables/filter", body, limit, offset, Variable.model_validate))


def update_variable(
    session: Session,
    name: str,
    *,
    value: Any | Unset = UNSET,
    tags: Sequence[str] | None | Unset = UNSET,
) -> Operation[Variable]:
    """Change a variable's value and/or tags; raises ObjectNotFound."""
    body: dict[str, Any] = {}
    if value is not UNSET:
        body["value"] = value
    if not isinstance(tags, Unset):
        body["tags"] = None if tags is None else list(tags)
    yield Request("PATCH", _variable_path(name), json=body)
    response = yield Request("GET", _variable_path(name))
    return Variable.model_validate(response.json())


def set_variable(
    session: Session,
    name: str,
    value: Any,
    *,
    tags: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Operation[Variable]:
    """Create or, with ``overwrite``, replace a variable (value and tags)."""
    if overwrite:
        try:
            return (yield from update_variable(session, name, value=value, tags=tags))
        except ObjectNotFound:
            pass
    return (yield from create_variable(session, name=name, value=value, tags=tags))


def delete_variable_by_name(session: Session, name: str) -> Operation[None]:
    """Delete a variable; raises ObjectNotFound."""
    yield Request("DELETE", _variable_path(name))


# -- saved blocks ----------------------------------------------------------------------------


def _block_path(block_type_slug: str, name: str) -> str:
    return f"/block_documents/{quote(block_type_slug, safe='')}/{quote(name, safe='')}"


def save_block_document(
    session: Session,
    block_type_slug: str,
    name: str,
    data: dict[str, Any],
    overwrite: bool = False,
) -> Operation[None]:
    """Save ``data`` as ``block_type_slug/name``; ObjectAlreadyExists unless ``overwrite``."""
    body = {"block_type_slug": block_type_slug, "name": name, "data": data, "overwrite": overwrite}
    yield Request("POST", "/block_documents/", json=body)


def read_block_document(
    session: Session, block_type_slug: str, name: str
) -> Operation[dict[str, Any]]:
    """The data saved as ``block_type_slug/name``; raises ObjectNotFound."""
    response = yield Request("GET", _block_path(block_type_slug, name))
    data: dict[str, Any] = response.json()["data"]
    return data


def read_block_documents(
    session: Session, block_type_slug: str | None = None
) -> Operation[list[dict[str, Any]]]:
    """Saved blocks (rows with block_type_slug, name, data), by type and name."""
    response = yield Request(
        "POST", "/block_documents/filter", json={"block_type_slug": block_type_slug}
    )
    rows: list[dict[str, Any]] = response.json()
    return rows


def delete_block_document(session: Session, block_type_slug: str, name: str) -> Operation[None]:
    """Delete a saved block; raises ObjectNotFound."""
    yield Request("DELETE", _block_path(block_type_slug, name))
