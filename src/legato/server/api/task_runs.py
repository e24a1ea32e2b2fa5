"""/api/task_runs and /api/task_run_states: create, read, filter, count, delete,
propose states, the state history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from legato.client.schemas.actions import TaskRunCreate
from legato.client.schemas.objects import OrchestrationResult, State, TaskRun
from legato.client.schemas.sorting import TaskRunSort
from legato.orchestration import task_runs
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
)

router = APIRouter(prefix="/task_runs", tags=["Task runs"])
states_router = APIRouter(prefix="/task_run_states", tags=["Task run states"])

_NOT_FOUND = not_found_response("No task run has this id")


class TaskRunFilterBody(FlowRunReadBody):
    sort: TaskRunSort | None = None
    limit: Limit = 200
    offset: Offset = 0


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": TaskRun, "description": "The same task run existed"}},
)
def create_task_run(body: TaskRunCreate, response: Response, store: StoreDependency) -> TaskRun:
    """Create a task run: 201; the existing one for the same flow run, task key and
    dynamic key (or id): 200."""
    row, created = store.write(lambda c: task_runs.create_task_run(c, body))
    if not created:
        response.status_code = status.HTTP_200_OK
    return TaskRun.from_row(row)


@router.post("/filter")
def read_task_runs(store: StoreDependency, body: TaskRunFilterBody | None = None) -> list[TaskRun]:
    """Task runs matching the filters, one page (default order: newest first)."""
    body = body or TaskRunFilterBody()
    rows = store.read(
        lambda c: task_runs.filter_task_runs(
            c, **body.filters(), sort=body.sort, limit=body.limit, offset=body.offset
        )
    )
    return [TaskRun.from_row(row) for row in rows]


@router.post("/count")
def count_task_runs(store: StoreDependency, body: CountBody | None = None) -> int:
    """How many task runs match."""
    body = body or CountBody()
    return store.read(lambda c: task_runs.count_task_runs(c, **body.filters()))


@router.get("/{task_run_id}", responses=_NOT_FOUND)
def read_task_run(task_run_id: uuid.UUID, store: StoreDependency) -> TaskRun:
    """One task run."""
    row = store.read(lambda c: task_runs.read_task_run(c, task_run_id))
    if row is None:
        raise not_found("task run", task_run_id)
    return TaskRun.from_row(row)


@router.delete("/{task_run_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_task_run(task_run_id: uuid.UUID, store: StoreDependency) -> None:
    """Delete a task run with its states and logs."""
    if not store.write(lambda c: task_runs.delete_task_run(c, task_run_id)):
        raise not_found("task run", task_run_id)


@router.post("/{task_run_id}/set_state", responses={**_NOT_FOUND, **ACCEPTED})
def set_task_run_state(
    task_run_id: uuid.UUID, body: SetStateBody, response: Response, store: StoreDependency
) -> OrchestrationResult:
    """Propose a state; the transition table decides (201 when accepted, 200 otherwise)."""
    return propose_state(store, "task_run", task_run_id, body, response)


@states_router.get("/")
def read_task_run_states(task_run_id: uuid.UUID, store: StoreDependency) -> list[State]:
    """A task run's state history, oldest first."""
    return read_run_states(store, "task_run", task_run_id)


@states_router.get("/{state_id}", responses={404: {"description": "No state has this id"}})
def read_task_run_state(state_id: uuid.UUID, store: StoreDependency) -> State:
    """One state of a task run."""
    return read_run_state(store, state_id)
