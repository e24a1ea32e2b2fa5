"""What both clients do with the arguments of their deployment methods.

Request bodies are built (and checked) here, on the client's side, for the
embedded and the HTTP clients alike: a value pydantic refuses raises
ParameterError naming the field, before anything reaches the store or the
server. Schedules may be given as ``DeploymentScheduleCreate``s,
``legato.schedules`` objects (``Cron``, ``Interval``, ``RRule``: their own
``active`` and ``parameters`` are kept), ``(schedule, active)`` pairs (as
Prefect's client takes them) or their JSON.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from legato.client._arguments import StateLike, as_uuid, coerce
from legato.client.schemas import filters as f
from legato.client.schemas.actions import (
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
    StateCreate,
)
from legato.exceptions import ParameterError

__all__ = [
    "DeploymentFilters",
    "build",
    "deployment_create",
    "deployment_filters",
    "deployment_update",
    "flow_run_create",
    "schedule_creates",
    "schedule_update",
    "split_name",
]

M = TypeVar("M", bound=BaseModel)
DeploymentFilters = tuple[f.FlowFilter | None, f.DeploymentFilter | None]


def build(model_class: type[M], **values: Any) -> M:
    """``model_class(**values)``; ParameterError naming each refused field."""
    try:
        return model_class.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ParameterError(f"Invalid {model_class.__name__}: {problems}.") from None


def split_name(name: str) -> tuple[str, str]:
    """``"flow-name/deployment-name"`` as its two parts; ParameterError otherwise."""
    flow_name, slash, deployment_name = name.partition("/")
    if not slash or not flow_name or not deployment_name or "/" in deployment_name:
        raise ParameterError(
            f"{name!r} is not a deployment name: name a deployment 'flow-name/deployment-name' "
            "(list them with `legato deployment ls`)."
        )
    return flow_name, deployment_name


def _schedule_create(item: Any) -> DeploymentScheduleCreate:
    if isinstance(item, DeploymentScheduleCreate):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        schedule, active = item
        created = _schedule_create(schedule)
        return created.model_copy(update={"active": bool(active)})
    if isinstance(item, Mapping) and "schedule" in item:
        return build(DeploymentScheduleCreate, **item)
    from legato.schedules import schedule_from_json

    try:
        schedule = schedule_from_json(item)
    except ValueError as exc:
        raise ParameterError(f"Invalid schedule {item!r}: {exc}") from None
    return DeploymentScheduleCreate.from_schedule(schedule)


def schedule_creates(schedules: Iterable[Any] | None) -> list[DeploymentScheduleCreate] | None:
    """The schedules given in any of the forms of the module doc; None stays None."""
    if schedules is None:
        return None
    if isinstance(schedules, str | bytes | Mapping):
        raise ParameterError(
            f"schedules is a list of schedules, got {schedules!r}. Pass e.g. [Cron('0 6 * * *')]."
        )
    return [_schedule_create(item) for item in schedules]


def deployment_create(flow_id: Any, name: str, **fields: Any) -> DeploymentCreate:
    """The body of ``create_deployment`` (see ``EmbeddedClient.create_deployment``)."""
    fields["schedules"] = schedule_creates(fields.get("schedules"))
    return build(DeploymentCreate, flow_id=flow_id, name=name, **fields)


def deployment_update(deployment: DeploymentUpdate | Mapping[str, Any]) -> DeploymentUpdate:
    """An update given as the model or its dict form (its schedules in any form)."""
    if isinstance(deployment, DeploymentUpdate):
        return deployment
    values = dict(deployment)
    if "schedules" in values:
        values["schedules"] = schedule_creates(values["schedules"])
    return build(DeploymentUpdate, **values)


def schedule_update(active: bool | None, schedule: Any) -> DeploymentScheduleUpdate:
    """The body of ``update_deployment_schedule``: only what is given changes."""
    values: dict[str, Any] = {}
    if active is not None:
        values["active"] = active
    if schedule is not None:  # the timing only: the schedule's parameters stay
        values["schedule"] = _schedule_create(schedule).schedule
    return build(DeploymentScheduleUpdate, **values)


def flow_run_create(
    *,
    parameters: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    state: StateLike | None,
    name: str | None,
    tags: Iterable[str] | None,
    idempotency_key: str | None,
    parent_task_run_id: Any,
    work_queue_name: str | None,
    job_variables: Mapping[str, Any] | None,
) -> DeploymentFlowRunCreate:
    """The body of ``create_flow_run_from_deployment``."""
    if tags is not None and isinstance(tags, str):
        raise ParameterError(f"tags is a list of strings, got {tags!r}. Pass e.g. ['nightly'].")
    return build(
        DeploymentFlowRunCreate,
        parameters=dict(parameters or {}),
        context=dict(context or {}),
        state=None if state is None else StateCreate.from_state(state),
        name=name,
        tags=list(tags or ()),
        idempotency_key=idempotency_key,
        parent_task_run_id=parent_task_run_id,
        work_queue_name=work_queue_name,
        job_variables=None if job_variables is None else dict(job_variables),
    )


def deployment_filters(
    flow_filter: f.FlowFilter | Mapping[str, Any] | None,
    deployment_filter: f.DeploymentFilter | Mapping[str, Any] | None,
    *,
    flow_name: str | None = None,
    work_pool_name: str | None = None,
    names: Sequence[str] | None = None,
) -> DeploymentFilters:
    """The filters of a deployment read, shorthands (exact names) folded in."""
    flows = coerce(f.FlowFilter, flow_filter)
    deployments = coerce(f.DeploymentFilter, deployment_filter)
    if flow_name is not None:
        if flows is not None:
            raise ValueError("Pass either flow_filter or flow_name=, not both.")
        flows = f.FlowFilter(name=f.FlowFilterName(any_=[flow_name]))
    if work_pool_name is not None or names is not None:
        if deployments is not None:
            raise ValueError(
                "Pass either deployment_filter or its shorthands (work_pool_name=, names=), "
                "not both."
            )
        deployments = f.DeploymentFilter(
            work_pool_name=None
            if work_pool_name is None
            else f.DeploymentFilterWorkPoolName(any_=[work_pool_name]),
            name=None if names is None else f.DeploymentFilterName(any_=list(names)),
        )
    return flows, deployments


def id_or_none(value: Any) -> uuid.UUID | None:
    """An id as a UUID; None for text that is not one (it then names nothing)."""
    try:
        return as_uuid(value)
    except (ValueError, TypeError):
        return None


def poll_limit(limit: int | None) -> int | None:
    """``limit`` of a poll for scheduled runs: None (no limit) or an int >= 0."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ParameterError(f"limit={limit!r} must be a whole number >= 0 (or None: no limit).")
    return limit


def deployment_ids(values: Iterable[Any]) -> list[uuid.UUID]:
    """Deployment ids given as UUIDs or their text; ParameterError naming a bad one."""
    if isinstance(values, str | uuid.UUID):
        values = [values]
    ids = []
    for value in values:
        try:
            ids.append(as_uuid(value))
        except (ValueError, TypeError):
            raise ParameterError(
                f"deployment_ids holds {value!r}, which is not a deployment id (a UUID)."
            ) from None
    return ids
