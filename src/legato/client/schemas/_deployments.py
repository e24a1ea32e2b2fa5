"""Deployments and their schedules: objects, request bodies, filters, sorts (Prefect 3's names).

Re-exported from ``objects`` (``DeploymentResponse``, its alias ``Deployment``,
``DeploymentSchedule``, ``ConcurrencyOptions``...), ``actions``
(``DeploymentCreate``, ``DeploymentUpdate``, ``DeploymentScheduleCreate``,
``DeploymentScheduleUpdate``, ``DeploymentFlowRunCreate``) and ``filters``
(``DeploymentFilter`` and its parts, ``DeploymentSort``): users import them
from there.

A schedule travels as the JSON of a ``legato.schedules`` object (``Cron``,
``Interval``, ``RRule``; Prefect's shapes without ``kind`` are read too) and
is that object in Python. A deployment schedule's ``active``,
``parameters`` and ``slug`` are its own fields; the schedule object it reads
back carries the same values.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from legato.client.schemas._base import (
    FilterBaseModel,
    LegatoBaseModel,
    ObjectBaseModel,
    OperatorFilter,
    Row,
)
from legato.schedules import AnySchedule

if TYPE_CHECKING:
    from legato.client.schemas.actions import StateCreate

__all__ = [
    "ConcurrencyLimitStrategy",
    "ConcurrencyOptions",
    "Deployment",
    "DeploymentCreate",
    "DeploymentFilter",
    "DeploymentFilterConcurrencyLimit",
    "DeploymentFilterFlowOrDeploymentName",
    "DeploymentFilterId",
    "DeploymentFilterName",
    "DeploymentFilterPaused",
    "DeploymentFilterTags",
    "DeploymentFilterWorkPoolName",
    "DeploymentFilterWorkQueueName",
    "DeploymentFlowRunCreate",
    "DeploymentResponse",
    "DeploymentSchedule",
    "DeploymentScheduleCreate",
    "DeploymentScheduleUpdate",
    "DeploymentSort",
    "DeploymentStatus",
    "DeploymentUpdate",
    "READY_WITHIN_SECONDS",
]

READY_WITHIN_SECONDS = 60.0
"""A deployment is READY when a worker or serve process polled it this recently."""

# Integers the store keeps in 32 bits.
_Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


# -- schedules ------------------------------------------------------------------------


class DeploymentSchedule(ObjectBaseModel):
    """One schedule of a deployment."""

    deployment_id: uuid.UUID | None = None
    schedule: AnySchedule
    active: bool = True
    max_scheduled_runs: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DeploymentSchedule:
        """A ``deployment_schedules`` row (the schedule gets the row's active, parameters, slug)."""
        values = dict(row)
        values["schedule"] = {
            **row["schedule"],
            "active": row["active"],
            "parameters": row["parameters"],
            "slug": row["slug"],
        }
        return cls.model_validate(values)


class DeploymentScheduleCreate(LegatoBaseModel):
    """A schedule to add to a deployment; ``parameters`` are merged over the deployment's."""

    schedule: AnySchedule
    active: bool = True
    max_scheduled_runs: _Int32 | None = Field(default=None, ge=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None

    @classmethod
    def from_schedule(cls, schedule: Any) -> DeploymentScheduleCreate:
        """A ``legato.schedules`` object, with its own ``active`` flag and ``parameters``."""
        return cls(
            schedule=schedule,
            active=getattr(schedule, "active", True),
            parameters=dict(getattr(schedule, "parameters", None) or {}),
            slug=getattr(schedule, "slug", None),
        )


class DeploymentScheduleUpdate(LegatoBaseModel):
    """Change a deployment schedule; unset fields keep their value."""

    schedule: AnySchedule | None = None
    active: bool | None = None
    max_scheduled_runs: _Int32 | None = Field(default=None, ge=1)
    parameters: dict[str, Any] | None = None
    slug: str | None = None


# -- deployments ----------------------------------------------------------------------


class ConcurrencyLimitStrategy(StrEnum):
    """What a run that finds its deployment's concurrency limit reached does."""

    ENQUEUE = "ENQUEUE"
    CANCEL_NEW = "CANCEL_NEW"


class ConcurrencyOptions(LegatoBaseModel):
    """How a deployment's concurrency limit is applied."""

    collision_strategy: ConcurrencyLimitStrategy = ConcurrencyLimitStrategy.ENQUEUE


class DeploymentStatus(StrEnum):
    """READY when a worker or serve process polled the deployment in the last minute."""

    READY = "READY"
    NOT_READY = "NOT_READY"


class DeploymentResponse(ObjectBaseModel):
    """A deployment: a flow runnable by name, with defaults, placement and schedules."""

    name: str
    flow_id: uuid.UUID
    version: str | None = None
    description: str | None = None
    paused: bool = False
    status: DeploymentStatus = DeploymentStatus.NOT_READY
    schedules: list[DeploymentSchedule] = Field(default_factory=list)
    concurrency_limit: int | None = None
    concurrency_options: ConcurrencyOptions | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    labels: dict[str, Any] = Field(default_factory=dict)
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    last_polled: dt.datetime | None = None
    parameter_openapi_schema: dict[str, Any] | None = None
    path: str | None = None
    pull_steps: list[dict[str, Any]] | None = None
    entrypoint: str | None = None
    enforce_parameter_schema: bool = True
    flow_name: str | None = Field(default=None, description="legato: the flow's name.")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DeploymentResponse:
        """A ``deployments`` row with ``flow_name`` and ``schedules`` (schedule rows)."""
        values = {key: value for key, value in row.items() if key != "collision_strategy"}
        strategy = row.get("collision_strategy")
        if strategy is not None:
            values["concurrency_options"] = {"collision_strategy": strategy}
        values["status"] = _status(row.get("last_polled"))
        values["schedules"] = [DeploymentSchedule.from_row(item) for item in row["schedules"]]
        return cls.model_validate(values)

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name`` (legato)."""
        return f"{self.flow_name}/{self.name}"

    def as_row(self) -> Row:
        row = super().as_row()
        row["schedules"] = [schedule.as_row() for schedule in self.schedules]
        return row


Deployment = DeploymentResponse


def _status(last_polled: dt.datetime | None) -> DeploymentStatus:
    if last_polled is None:
        return DeploymentStatus.NOT_READY
    age = (dt.datetime.now(dt.UTC) - last_polled).total_seconds()
    return DeploymentStatus.READY if age <= READY_WITHIN_SECONDS else DeploymentStatus.NOT_READY


class _DeploymentFields(LegatoBaseModel):
    """What a deployment create and update share."""

    version: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    parameters: dict[str, Any] | None = None
    parameter_openapi_schema: dict[str, Any] | None = None
    enforce_parameter_schema: bool | None = None
    entrypoint: str | None = None
    path: str | None = None
    pull_steps: list[dict[str, Any]] | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None
    schedules: list[DeploymentScheduleCreate] | None = None
    paused: bool | None = None
    concurrency_limit: _Int32 | None = Field(default=None, ge=1)
    concurrency_options: ConcurrencyOptions | None = None


class DeploymentCreate(_DeploymentFields):
    """Create a deployment of a flow, or replace the one with the same flow and name."""

    name: str = Field(min_length=1, max_length=1000)
    flow_id: uuid.UUID
    labels: dict[str, Any] = Field(default_factory=dict)


class DeploymentUpdate(_DeploymentFields):
    """Change a deployment; unset fields keep their value (``schedules`` replaces them all)."""


class DeploymentFlowRunCreate(LegatoBaseModel):
    """Create a flow run of a deployment (``POST /deployments/{id}/create_flow_run``).

    ``state`` is a ``StateCreate`` of ``actions``, which imports this module:
    ``actions`` completes this model (``model_rebuild``); import it from there.
    """

    name: str | None = Field(default=None, max_length=1000)
    parameters: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    state: StateCreate | None = Field(
        default=None, description="The run's first state; default Scheduled, now."
    )
    tags: list[str] = Field(default_factory=list)
    idempotency_key: str | None = Field(default=None, max_length=1000)
    parent_task_run_id: uuid.UUID | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] | None = None
    enforce_parameter_schema: bool | None = None
    labels: dict[str, Any] = Field(default_factory=dict)


# -- filters and sorts --------------------------------------------------------------------


class DeploymentFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class DeploymentFilterName(FilterBaseModel):
    any_: list[str] | None = None
    like_: str | None = None


class DeploymentFilterFlowOrDeploymentName(FilterBaseModel):
    like_: str | None = Field(
        default=None, description="A substring of the flow's name or the deployment's name."
    )


class DeploymentFilterPaused(FilterBaseModel):
    eq_: bool | None = None


class DeploymentFilterTags(OperatorFilter):
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class DeploymentFilterWorkQueueName(FilterBaseModel):
    any_: list[str] | None = None


class DeploymentFilterWorkPoolName(FilterBaseModel):
    any_: list[str] | None = None


class DeploymentFilterConcurrencyLimit(FilterBaseModel):
    ge_: int | None = None
    le_: int | None = None
    is_null_: bool | None = None


class DeploymentFilter(OperatorFilter):
    id: DeploymentFilterId | None = None
    name: DeploymentFilterName | None = None
    flow_or_deployment_name: DeploymentFilterFlowOrDeploymentName | None = None
    paused: DeploymentFilterPaused | None = None
    tags: DeploymentFilterTags | None = None
    work_queue_name: DeploymentFilterWorkQueueName | None = None
    work_pool_name: DeploymentFilterWorkPoolName | None = Field(
        default=None, description="legato: the deployment's work pool."
    )
    concurrency_limit: DeploymentFilterConcurrencyLimit | None = None


class DeploymentSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
