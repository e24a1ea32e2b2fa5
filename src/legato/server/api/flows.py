"""/api/flows: create (get-or-create by name), read, filter, count, delete."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from legato.client.schemas.actions import FlowCreate
from legato.client.schemas.objects import Flow
from legato.client.schemas.sorting import FlowSort
from legato.exceptions import ObjectNotFound
from legato.orchestration import flows
from legato.server.api._common import (
    CountBody,
    FlowRunReadBody,
    Limit,
    Offset,
    StoreDependency,
    not_found,
)

router = APIRouter(prefix="/flows", tags=["Flows"])


class FlowReadBody(FlowRunReadBody):
    sort: FlowSort | None = None
    limit: Limit = 200
    offset: Offset = 0


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": Flow, "description": "The flow existed"}},
)
def create_flow(body: FlowCreate, response: Response, store: StoreDependency) -> Flow:
    """The flow named ``name``: 201 when created, 200 when it existed."""
    row, created = store.write(lambda c: flows.get_or_create_flow(c, body.name))
    if not created:
        response.status_code = status.HTTP_200_OK
    return Flow.from_row(row)


@router.post("/filter")
def read_flows(store: StoreDependency, body: FlowReadBody | None = None) -> list[Flow]:
    """Flows matching the filters, one page."""
    body = body or FlowReadBody()
    rows = store.read(
        lambda c: flows.filter_flows(
            c, **body.filters(), sort=body.sort, limit=body.limit, offset=body.offset
        )
    )
    return [Flow.from_row(row) for row in rows]


@router.post("/count")
def count_flows(store: StoreDependency, body: CountBody | None = None) -> int:
    """How many flows match."""
    body = body or CountBody()
    return store.read(lambda c: flows.count_flows(c, **body.filters()))


@router.get("/name/{name}", responses={404: {"description": "No flow has this name"}})
def read_flow_by_name(name: str, store: StoreDependency) -> Flow:
    """One flow by name."""
    row = store.read(lambda c: flows.read_flow_by_name(c, name))
    if row is None:
        raise ObjectNotFound(f"No flow named {name!r}.")
    return Flow.from_row(row)


@router.get("/{flow_id}", responses={404: {"description": "No flow has this id"}})
def read_flow(flow_id: uuid.UUID, store: StoreDependency) -> Flow:
    """One flow."""
    row = store.read(lambda c: flows.read_flow(c, flow_id))
    if row is None:
        raise not_found("flow", flow_id)
    return Flow.from_row(row)


@router.delete(
    "/{flow_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No flow has this id"}},
)
def delete_flow(flow_id: uuid.UUID, store: StoreDependency) -> None:
    """Delete a flow with its runs (and their task runs, states and logs)."""
    if not store.write(lambda c: flows.delete_flow(c, flow_id)):
        raise not_found("flow", flow_id)
