"""The HTTP clients' deployment methods, as operations (see ``_operations``).

Same signatures and errors as ``EmbeddedClient``'s (``_embedded_deployments``):
the bodies are built and checked by ``_deployment_arguments`` on both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from legato.client import _deployment_arguments as args
from legato.client._arguments import StateLike
from legato.client._operations import Operation, Request, Session, _dump, _id, _paged
from legato.client.schemas import filters as f
from legato.client.schemas.actions import DeploymentUpdate
from legato.client.schemas.objects import Deployment, DeploymentSchedule, FlowRun

__all__ = [
    "count_deployments",
    "create_deployment",
    "create_deployment_schedules",
    "create_flow_run_from_deployment",
    "delete_deployment",
    "delete_deployment_schedule",
    "get_scheduled_flow_runs_for_deployments",
    "pause_deployment",
    "read_deployment",
    "read_deployment_by_name",
    "read_deployment_schedules",
    "read_deployments",
    "resume_deployment",
    "update_deployment",
    "update_deployment_schedule",
]


def _path(deployment_id: Any, suffix: str = "") -> str:
    return f"/deployments/{_id(deployment_id, 'deployment')}{suffix}"


def _schedule_path(deployment_id: Any, schedule_id: Any) -> str:
    return _path(deployment_id, f"/schedules/{_id(schedule_id, 'schedule')}")


def create_deployment(
    session: Session,
    flow_id: Any,
    name: str,
    version: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    parameter_openapi_schema: Mapping[str, Any] | None = None,
    enforce_parameter_schema: bool = True,
    entrypoint: str | None = None,
    path: str | None = None,
    pull_steps: Sequence[Mapping[str, Any]] | None = None,
    work_pool_name: str | None = None,
    work_queue_name: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
    schedules: Iterable[Any] | None = None,
    paused: bool = False,
    concurrency_limit: int | None = None,
    concurrency_options: Any = None,
) -> Operation[uuid.UUID]:
    """Create a deployment of the flow, or replace the one with this flow and name; its id.

    Raises ObjectNotFound for an unknown flow or work pool, ParameterError
    for parameters that do not fit ``parameter_openapi_schema``.
    """
    fields = {key: value for key, value in locals().items() if key != "session"}
    body = args.deployment_create(**fields)
    # An upsert: sent again, it leaves the same deployment.
    response = yield Request("POST", "/deployments/", json=body.model_dump(mode="json"))
    return uuid.UUID(response.json()["id"])


def read_deployment(session: Session, deployment_id: Any) -> Operation[Deployment]:
    """One deployment with its schedules; raises ObjectNotFound."""
    response = yield Request("GET", _path(deployment_id))
    return Deployment.model_validate(response.json())


def read_deployment_by_name(session: Session, name: str) -> Operation[Deployment]:
    """The deployment ``"flow-name/deployment-name"``; raises ObjectNotFound."""
    flow_name, deployment_name = args.split_name(name)
    path = f"/deployments/name/{quote(flow_name, safe='')}/{quote(deployment_name, safe='')}"
    response = yield Request("GET", path)
    return Deployment.model_validate(response.json())


def read_deployments(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
    deployment_filter: f.DeploymentFilter | Mapping[str, Any] | None = None,
    sort: f.DeploymentSort | None = None,
    limit: int | None = None,
    offset: int = 0,
    flow_name: str | None = None,
    work_pool_name: str | None = None,
) -> Operation[list[Deployment]]:
    """Deployments by name (``sort`` otherwise); ``flow_name``, ``work_pool_name``: exact."""
    flows, chosen = args.deployment_filters(
        flow_filter, deployment_filter, flow_name=flow_name, work_pool_name=work_pool_name
    )
    body: dict[str, Any] = {"flows": _dump(flows), "deployments": _dump(chosen)}
    if sort is not None:
        body["sort"] = f.DeploymentSort(sort).value
    return (
        yield from _paged("/deployments/filter", body, limit, offset, Deployment.model_validate)
    )


def get_scheduled_flow_runs_for_deployments(
    session: Session,
    deployment_ids: Sequence[uuid.UUID | str],
    scheduled_before: dt.datetime | None = None,
    limit: int | None = None,
) -> Operation[list[FlowRun]]:
    """The Scheduled runs of these deployments due by ``scheduled_before``, earliest first
    (at most ``limit``); marks the deployments polled (READY), as a serve process's poll."""
    body: dict[str, Any] = {
        "deployment_ids": [str(value) for value in args.deployment_ids(deployment_ids)],
        "scheduled_before": None if scheduled_before is None else scheduled_before.isoformat(),
        "limit": args.poll_limit(limit),
    }
    response = yield Request("POST", "/deployments/get_scheduled_flow_runs", json=body)
    return [FlowRun.model_validate(item) for item in response.json()]


def count_deployments(
    session: Session,
    *,
    flow_filter: f.FlowFilter | Mapping[str, Any] | None = None,
    deployment_filter: f.DeploymentFilter | Mapping[str, Any] | None = None,
    flow_name: str | None = None,
    work_pool_name: str | None = None,
) -> Operation[int]:
    """How many deployments match."""
    flows, chosen = args.deployment_filters(
        flow_filter, deployment_filter, flow_name=flow_name, work_pool_name=work_pool_name
    )
    body = {"flows": _dump(flows), "deployments": _dump(chosen)}
    response = yield Request("POST", "/deployments/count", json=body)
    return int(response.json())


def update_deployment(
    session: Session, deployment_id: Any, deployment: DeploymentUpdate | Mapping[str, Any]
) -> Operation[None]:
    """Change a deployment (unset fields keep theirs); raises ObjectNotFound."""
    path = _path(deployment_id)
    update = args.deployment_update(deployment)
    yield Request("PATCH", path, json=update.model_dump(mode="json", exclude_unset=True))


def delete_deployment(session: Session, deployment_id: Any) -> Operation[None]:
    """Delete a deployment with its schedules and runs not started; raises ObjectNotFound."""
    yield Request("DELETE", _path(deployment_id))


def pause_deployment(session: Session, deployment_id: Any) -> Operation[None]:
    """Pause a deployment (its auto-scheduled runs not started go); raises ObjectNotFound."""
    yield Request("POST", _path(deployment_id, "/pause_deployment"))


def resume_deployment(session: Session, deployment_id: Any) -> Operation[None]:
    """Resume a paused deployment; raises ObjectNotFound."""
    yield Request("POST", _path(deployment_id, "/resume_deployment"))


def create_deployment_schedules(
    session: Session, deployment_id: Any, schedules: Iterable[Any]
) -> Operation[list[DeploymentSchedule]]:
    """Add schedules to a deployment; the new ones. Raises ObjectNotFound."""
    path = _path(deployment_id, "/schedules")
    creates = args.schedule_creates(schedules) or []
    body = [create.model_dump(mode="json") for create in creates]
    response = yield Request("POST", path, json=body, is_idempotent=False)
    return [DeploymentSchedule.model_validate(item) for item in response.json()]


def read_deployment_schedules(
    session: Session, deployment_id: Any
) -> Operation[list[DeploymentSchedule]]:
    """A deployment's schedules, oldest first; raises ObjectNotFound."""
    response = yield Request("GET", _path(deployment_id, "/schedules"))
    return [DeploymentSchedule.model_validate(item) for item in response.json()]


def update_deployment_schedule(
    session: Session,
    deployment_id: Any,
    schedule_id: Any,
    active: bool | None = None,
    schedule: Any = None,
) -> Operation[None]:
    """Change a schedule's active flag and/or the schedule; raises ObjectNotFound."""
    path = _schedule_path(deployment_id, schedule_id)
    update = args.schedule_update(active, schedule)
    yield Request("PATCH", path, json=update.model_dump(mode="json", exclude_unset=True))


def delete_deployment_schedule(
    session: Session, deployment_id: Any, schedule_id: Any
) -> Operation[None]:
    """Delete a schedule (and the runs it made not started); raises ObjectNotFound."""
    yield Request("DELETE", _schedule_path(deployment_id, schedule_id))


def create_flow_run_from_deployment(
    session: Session,
    deployment_id: Any,
    *,
    parameters: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    state: StateLike | None = None,
    name: str | None = None,
    tags: Iterable[str] | None = None,
    idempotency_key: str | None = None,
    parent_task_run_id: Any = None,
    work_queue_name: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
) -> Operation[FlowRun]:
    """A run of the deployment, Scheduled now unless ``state`` says otherwise.

    The same ``idempotency_key`` twice gives the same run. Raises
    ObjectNotFound, and ParameterError for parameters that do not fit.
    """
    path = _path(deployment_id, "/create_flow_run")
    body = args.flow_run_create(
        parameters=parameters,
        context=context,
        state=state,
        name=name,
        tags=tags,
        idempotency_key=idempotency_key,
        parent_task_run_id=parent_task_run_id,
        work_queue_name=work_queue_name,
        job_variables=job_variables,
    )
    response = yield Request(
        "POST",
        path,
        json=body.model_dump(mode="json", exclude_unset=True),
        is_idempotent=idempotency_key is not None,  # a resend finds the same run
    )
    return FlowRun.model_validate(response.json())
