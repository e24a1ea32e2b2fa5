"""Request bodies: what a client sends to create or change an object (Prefect 3's names)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from legato.client.schemas._base import LegatoBaseModel
from legato.client.schemas._deployments import (
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentScheduleCreate,
    DeploymentScheduleUpdate,
    DeploymentUpdate,
)
from legato.client.schemas._work_pools import (
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from legato.client.schemas.concurrency import (
    ConcurrencyLimitCreate,
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from legato.client.schemas.objects import (
    FlowRunPolicy,
    State,
    StateDetails,
    TaskInput,
    TaskRunPolicy,
)
from legato.states import StateType

if TYPE_CHECKING:
    from legato import states as engine_states

__all__ = [
    "ArtifactCreate",
    "ArtifactUpdate",
    "ConcurrencyLimitCreate",
    "DeploymentCreate",
    "DeploymentFlowRunCreate",
    "DeploymentScheduleCreate",
    "DeploymentScheduleUpdate",
    "DeploymentUpdate",
    "FlowCreate",
    "Int32",
    "FlowRunCreate",
    "FlowRunInputCreate",
    "FlowRunUpdate",
    "GlobalConcurrencyLimitCreate",
    "GlobalConcurrencyLimitUpdate",
    "LogCreate",
    "ResumeFlowRun",
    "StateCreate",
    "TaskRunCreate",
    "VariableCreate",
    "VariableUpdate",
    "WorkPoolCreate",
    "WorkPoolUpdate",
    "WorkQueueCreate",
    "WorkQueueUpdate",
]


# Integers the store keeps in 32 bits (a larger one is refused with 422, not stored).
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class ActionBaseModel(LegatoBaseModel):
    """A request body: unknown fields are ignored, like Prefect's client objects."""


class StateCreate(ActionBaseModel):
    """A proposed state: its type, and optionally a name, message and result metadata."""

    type: StateType
    name: str | None = None
    message: str | None = None
    data: Any = Field(default=None, description="A persisted result's metadata, or null.")
    state_details: StateDetails = Field(default_factory=StateDetails)

    @classmethod
    def from_state(cls, state: engine_states.State | State | StateCreate) -> StateCreate:
        """The proposal for an engine state (or an API State)."""
        if isinstance(state, StateCreate):
            return state
        api_state = state if isinstance(state, State) else State.from_state(state)
        return cls(
            type=api_state.type,
            name=api_state.name,
            message=api_state.message,
            data=api_state.data,
            state_details=api_state.state_details,
        )


class FlowCreate(ActionBaseModel):
    """Create a flow, or get the one with this name."""

    name: str = Field(min_length=1, max_length=1000)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)


class FlowRunCreate(ActionBaseModel):
    """Create a flow run of an existing flow."""

    flow_id: uuid.UUID
    name: str | None = Field(default=None, max_length=1000)
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: uuid.UUID | None = None
    state: StateCreate | None = None
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(
        default=None,
        max_length=1000,
        description="A run of this flow with this key exists already: it is returned instead.",
    )
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    deployment_id: uuid.UUID | None = None
    work_pool_name: str | None = Field(
        default=None, description="The work pool whose workers run it (its queue: work_queue_name)."
    )
    work_queue_name: str | None = Field(
        default=None, description="A queue of work_pool_name (default: the pool's default queue)."
    )
    job_variables: dict[str, Any] | None = None


class FlowRunUpdate(ActionBaseModel):
    """Change a flow run's fields; unset fields keep their value."""

    name: str | None = Field(default=None, max_length=1000)
    flow_version: str | None = None
    parameters: dict[str, Any] | None = None
    tags: list[str] | None = None
    empirical_policy: FlowRunPolicy | None = None
    infrastructure_pid: str | None = None
    job_variables: dict[str, Any] | None = None


class TaskRunCreate(ActionBaseModel):
    """Create a task run (or get the one with the same flow run, task key and dynamic key)."""

    id: uuid.UUID | None = None
    name: str = Field(max_length=1000)
    flow_run_id: uuid.UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)
    task_inputs: dict[str, list[TaskInput]] = Field(default_factory=dict)
    state: StateCreate | None = None


class LogCreate(ActionBaseModel):
    """One log line for a flow run and/or a task run."""

    name: str
    level: Int32
    message: str
    timestamp: dt.datetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None


class ArtifactCreate(ActionBaseModel):
    """Publish an artifact."""

    key: str | None = None
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class ArtifactUpdate(ActionBaseModel):
    """Change an artifact's data or description."""

    data: Any = None
    description: str | None = None
    metadata_: dict[str, str] | None = None


class VariableCreate(ActionBaseModel):
    """Create a variable."""

    name: str
    value: Any = None
    tags: list[str] | None = None


class VariableUpdate(ActionBaseModel):
    """Change a variable's value or tags; unset fields keep theirs."""

    name: str | None = None
    value: Any = None
    tags: list[str] | None = None


# DeploymentFlowRunCreate.state is a StateCreate, defined above (see _deployments).
DeploymentFlowRunCreate.model_rebuild(_types_namespace={"StateCreate": StateCreate})
from legato.client.schemas._flow_run_inputs import FlowRunInputCreate, ResumeFlowRun  # noqa: E402
