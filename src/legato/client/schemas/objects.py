"""The objects the API returns: flows, runs, states, logs, artifacts, variables.

Pydantic models with Prefect 3's names and fields (``legato.client.schemas``
mirrors ``prefect.client.schemas``). They are the wire format of the REST API
and what both clients return.

Every object also reads like its storage row: ``run["state_type"]``,
``run.get("flow_name")``, ``dict(run)`` and ``run.items()`` give the columns
of ``legato.storage.records`` (ids as strings, ``total_run_time`` in seconds),
which is how the CLI prints them. ``as_row()`` returns that dict.

``State`` converts to and from the engine's ``legato.states.State``:
``to_state()`` / ``State.from_state()``. A state's ``data`` is where a
persisted result lives (its metadata), so
``flow_run.state.to_state().result()`` reads a persisted result back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from legato.client.schemas._base import (
    LegatoBaseModel,
    ObjectBaseModel,
    Row,
    RowAccess,
    as_text,
)
from legato.client.schemas._deployments import (
    ConcurrencyLimitStrategy,
    ConcurrencyOptions,
    Deployment,
    DeploymentResponse,
    DeploymentSchedule,
    DeploymentStatus,
)
from legato.client.schemas._work_pools import (
    Worker,
    WorkerStatus,
    WorkPool,
    WorkPoolStatus,
    WorkQueue,
    WorkQueueStatus,
)
from legato.client.schemas.concurrency import (
    ConcurrencyAcquisition,
    ConcurrencyLease,
    ConcurrencyLimit,
    GlobalConcurrencyLimit,
    MinimalConcurrencyLimitResponse,
)
from legato.states import StateType
from legato.storage.records import FLOW_RUN_ORCHESTRATION_FIELDS

if TYPE_CHECKING:
    from legato import states as engine_states

__all__ = [
    "Artifact",
    "ConcurrencyAcquisition",
    "ConcurrencyLease",
    "ConcurrencyLimit",
    "ConcurrencyLimitStrategy",
    "ConcurrencyOptions",
    "Constant",
    "DependencyResult",
    "Deployment",
    "DeploymentResponse",
    "DeploymentSchedule",
    "DeploymentStatus",
    "Flow",
    "FlowRun",
    "FlowRunInput",
    "FlowRunPolicy",
    "FlowRunResult",
    "GlobalConcurrencyLimit",
    "Log",
    "MinimalConcurrencyLimitResponse",
    "ObjectBaseModel",
    "OrchestrationResult",
    "Parameter",
    "SetStateStatus",
    "State",
    "StateAbortDetails",
    "StateAcceptDetails",
    "StateDetails",
    "StateRejectDetails",
    "StateType",
    "StateWaitDetails",
    "TaskRun",
    "TaskRunPolicy",
    "TaskRunResult",
    "Variable",
    "WorkPool",
    "WorkPoolStatus",
    "WorkQueue",
    "WorkQueueStatus",
    "Worker",
    "WorkerFlowRunResponse",
    "WorkerStatus",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- states -------------------------------------------------------------------


class StateDetails(LegatoBaseModel):
    """Ids and options a state carries besides its type."""

    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    child_flow_run_id: uuid.UUID | None = None
    scheduled_time: dt.datetime | None = None
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    untrackable_result: bool = False
    pause_timeout: dt.datetime | None = None
    pause_reschedule: bool = False
    pause_key: str | None = None
    run_input_keyset: dict[str, str] | None = None
    retriable: bool | None = None
    transition_id: uuid.UUID | None = None

    @classmethod
    def from_stored(cls, stored: Any, flow_run_id: Any, task_run_id: Any) -> StateDetails:
        """The details of a ``states`` row: its ``state_details`` JSON and run ids."""
        values = dict(stored) if isinstance(stored, Mapping) else {}
        return cls(**{**values, "flow_run_id": flow_run_id, "task_run_id": task_run_id})

    def to_stored(self) -> dict[str, Any] | None:
        """The details the ``state_details`` table keeps (a pause's); None when none is set."""
        stored = self.model_dump(mode="json", exclude_defaults=True, include=_STORED_DETAILS)
        return stored or None


# The details no run column holds, kept in the ``state_details`` table.
_STORED_DETAILS = {"pause_timeout", "pause_key", "pause_reschedule", "run_input_keyset"}


class State(RowAccess, LegatoBaseModel, Mapping[str, Any]):  # type: ignore[misc]
    """A run's state as the API returns it (the engine's is ``legato.states.State``)."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: StateType
    name: str | None = None
    timestamp: dt.datetime = Field(default_factory=_now)
    message: str | None = None
    data: Any = Field(
        default=None, description="Where a persisted result lives (its metadata), or null."
    )
    state_details: StateDetails = Field(default_factory=StateDetails)

    @classmethod
    def from_state(cls, state: engine_states.State) -> State:
        """The API form of an engine state; ``data`` is its persisted result's metadata."""
        details = state.state_details
        return cls(
            type=state.type,
            name=state.name,
            timestamp=state.timestamp,
            message=state.message,
            data=state.result_ref,
            state_details=StateDetails(
                flow_run_id=_optional_uuid(details.flow_run_id),
                task_run_id=_optional_uuid(details.task_run_id),
                scheduled_time=details.scheduled_time,
                cache_key=details.cache_key,
                cache_expiration=details.cache_expiration,
                untrackable_result=bool(details.untrackable_result),
                pause_timeout=details.pause_timeout,
                pause_key=details.pause_key,
                pause_reschedule=bool(details.pause_reschedule),
                run_input_keyset=details.run_input_keyset,
                retriable=details.retriable,
            ),
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> State:
        """A ``states`` row as a State."""
        return cls(
            id=row["id"] or uuid.uuid4(),
            type=row["type"],
            name=row["name"],
            timestamp=row["timestamp"],
            message=row["message"],
            data=row.get("data"),
            state_details=StateDetails.from_stored(
                row.get("state_details"), row.get("flow_run_id"), row.get("task_run_id")
            ),
        )

    def to_state(self) -> engine_states.State:
        """The engine's State; a persisted result is read back by ``.result()``."""
        from legato import states as engine_states

        details = engine_states.StateDetails(
            flow_run_id=self.state_details.flow_run_id,
            task_run_id=self.state_details.task_run_id,
            scheduled_time=self.state_details.scheduled_time,
            cache_key=self.state_details.cache_key,
            cache_expiration=self.state_details.cache_expiration,
            pause_timeout=self.state_details.pause_timeout,
            pause_key=self.state_details.pause_key,
            pause_reschedule=self.state_details.pause_reschedule,
            run_input_keyset=self.state_details.run_input_keyset,
            retriable=self.state_details.retriable,
        )
        state = engine_states.State(
            type=self.type,
            name=self.name,
            message=self.message,
            state_details=details,
            timestamp=self.timestamp,
        )
        if isinstance(self.data, dict):
            state.result_ref = self.data
        return state

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's result (read from storage when persisted), or its error."""
        return self.to_state().result(raise_on_failure=raise_on_failure)

    def is_final(self) -> bool:
        """True for COMPLETED, FAILED, CRASHED and CANCELLED."""
        return self.type in (
            StateType.COMPLETED,
            StateType.FAILED,
            StateType.CRASHED,
            StateType.CANCELLED,
        )

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def as_row(self) -> Row:
        """The state as a ``states`` row."""
        return {
            "id": str(self.id),
            "flow_run_id": as_text(self.state_details.flow_run_id),
            "task_run_id": as_text(self.state_details.task_run_id),
            "type": self.type.value,
            "name": self.name,
            "message": self.message,
            "timestamp": self.timestamp,
            "data": self.data,
        }

    def __str__(self) -> str:
        name = self.name or self.type.value.capitalize()
        return f"{name}({self.message!r})" if self.message else f"{name}()"


def _optional_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _run_state(row: Mapping[str, Any], run_key: str) -> State | None:
    """The current state of a run row (its state_* columns and latest state row)."""
    if row.get("state_type") is None:
        return None
    return State(
        id=row.get("state_id") or uuid.uuid4(),
        type=row["state_type"],
        name=row.get("state_name"),
        timestamp=row.get("state_timestamp") or row.get("updated") or _now(),
        message=row.get("state_message"),
        data=row.get("state_data"),
        state_details=StateDetails.from_stored(
            row.get("state_details"),
            row["id"] if run_key == "flow_run_id" else None,
            row["id"] if run_key == "task_run_id" else None,
        ),
    )


def _run_fields(row: Mapping[str, Any], copied: tuple[str, ...], run_key: str) -> Row:
    """A run model's fields from its row: the ``copied`` columns, the state, the run time."""
    return {
        **{key: row[key] for key in copied if key in row},
        "state_id": row.get("state_id"),
        "total_run_time": dt.timedelta(seconds=row.get("total_run_time") or 0.0),
        "state": _run_state(row, run_key),
    }


def _state_columns(run: FlowRun | TaskRun) -> Row:
    state = run.state
    return {
        "state_type": None if run.state_type is None else run.state_type.value,
        "state_name": run.state_name,
        "state_message": None if state is None else state.message,
        "state_timestamp": None if state is None else state.timestamp,
        "total_run_time": run.total_run_time.total_seconds(),
    }


# -- flows and runs -------------------------------------------------------------


class Flow(ObjectBaseModel):
    """A flow: the name runs are grouped by."""

    name: str
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Flow:
        return cls(id=row["id"], name=row["name"], created=row["created"], updated=row["updated"])

    def as_row(self) -> Row:
        return {
            "id": str(self.id),
            "name": self.name,
            "created": self.created,
            "updated": self.updated,
        }


class FlowRunPolicy(LegatoBaseModel):
    """How a flow run retries."""

    retries: int | None = None
    retry_delay: int | None = None
    pause_keys: set[str] | None = Field(default_factory=set)
    resuming: bool | None = False


class TaskRunPolicy(LegatoBaseModel):
    """How a task run retries."""

    retries: int | None = None
    retry_delay: float | list[float] | None = None
    retry_jitter_factor: float | None = None


class FlowRun(ObjectBaseModel):
    """One run of a flow."""

    name: str
    flow_id: uuid.UUID
    state_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None
    deployment_version: str | None = None
    work_queue_name: str | None = None
    work_queue_id: uuid.UUID | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    empirical_policy: FlowRunPolicy = Field(default_factory=FlowRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: uuid.UUID | None = None
    parent_flow_run_id: uuid.UUID | None = Field(
        default=None, description="legato: the flow run this one is a subflow run of."
    )
    run_count: int = 0
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: dt.timedelta = dt.timedelta(0)
    estimated_run_time: dt.timedelta = dt.timedelta(0)
    estimated_start_time_delta: dt.timedelta = dt.timedelta(0)
    auto_scheduled: bool = False
    infrastructure_pid: str | None = None
    work_pool_name: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)
    state: State | None = None
    state_type: StateType | None = None
    state_name: str | None = None
    flow_name: str | None = Field(default=None, description="legato: the flow's name.")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FlowRun:
        """A ``flow_runs`` row (with ``flow_name``, ``state_id``, ``state_data``)."""
        return cls(**_run_fields(row, _FLOW_RUN_COPIED, "flow_run_id"))

    def as_row(self) -> Row:
        """The run as a ``flow_runs`` row with ``flow_name``."""
        row = {key: getattr(self, key) for key in _FLOW_RUN_COPIED}
        for key in _FLOW_RUN_IDS:
            row[key] = as_text(row[key])
        row.update(_state_columns(self))
        return {key: row.get(key) for key in _FLOW_RUN_ROW_KEYS}


# What a flow run row and a FlowRun share under the same name.
_FLOW_RUN_COPIED = (
    "id",
    "flow_id",
    "name",
    "flow_version",
    "parameters",
    "tags",
    "run_count",
    "parent_flow_run_id",
    "parent_task_run_id",
    "state_type",
    "state_name",
    "expected_start_time",
    "start_time",
    "end_time",
    "created",
    "updated",
    "flow_name",
    *FLOW_RUN_ORCHESTRATION_FIELDS,
)
_FLOW_RUN_IDS = (
    "id",
    "flow_id",
    "parent_flow_run_id",
    "parent_task_run_id",
    "deployment_id",
    "work_queue_id",
)
_FLOW_RUN_ROW_KEYS = (
    "id",
    "flow_id",
    "name",
    "flow_version",
    "parameters",
    "tags",
    "run_count",
    "parent_flow_run_id",
    "parent_task_run_id",
    "state_type",
    "state_name",
    "state_message",
    "state_timestamp",
    "expected_start_time",
    "start_time",
    "end_time",
    "total_run_time",
    "created",
    "updated",
    *FLOW_RUN_ORCHESTRATION_FIELDS,
    "flow_name",
)


class WorkerFlowRunResponse(LegatoBaseModel):
    """A scheduled flow run a worker may start, with the pool and queue it came from."""

    work_pool_id: uuid.UUID
    work_queue_id: uuid.UUID
    flow_run: FlowRun


class TaskRunResult(LegatoBaseModel):
    """A task run input that is another task run's result."""

    input_type: Literal["task_run"] = "task_run"
    id: uuid.UUID


class FlowRunResult(LegatoBaseModel):
    """A task run input that is a flow run's result."""

    input_type: Literal["flow_run"] = "flow_run"
    id: uuid.UUID


class Parameter(LegatoBaseModel):
    """A task run input that is a flow parameter."""

    input_type: Literal["parameter"] = "parameter"
    name: str


class Constant(LegatoBaseModel):
    """A task run input that is a constant of some type."""

    input_type: Literal["constant"] = "constant"
    type: str


TaskInput = Annotated[
    TaskRunResult | FlowRunResult | Parameter | Constant, Field(discriminator="input_type")
]


class TaskRun(ObjectBaseModel):
    """One run of a task."""

    name: str
    flow_run_id: uuid.UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    cache_expiration: dt.datetime | None = None
    task_version: str | None = None
    empirical_policy: TaskRunPolicy = Field(default_factory=TaskRunPolicy)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)
    state_id: uuid.UUID | None = None
    task_inputs: dict[str, list[TaskInput]] = Field(default_factory=dict)
    state_type: StateType | None = None
    state_name: str | None = None
    run_count: int = 0
    flow_run_run_count: int = 0
    expected_start_time: dt.datetime | None = None
    next_scheduled_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: dt.timedelta = dt.timedelta(0)
    estimated_run_time: dt.timedelta = dt.timedelta(0)
    estimated_start_time_delta: dt.timedelta = dt.timedelta(0)
    state: State | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TaskRun:
        """A ``task_runs`` row (with ``state_id`` and ``state_data``)."""
        return cls(**_run_fields(row, _TASK_RUN_COPIED, "task_run_id"))

    def upstream_ids(self) -> list[uuid.UUID]:
        """The ids of the task runs this one's inputs came from."""
        return [
            item.id
            for items in self.task_inputs.values()
            for item in items
            if isinstance(item, TaskRunResult)
        ]

    def as_row(self) -> Row:
        """The run as a ``task_runs`` row."""
        row = {key: getattr(self, key) for key in _TASK_RUN_COPIED}
        row["id"], row["flow_run_id"] = str(self.id), as_text(self.flow_run_id)
        row["task_inputs"] = {
            name: [item.model_dump(mode="json") for item in items]
            for name, items in self.task_inputs.items()
        }
        row.update(_state_columns(self))
        return {key: row.get(key) for key in _TASK_RUN_ROW_KEYS}


_TASK_RUN_COPIED = (
    "id",
    "flow_run_id",
    "name",
    "task_key",
    "dynamic_key",
    "task_version",
    "cache_key",
    "tags",
    "task_inputs",
    "run_count",
    "state_type",
    "state_name",
    "expected_start_time",
    "start_time",
    "end_time",
    "created",
    "updated",
)
_TASK_RUN_ROW_KEYS = (
    "id",
    "flow_run_id",
    "name",
    "task_key",
    "dynamic_key",
    "task_version",
    "cache_key",
    "tags",
    "task_inputs",
    "run_count",
    "state_type",
    "state_name",
    "state_message",
    "state_timestamp",
    "expected_start_time",
    "start_time",
    "end_time",
    "total_run_time",
    "created",
    "updated",
)


class DependencyResult(LegatoBaseModel):
    """One task run of a flow run's graph, with the task runs it depends on."""

    id: uuid.UUID
    name: str
    upstream_dependencies: list[TaskRunResult]
    state: State | None = None
    expected_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: dt.timedelta | None = None
    estimated_run_time: dt.timedelta | None = None
    untrackable_result: bool = False

    @classmethod
    def from_task_run(cls, task_run: TaskRun) -> DependencyResult:
        """A task run as a node of its flow run's graph."""
        return cls(
            id=task_run.id,
            name=task_run.name,
            upstream_dependencies=[TaskRunResult(id=id_) for id_ in task_run.upstream_ids()],
            state=task_run.state,
            expected_start_time=task_run.expected_start_time,
            start_time=task_run.start_time,
            end_time=task_run.end_time,
            total_run_time=task_run.total_run_time,
            estimated_run_time=task_run.estimated_run_time,
        )


# -- logs, artifacts, variables ---------------------------------------------------


class Log(ObjectBaseModel):
    """One run log line."""

    name: str
    level: int
    message: str
    timestamp: dt.datetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Log:
        return cls(**row, created=row["timestamp"], updated=row["timestamp"])

    def as_row(self) -> Row:
        """The line as a ``logs`` row."""
        return {
            "id": str(self.id),
            "flow_run_id": as_text(self.flow_run_id),
            "task_run_id": as_text(self.task_run_id),
            "name": self.name,
            "level": self.level,
            "message": self.message,
            "timestamp": self.timestamp,
        }


class Artifact(ObjectBaseModel):
    """A result a run published: a table, markdown, a link, a progress value..."""

    key: str | None = None
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Artifact:
        values = dict(row)
        if "metadata" in values and "metadata_" not in values:
            values["metadata_"] = values.pop("metadata")
        return cls.model_validate(values)


class Variable(ObjectBaseModel):
    """A named JSON value (``legato.variables``)."""

    name: str
    value: Any = None
    tags: list[str] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Variable:
        return cls.model_validate(dict(row))


# -- orchestration results ----------------------------------------------------------


class SetStateStatus(StrEnum):
    """What became of a proposed state."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    ABORT = "ABORT"
    WAIT = "WAIT"


class StateAcceptDetails(LegatoBaseModel):
    type: Literal["accept_details"] = "accept_details"


class StateRejectDetails(LegatoBaseModel):
    type: Literal["reject_details"] = "reject_details"
    reason: str | None = None


class StateAbortDetails(LegatoBaseModel):
    type: Literal["abort_details"] = "abort_details"
    reason: str | None = None


class StateWaitDetails(LegatoBaseModel):
    type: Literal["wait_details"] = "wait_details"
    delay_seconds: int
    reason: str | None = None


StateDetailsUnion = Annotated[
    StateAcceptDetails | StateRejectDetails | StateAbortDetails | StateWaitDetails,
    Field(discriminator="type"),
]


class OrchestrationResult(LegatoBaseModel):
    """The answer to ``set_*_run_state``: the status, the run's state now, and why."""

    state: State | None = None
    status: SetStateStatus
    details: StateDetailsUnion = Field(default_factory=StateAcceptDetails)


# Schemas kept in modules of their own, importable from here as in Prefect
# (imported last: they build on the classes above).
from legato.client.schemas._flow_run_inputs import FlowRunInput  # noqa: E402
