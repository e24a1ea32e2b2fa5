"""/api/deployments: create (an upsert), read, filter, count, update, delete, pause,
resume, create flow runs, and each deployment's schedules."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Response, status
from pydantic import Field

from legato.client.schemas.actions import (
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
)
from legato.client.schemas.filters import DeploymentFilter, DeploymentSort, FlowFilter
from legato.client.schemas.objects import Deployment, DeploymentSchedule, FlowRun
from legato.exceptions import ObjectNotFound
from legato.orchestration import (
    deployment_concurrency,
    deployment_runs,
    deployment_schedules,
    deployments,
)
from legato.server.api._common import Body, Limit, Offset, StoreDependency, not_found

router = APIRouter(prefix="/deployments", tags=["Deployments"])

_NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"description": "No deployment has this id"}}
_SCHEDULE_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"description": "No such deployment, or no such schedule of it"}
}
_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "A schedule slug the deployment has already"}
}


class DeploymentCountBody(Body):
    flows: FlowFilter | None = None
    deployments: DeploymentFilter | None = None


class DeploymentFilterBody(DeploymentCountBody):
    sort: DeploymentSort | None = None
    limit: Limit = 200
    offset: Offset = 0


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "model": Deployment,
            "description": "A deployment of this flow and name existed: replaced",
        },
        404: {"description": "No such flow, or no such work pool or queue"},
        **_CONFLICT,
    },
)
def create_deployment(
    body: DeploymentCreate, response: Response, store: StoreDependency
) -> Deployment:
    """Create a deployment, or replace the one with the same flow and name (200 then).

    Replacing one deletes its auto-scheduled runs that have not started; the
    scheduler makes them again.
    """
    row, created = store.write(lambda c: deployments.create_deployment(c, body))
    if not created:
        response.status_code = status.HTTP_200_OK
    return Deployment.from_row(row)


@router.post("/filter")
def read_deployments(
    store: StoreDependency, body: DeploymentFilterBody | None = None
) -> list[Deployment]:
    """Deployments matching the filters, one page (default order: by name)."""
    body = body or DeploymentFilterBody()
    rows = store.read(
        lambda c: deployments.filter_deployments(
            c,
            flow_filter=body.flows,
            deployment_filter=body.deployments,
            sort=body.sort,
            limit=body.limit,
            offset=body.offset,
        )
    )
    return [Deployment.from_row(row) for row in rows]


class ScheduledRunsOfDeploymentsBody(Body):
    deployment_ids: list[uuid.UUID]
    scheduled_before: dt.datetime | None = None
    limit: int | None = Field(default=None, ge=0, le=2**31 - 1)


@router.post("/get_scheduled_flow_runs")
def get_scheduled_flow_runs(
    body: ScheduledRunsOfDeploymentsBody, store: StoreDependency
) -> list[FlowRun]:
    """The Scheduled runs of these deployments due by ``scheduled_before``, earliest first;
    marks the deployments polled (READY): a serve process's poll."""
    ids = [str(value) for value in body.deployment_ids]
    rows = store.write(
        lambda c: deployment_concurrency.get_scheduled_flow_runs_for_deployments(
            c, ids, body.scheduled_before, body.limit
        )
    )
    return [FlowRun.from_row(row) for row in rows]


@router.post("/count")
def count_deployments(store: StoreDependency, body: DeploymentCountBody | None = None) -> int:
    """How many deployments match."""
    body = body or DeploymentCountBody()
    return store.read(
        lambda c: deployments.count_deployments(
            c, flow_filter=body.flows, deployment_filter=body.deployments
        )
    )


@router.get(
    "/name/{flow_name}/{deployment_name}",
    responses={404: {"description": "No deployment has this name"}},
)
def read_deployment_by_name(
    flow_name: str, deployment_name: str, store: StoreDependency
) -> Deployment:
    """The deployment ``flow_name/deployment_name``."""
    row = store.read(lambda c: deployments.read_deployment_by_name(c, flow_name, deployment_name))
    if row is None:
        raise ObjectNotFound(
            f"No deployment named {flow_name + '/' + deployment_name!r}. "
            "List them with `legato deployment ls`."
        )
    return Deployment.from_row(row)


@router.get("/{deployment_id}", responses=_NOT_FOUND)
def read_deployment(deployment_id: uuid.UUID, store: StoreDependency) -> Deployment:
    """One deployment, with its schedules."""
    row = store.read(lambda c: deployments.read_deployment(c, deployment_id))
    if row is None:
        raise not_found("deployment", deployment_id)
    return Deployment.from_row(row)


@router.patch(
    "/{deployment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such deployment, work pool or queue"}, **_CONFLICT},
)
def update_deployment(
    deployment_id: uuid.UUID, body: DeploymentUpdate, store: StoreDependency
) -> None:
    """Change a deployment (fields left out keep theirs; ``schedules`` replaces them all)."""
    if not store.write(lambda c: deployments.update_deployment(c, deployment_id, body)):
        raise not_found("deployment", deployment_id)


@router.delete("/{deployment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_deployment(deployment_id: uuid.UUID, store: StoreDependency) -> None:
    """Delete a deployment with its schedules and its runs that have not started."""
    if not store.write(lambda c: deployments.delete_deployment(c, deployment_id)):
        raise not_found("deployment", deployment_id)


@router.post(
    "/{deployment_id}/pause_deployment",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def pause_deployment(deployment_id: uuid.UUID, store: StoreDependency) -> None:
    """Pause: no new scheduled runs; its auto-scheduled runs not started are deleted."""
    if not store.write(lambda c: deployments.set_deployment_paused(c, deployment_id, True)):
        raise not_found("deployment", deployment_id)


@router.post(
    "/{deployment_id}/resume_deployment",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def resume_deployment(deployment_id: uuid.UUID, store: StoreDependency) -> None:
    """Resume: the scheduler creates its runs again."""
    if not store.write(lambda c: deployments.set_deployment_paused(c, deployment_id, False)):
        raise not_found("deployment", deployment_id)


@router.post(
    "/{deployment_id}/create_flow_run",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No such deployment, or no such work queue"}},
)
def create_flow_run_from_deployment(
    deployment_id: uuid.UUID, body: DeploymentFlowRunCreate, store: StoreDependency
) -> FlowRun:
    """A run of the deployment (Scheduled now unless ``state`` says otherwise).

    With an ``idempotency_key`` a run of this flow already has, that run.
    """
    row = store.write(
        lambda c: deployment_runs.create_flow_run_from_deployment(c, deployment_id, body)
    )
    if row is None:
        raise not_found("deployment", deployment_id)
    return FlowRun.from_row(row)


@router.get("/{deployment_id}/schedules", responses=_NOT_FOUND)
def read_deployment_schedules(
    deployment_id: uuid.UUID, store: StoreDependency
) -> list[DeploymentSchedule]:
    """A deployment's schedules, oldest first."""
    rows = store.read(lambda c: deployment_schedules.read_deployment_schedules(c, deployment_id))
    if rows is None:
        raise not_found("deployment", deployment_id)
    return [DeploymentSchedule.from_row(row) for row in rows]


@router.post(
    "/{deployment_id}/schedules",
    status_code=status.HTTP_201_CREATED,
    responses={**_NOT_FOUND, **_CONFLICT},
)
def create_deployment_schedules(
    deployment_id: uuid.UUID, body: list[DeploymentScheduleCreate], store: StoreDependency
) -> list[DeploymentSchedule]:
    """Add schedules to a deployment."""
    rows = store.write(
        lambda c: deployment_schedules.create_deployment_schedules(c, deployment_id, body)
    )
    if rows is None:
        raise not_found("deployment", deployment_id)
    return [DeploymentSchedule.from_row(row) for row in rows]


@router.patch(
    "/{deployment_id}/schedules/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_SCHEDULE_NOT_FOUND, **_CONFLICT},
)
def update_deployment_schedule(
    deployment_id: uuid.UUID,
    schedule_id: uuid.UUID,
    body: DeploymentScheduleUpdate,
    store: StoreDependency,
) -> None:
    """Change a schedule; the runs it made that have not started are deleted (made again)."""
    if not store.write(
        lambda c: deployment_schedules.update_deployment_schedule(
            c, deployment_id, schedule_id, body
        )
    ):
        raise not_found("schedule of this deployment", schedule_id)


@router.delete(
    "/{deployment_id}/schedules/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_SCHEDULE_NOT_FOUND,
)
def delete_deployment_schedule(
    deployment_id: uuid.UUID, schedule_id: uuid.UUID, store: StoreDependency
) -> None:
    """Delete a schedule and the runs it made that have not started."""
    if not store.write(
        lambda c: deployment_schedules.delete_deployment_schedule(c, deployment_id, schedule_id)
    ):
        raise not_found("schedule of this deployment", schedule_id)
