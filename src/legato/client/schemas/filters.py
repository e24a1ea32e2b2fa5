"""Filters for reading flows, runs, logs, artifacts and variables (Prefect 3's shapes).

A filter is a tree of small models whose fields end in ``_``: ``any_`` (one
of these values), ``not_any_``, ``all_`` (tags), ``like_`` (case-insensitive
substring), ``before_``/``after_`` (inclusive time bounds), ``ge_``/``le_``,
``is_null_``, ``exists_``. Unset fields do not filter; the set ones are
combined with ``operator`` (``and_`` by default)::

    FlowRunFilter(
        tags=FlowRunFilterTags(all_=["nightly"]),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.FAILED])),
    )

The sort orders live in ``legato.client.schemas.sorting`` and are re-exported
here.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from legato.client.schemas._base import FilterBaseModel, Operator, OperatorFilter
from legato.client.schemas._deployments import (
    DeploymentFilter,
    DeploymentFilterConcurrencyLimit,
    DeploymentFilterFlowOrDeploymentName,
    DeploymentFilterId,
    DeploymentFilterName,
    DeploymentFilterPaused,
    DeploymentFilterTags,
    DeploymentFilterWorkPoolName,
    DeploymentFilterWorkQueueName,
    DeploymentSort,
)
from legato.client.schemas._work_pools import (
    WorkerFilter,
    WorkerFilterLastHeartbeatTime,
    WorkerFilterStatus,
    WorkPoolFilter,
    WorkPoolFilterId,
    WorkPoolFilterName,
    WorkPoolFilterType,
    WorkQueueFilter,
    WorkQueueFilterId,
    WorkQueueFilterName,
)
from legato.client.schemas.sorting import (
    ArtifactSort,
    FlowRunSort,
    FlowSort,
    LogSort,
    TaskRunSort,
    VariableSort,
)
from legato.states import StateType

__all__ = [
    "DeploymentFilter",
    "DeploymentFilterConcurrencyLimit",
    "DeploymentFilterFlowOrDeploymentName",
    "DeploymentFilterId",
    "DeploymentFilterName",
    "DeploymentFilterPaused",
    "DeploymentFilterTags",
    "DeploymentFilterWorkPoolName",
    "DeploymentFilterWorkQueueName",
    "DeploymentSort",
    "ArtifactFilter",
    "ArtifactFilterFlowRunId",
    "ArtifactFilterId",
    "ArtifactFilterKey",
    "ArtifactFilterTaskRunId",
    "ArtifactFilterType",
    "ArtifactSort",
    "FlowFilter",
    "FlowFilterId",
    "FlowFilterName",
    "FlowFilterTags",
    "FlowRunFilter",
    "FlowRunFilterDeploymentId",
    "FlowRunFilterEndTime",
    "FlowRunFilterExpectedStartTime",
    "FlowRunFilterFlowVersion",
    "FlowRunFilterId",
    "FlowRunFilterIdempotencyKey",
    "FlowRunFilterName",
    "FlowRunFilterParentFlowRunId",
    "FlowRunFilterParentTaskRunId",
    "FlowRunFilterStartTime",
    "FlowRunFilterState",
    "FlowRunFilterStateName",
    "FlowRunFilterStateType",
    "FlowRunFilterTags",
    "FlowRunFilterWorkPoolName",
    "FlowRunFilterWorkQueueName",
    "FlowRunSort",
    "FlowSort",
    "LogFilter",
    "LogFilterFlowRunId",
    "LogFilterLevel",
    "LogFilterName",
    "LogFilterTaskRunId",
    "LogFilterTimestamp",
    "LogSort",
    "Operator",
    "TaskRunFilter",
    "TaskRunFilterExpectedStartTime",
    "TaskRunFilterFlowRunId",
    "TaskRunFilterId",
    "TaskRunFilterName",
    "TaskRunFilterStartTime",
    "TaskRunFilterState",
    "TaskRunFilterStateName",
    "TaskRunFilterStateType",
    "TaskRunFilterSubFlowRuns",
    "TaskRunFilterTags",
    "TaskRunSort",
    "VariableFilter",
    "VariableFilterId",
    "VariableFilterName",
    "VariableFilterTags",
    "VariableSort",
    "WorkPoolFilter",
    "WorkPoolFilterId",
    "WorkPoolFilterName",
    "WorkPoolFilterType",
    "WorkQueueFilter",
    "WorkQueueFilterId",
    "WorkQueueFilterName",
    "WorkerFilter",
    "WorkerFilterLastHeartbeatTime",
    "WorkerFilterStatus",
]


# -- flows


class FlowFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class FlowFilterName(FilterBaseModel):
    any_: list[str] | None = None
    like_: str | None = None


class FlowFilterTags(OperatorFilter):
    all_: list[str] | None = None
    is_null_: bool | None = None


class FlowFilter(OperatorFilter):
    id: FlowFilterId | None = None
    name: FlowFilterName | None = None
    tags: FlowFilterTags | None = None


# -- flow runs


class FlowRunFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None
    not_any_: list[uuid.UUID] | None = None


class FlowRunFilterName(FilterBaseModel):
    any_: list[str] | None = None
    like_: str | None = None


class FlowRunFilterTags(OperatorFilter):
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilterStateType(FilterBaseModel):
    any_: list[StateType] | None = None
    not_any_: list[StateType] | None = None


class FlowRunFilterStateName(FilterBaseModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class FlowRunFilterState(OperatorFilter):
    type: FlowRunFilterStateType | None = None
    name: FlowRunFilterStateName | None = None


class FlowRunFilterFlowVersion(FilterBaseModel):
    any_: list[str] | None = None


class FlowRunFilterStartTime(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None
    is_null_: bool | None = None


class FlowRunFilterEndTime(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None
    is_null_: bool | None = None


class FlowRunFilterExpectedStartTime(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class FlowRunFilterParentFlowRunId(OperatorFilter):
    any_: list[uuid.UUID] | None = None


class FlowRunFilterParentTaskRunId(OperatorFilter):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class FlowRunFilterDeploymentId(OperatorFilter):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class FlowRunFilterWorkPoolName(FilterBaseModel):
    """legato: runs placed in these work pools."""

    any_: list[str] | None = None


class FlowRunFilterWorkQueueName(OperatorFilter):
    any_: list[str] | None = None
    is_null_: bool | None = None


class FlowRunFilterIdempotencyKey(FilterBaseModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class FlowRunFilter(OperatorFilter):
    id: FlowRunFilterId | None = None
    name: FlowRunFilterName | None = None
    tags: FlowRunFilterTags | None = None
    state: FlowRunFilterState | None = None
    flow_version: FlowRunFilterFlowVersion | None = None
    start_time: FlowRunFilterStartTime | None = None
    end_time: FlowRunFilterEndTime | None = None
    expected_start_time: FlowRunFilterExpectedStartTime | None = None
    parent_flow_run_id: FlowRunFilterParentFlowRunId | None = None
    parent_task_run_id: FlowRunFilterParentTaskRunId | None = None
    deployment_id: FlowRunFilterDeploymentId | None = None
    work_pool_name: FlowRunFilterWorkPoolName | None = None
    work_queue_name: FlowRunFilterWorkQueueName | None = None
    idempotency_key: FlowRunFilterIdempotencyKey | None = None


# -- task runs


class TaskRunFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class TaskRunFilterName(FilterBaseModel):
    any_: list[str] | None = None
    like_: str | None = None


class TaskRunFilterTags(OperatorFilter):
    all_: list[str] | None = None
    is_null_: bool | None = None


class TaskRunFilterStateType(FilterBaseModel):
    any_: list[StateType] | None = None


class TaskRunFilterStateName(FilterBaseModel):
    any_: list[str] | None = None


class TaskRunFilterState(OperatorFilter):
    type: TaskRunFilterStateType | None = None
    name: TaskRunFilterStateName | None = None


class TaskRunFilterSubFlowRuns(FilterBaseModel):
    exists_: bool | None = None


class TaskRunFilterStartTime(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None
    is_null_: bool | None = None


class TaskRunFilterExpectedStartTime(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class TaskRunFilterFlowRunId(OperatorFilter):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class TaskRunFilter(OperatorFilter):
    id: TaskRunFilterId | None = None
    name: TaskRunFilterName | None = None
    tags: TaskRunFilterTags | None = None
    state: TaskRunFilterState | None = None
    start_time: TaskRunFilterStartTime | None = None
    expected_start_time: TaskRunFilterExpectedStartTime | None = None
    subflow_runs: TaskRunFilterSubFlowRuns | None = None
    flow_run_id: TaskRunFilterFlowRunId | None = None


# -- logs


class LogFilterName(FilterBaseModel):
    any_: list[str] | None = None


class LogFilterLevel(FilterBaseModel):
    ge_: int | None = None
    le_: int | None = None


class LogFilterTimestamp(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None
    after_exclusive_: float | None = Field(
        default=None,
        description=(
            "legato: POSIX seconds; lines strictly later, at microsecond resolution "
            "(for following a run's logs)."
        ),
    )


class LogFilterFlowRunId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class LogFilterTaskRunId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class LogFilter(OperatorFilter):
    name: LogFilterName | None = None
    level: LogFilterLevel | None = None
    timestamp: LogFilterTimestamp | None = None
    flow_run_id: LogFilterFlowRunId | None = None
    task_run_id: LogFilterTaskRunId | None = None


# -- artifacts and variables


class ArtifactFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class ArtifactFilterKey(FilterBaseModel):
    any_: list[str] | None = None
    like_: str | None = None
    exists_: bool | None = None


class ArtifactFilterFlowRunId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class ArtifactFilterTaskRunId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class ArtifactFilterType(FilterBaseModel):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class ArtifactFilter(OperatorFilter):
    id: ArtifactFilterId | None = None
    key: ArtifactFilterKey | None = None
    flow_run_id: ArtifactFilterFlowRunId | None = None
    task_run_id: ArtifactFilterTaskRunId | None = None
    type: ArtifactFilterType | None = None


class VariableFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class VariableFilterName(FilterBaseModel):
    any_: list[str] | None = None
    like_: str | None = None


class VariableFilterTags(OperatorFilter):
    all_: list[str] | None = None
    is_null_: bool | None = None


class VariableFilter(OperatorFilter):
    id: VariableFilterId | None = None
    name: VariableFilterName | None = None
    tags: VariableFilterTags | None = None
