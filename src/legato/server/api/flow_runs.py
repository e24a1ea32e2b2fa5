"""/api/flow_runs and /api/flow_run_states: create, read, filter, count, update,
delete, propose states, the task-run graph, the state history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import FlowRunCreate, FlowRunUpdate
from legato.client.schemas.objects import (
    DependencyResult,
    FlowRun,
    OrchestrationResult,
    State,
    TaskRun,
)
from legato.client.schemas.sorting import FlowRunSort
from legato.orchestration import flow_runs, task_runs
from legato.server.api._common import (
    ACCEPTED,
    CountBody,
    FlowRunReadBody,
    Limit,
    Offset,
    SetStateBody,
    StoreDependency,
    not_found,
    not_found_response,
    propose_state,
    read_run_state,
    read_run_states,
    run_store_work,
)
from legato.storage.queries._common import Row

router = APIRouter(prefix="/flow_runs", tags=["Flow runs"])
states_router = APIRouter(prefix="/flow_run_states", tags=["Flow run states"])

_NOT_FOUND = not_found_response("No flow run has this id")


class FlowRunFilterBody(FlowRunReadBody):
    sort: FlowRunSort | None = None
    limit: Limit = 200
    offset: Offset = 0


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=FlowRun,
    responses={
        200: {"model": FlowRun, "description": "The flow's run with this idempotency key"},
        404: {"description": "No such flow, or no such work pool"},
    },
)
async def create_flow_run(body: FlowRunCreate, store: StoreDependency) -> Response:
    """Create a flow run of an existing flow, in ``state`` (default PENDING).

    With an ``idempotency_key`` a run of the flow has already: that run (200).
    """
    row, created = await run_store_work(
        store, lambda: store.write(lambda c: flow_runs.create_or_read_flow_run(c, body))
    )
    # The model serializes itself: FastAPI would validate it against FlowRun again.
    return Response(
        FlowRun.from_row(row).model_dump_json(),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        media_type="application/json",
    )


@router.post("/filter")
def read_flow_runs(store: StoreDependency, body: FlowRunFilterBody | None = None) -> list[FlowRun]:
    """Flow runs matching the filters, one page (default order: newest first)."""
    body = body or FlowRunFilterBody()
    rows = store.read(
        lambda c: flow_runs.filter_flow_runs(
            c, **body.filters(), sort=body.sort, limit=body.limit, offset=body.offset
        )
    )
    return [FlowRun.from_row(row) for row in rows]


@router.post("/count")
def count_flow_runs(store: StoreDependency, body: CountBody | None = None) -> int:
    """How many flow runs match."""
    body = body or CountBody()
    return store.read(lambda c: flow_runs.count_flow_runs(c, **body.filters()))


@router.get("/{flow_run_id}", responses=_NOT_FOUND)
def read_flow_run(flow_run_id: uuid.UUID, store: StoreDependency) -> FlowRun:
    """One flow run."""
    row = store.read(lambda c: flow_runs.read_flow_run(c, flow_run_id))
    if row is None:
        raise not_found("flow run", flow_run_id)
    return FlowRun.from_row(row)


@router.patch("/{flow_run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def update_flow_run(flow_run_id: uuid.UUID, body: FlowRunUpdate, store: StoreDependency) -> None:
    """Change a flow run's name, version, parameters, tags, infrastructure pid or job
    variables."""
    if not store.write(lambda c: flow_runs.update_flow_run(c, flow_run_id, body)):
        raise not_found("flow run", flow_run_id)


@router.delete("/{flow_run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_flow_run(flow_run_id: uuid.UUID, store: StoreDependency) -> None:
    """Delete a flow run with its task runs, states and logs."""
    if not store.write(lambda c: flow_runs.delete_flow_run(c, flow_run_id)):
        raise not_found("flow run", flow_run_id)


@router.post("/{flow_run_id}/set_state", responses={**_NOT_FOUND, **ACCEPTED})
def set_flow_run_state(
    flow_run_id: uuid.UUID, body: SetStateBody, response: Response, store: StoreDependency
) -> OrchestrationResult:
    """Propose a state; the transition table decides (201 when accepted, 200 otherwise)."""
    return propose_state(store, "flow_run", flow_run_id, body, response)


@router.get("/{flow_run_id}/graph", responses=_NOT_FOUND)
def read_flow_run_graph(flow_run_id: uuid.UUID, store: StoreDependency) -> list[DependencyResult]:
    """The flow run's task runs, each with the task runs its inputs came from."""

    def work(connection: Connection) -> list[Row] | None:
        if flow_runs.read_flow_run(connection, flow_run_id) is None:
            return None
        return task_runs.read_flow_run_graph(connection, flow_run_id)

    rows = store.read(work)
    if rows is None:
        raise not_found("flow run", flow_run_id)
    return [DependencyResult.from_task_run(TaskRun.from_row(row)) for row in rows]


@states_router.get("/")
def read_flow_run_states(flow_run_id: uuid.UUID, store: StoreDependency) -> list[State]:
    """A flow run's state history, oldest first."""
    return read_run_states(store, "flow_run", flow_run_id)


@states_router.get("/{state_id}", responses={404: {"description": "No state has this id"}})
def read_flow_run_state(state_id: uuid.UUID, store: StoreDependency) -> State:
    """One state of a flow run."""
    return read_run_state(store, state_id)
