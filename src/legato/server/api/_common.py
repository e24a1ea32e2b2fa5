"""What the routers share: the store of the request's app, paging bounds, body models."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from legato.client.schemas import filters as f
from legato.client.schemas.actions import StateCreate
from legato.client.schemas.objects import OrchestrationResult, State
from legato.exceptions import ObjectNotFound
from legato.orchestration import states
from legato.orchestration.states import RunKind
from legato.orchestration.store import Store
from legato.settings import Settings

__all__ = [
    "MAX_LIMIT",
    "CountBody",
    "FlowRunReadBody",
    "SetStateBody",
    "SettingsDependency",
    "Limit",
    "Offset",
    "StoreDependency",
    "not_found",
    "not_found_response",
    "read_run_state",
    "read_run_states",
]

T = TypeVar("T")

MAX_LIMIT = 200
"""The most objects one read returns; ``limit`` above it is refused (422)."""

Limit = Annotated[
    int, Field(ge=0, le=MAX_LIMIT, description=f"Most objects to return (at most {MAX_LIMIT}).")
]
Offset = Annotated[int, Field(ge=0, le=2**31 - 1, description="How many matching objects to skip.")]


# Dependencies are coroutines: FastAPI runs a plain function in its thread pool,
# and a thread hop costs more than these lookups (and as much as a SQLite write).
async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDependency = Annotated[Store, Depends(get_store)]
SettingsDependency = Annotated[Settings, Depends(get_settings)]


# A set_state route answers 201 when the state was accepted (a state was created).
ACCEPTED: dict[int | str, dict[str, Any]] = {
    201: {"model": OrchestrationResult, "description": "The proposed state was accepted"}
}


def not_found_response(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry of a route that answers 404."""
    return {404: {"description": description}}


def not_found(kind: str, object_id: Any) -> ObjectNotFound:
    """The 404 for an unknown id."""
    return ObjectNotFound(f"No {kind} with id '{object_id}'.")


class Body(BaseModel):
    """A request body of a filter route: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class FlowRunReadBody(Body):
    """The filters a read of flows, flow runs or task runs accepts (Prefect's keys)."""

    flows: f.FlowFilter | None = None
    flow_runs: f.FlowRunFilter | None = None
    task_runs: f.TaskRunFilter | None = None

    def filters(self) -> dict[str, Any]:
        """The filters as the orchestration functions' keyword arguments."""
        return {
            "flow_filter": self.flows,
            "flow_run_filter": self.flow_runs,
            "task_run_filter": self.task_runs,
        }


class CountBody(FlowRunReadBody):
    """The body of a ``/count`` route."""


class SetStateBody(Body):
    """A proposed state; ``force`` skips the transition table."""

    state: StateCreate
    force: bool = False


async def run_store_work(store: Store, work: Callable[[], T]) -> T:
    """Run a short store call: inline on SQLite, in the thread pool on PostgreSQL.

    A SQLite write takes about as long as handing it to a thread and back, and
    SQLite runs one writer at a time anyway; PostgreSQL calls wait on the
    network, so they leave the event loop free for other requests.
    """
    if store.dialect == "sqlite":
        return work()
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(work)


def propose_state(
    store: Store, kind: RunKind, run_id: uuid.UUID, body: SetStateBody, response: Response
) -> OrchestrationResult:
    """Propose ``body.state`` for a run; 201 when the transition table accepts it."""
    change = store.write(
        lambda c: states.set_run_state(c, kind, run_id, body.state, force=body.force)
    )
    result = states.orchestration_result(change)
    if result.status.value == "ACCEPT":
        response.status_code = status.HTTP_201_CREATED
    return result


def read_run_states(store: Store, kind: RunKind, run_id: uuid.UUID) -> list[State]:
    """A run's state history, oldest first."""
    rows = store.read(lambda c: states.read_run_states(c, kind, run_id))
    return [State.from_row(row) for row in rows]


def read_run_state(store: Store, state_id: uuid.UUID) -> State:
    """One state of a run; 404 for an unknown id."""
    row = store.read(lambda c: states.read_state(c, state_id))
    if row is None:
        raise not_found("state", state_id)
    return State.from_row(row)
