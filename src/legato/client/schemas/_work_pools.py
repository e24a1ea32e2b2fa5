"""Work pools, work queues and workers: the API's objects, request bodies and filters.

Re-exported from ``objects`` (``WorkPool``, ``WorkQueue``, ``Worker`` and
their statuses), ``actions`` (``WorkPoolCreate``, ``WorkPoolUpdate``,
``WorkQueueCreate``, ``WorkQueueUpdate``) and ``filters`` (``WorkPoolFilter``,
``WorkQueueFilter``, ``WorkerFilter``), where users import them from, as in
Prefect 3. The rules for names, types and base job templates live here too
(``validate_*``), so that the models and the orchestration service check the
same things.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AfterValidator, Field

from legato.client.schemas._base import (
    FilterBaseModel,
    LegatoBaseModel,
    ObjectBaseModel,
    OperatorFilter,
)
from legato.exceptions import ParameterError

__all__ = [
    "MAX_NAME_LENGTH",
    "WORK_POOL_TYPE_PATTERN",
    "WorkPool",
    "WorkPoolCreate",
    "WorkPoolFilter",
    "WorkPoolFilterId",
    "WorkPoolFilterName",
    "WorkPoolFilterType",
    "WorkPoolStatus",
    "WorkPoolUpdate",
    "WorkQueue",
    "WorkQueueCreate",
    "WorkQueueFilter",
    "WorkQueueFilterId",
    "WorkQueueFilterName",
    "WorkQueueStatus",
    "WorkQueueUpdate",
    "Worker",
    "WorkerFilter",
    "WorkerFilterLastHeartbeatTime",
    "WorkerFilterStatus",
    "WorkerStatus",
    "validate_base_job_template",
    "validate_name",
    "validate_work_pool_type",
]

MAX_NAME_LENGTH: Final = 255
"""The longest work pool, work queue or worker name, in characters."""

WORK_POOL_TYPE_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9:_-]{0,99}")
"""A pool type: a lowercase slug (``process``, ``docker``, ``kubernetes``, ``ecs:push``)."""

_FORBIDDEN_IN_NAMES = re.compile(r"[/%\x00-\x1f\x7f]")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


# -- rules -------------------------------------------------------------------------


def validate_name(name: str, kind: str = "work pool") -> str:
    """``name`` if it can name a work pool, queue or worker; ParameterError otherwise.

    A name is 1 to 255 characters, without ``/``, ``%``, control characters,
    or blanks at either end (it travels in URL paths: ``/work_pools/{name}``).
    """
    if not isinstance(name, str) or not name or name != name.strip():
        raise ParameterError(
            f"A {kind} name is a non-empty string without blanks at either end, got {name!r}. "
            "Use e.g. 'my-pool'."
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ParameterError(
            f"{kind.capitalize()} name {name[:40]!r}... is {len(name)} characters long; "
            f"the limit is {MAX_NAME_LENGTH}. Choose a shorter name."
        )
    if _FORBIDDEN_IN_NAMES.search(name):
        suggestion = _FORBIDDEN_IN_NAMES.sub("-", name).strip("-") or "my-pool"
        raise ParameterError(
            f"{kind.capitalize()} name {name!r} is not valid: it may not hold '/', '%' or "
            f"control characters. Use e.g. {suggestion!r}."
        )
    return name


def validate_work_pool_type(type_: str) -> str:
    """``type_`` if it is a lowercase slug; ParameterError otherwise.

    Which types a worker exists for is the worker registry's business
    (``legato.workers``); the store accepts any slug.
    """
    if not isinstance(type_, str) or not WORK_POOL_TYPE_PATTERN.fullmatch(type_):
        raise ParameterError(
            f"Work pool type {type_!r} is not valid: a type is a lowercase slug of letters, "
            "digits, '-', '_' and ':' (at most 100 characters), e.g. 'process'."
        )
    return type_


def validate_base_job_template(template: dict[str, Any]) -> dict[str, Any]:
    """``template`` if it is ``{}`` or a job template; ParameterError naming the problem otherwise.

    A job template holds ``job_configuration`` (what a worker launches, with
    ``{{ name }}`` placeholders) and ``variables`` (a JSON schema object whose
    ``properties`` declare each placeholder), as in Prefect 3.
    """
    if not isinstance(template, dict):
        raise ParameterError(
            f"A base job template is a JSON object, got {type(template).__name__}."
        )
    if not template:
        return template
    missing = [key for key in ("job_configuration", "variables") if key not in template]
    if missing:
        raise ParameterError(
            f"A base job template holds 'job_configuration' and 'variables'; this one lacks "
            f"{' and '.join(repr(key) for key in missing)}. Start from the default template "
            "of the pool's worker type, or pass {} for that default."
        )
    configuration, variables = template["job_configuration"], template["variables"]
    if not isinstance(configuration, dict) or not isinstance(variables, dict):
        raise ParameterError(
            "A base job template's 'job_configuration' and 'variables' are JSON objects "
            "('variables' a JSON schema with 'properties')."
        )
    properties = variables.get("properties", {})
    if not isinstance(properties, dict):
        raise ParameterError("A base job template's variables.properties is a JSON object.")
    undeclared = sorted(set(_PLACEHOLDER.findall(json.dumps(configuration))) - set(properties))
    if undeclared:
        raise ParameterError(
            f"The base job template's job_configuration uses {', '.join(undeclared)} "
            "(as '{{ name }}') but variables.properties does not declare "
            f"{'it' if len(undeclared) == 1 else 'them'}. Declare each placeholder, or "
            "remove it."
        )
    return template


def _check_type(value: str) -> str:
    return validate_work_pool_type(value)


def _check_template(value: dict[str, Any]) -> dict[str, Any]:
    return validate_base_job_template(value)


def _check_pool_name(value: str) -> str:
    return validate_name(value, "work pool")


def _check_queue_name(value: str) -> str:
    return validate_name(value, "work queue")


PoolName = Annotated[str, AfterValidator(_check_pool_name)]
QueueName = Annotated[str, AfterValidator(_check_queue_name)]
PoolType = Annotated[str, AfterValidator(_check_type)]
JobTemplate = Annotated[dict[str, Any], AfterValidator(_check_template)]
Limit = Annotated[int, Field(ge=0, le=2**31 - 1)]
Priority = Annotated[int, Field(ge=1, le=2**31 - 1)]


# -- objects -----------------------------------------------------------------------


class WorkPoolStatus(StrEnum):
    """PAUSED when paused; READY while a worker heartbeats (or polls); else NOT_READY."""

    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class WorkQueueStatus(StrEnum):
    """PAUSED when paused; READY while workers poll it; else NOT_READY."""

    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class WorkerStatus(StrEnum):
    """ONLINE while the worker's heartbeats are recent (3 intervals); else OFFLINE."""

    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class WorkPool(ObjectBaseModel):
    """Where and how deployed runs execute: workers of one type poll it."""

    name: str
    description: str | None = None
    type: str
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: int | None = None
    status: WorkPoolStatus | None = None
    default_queue_id: uuid.UUID | None = None

    @property
    def is_push_pool(self) -> bool:
        """Push pools (runs sent to a cloud service without a worker): none in legato."""
        return self.type.endswith(":push")

    @property
    def is_managed_pool(self) -> bool:
        """Managed pools (a vendor's infrastructure): none in legato."""
        return self.type.endswith(":managed")


class WorkQueue(ObjectBaseModel):
    """A queue of a work pool: a priority (1 is the highest) and a concurrency limit."""

    name: str
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: int | None = None
    priority: int = 1
    work_pool_id: uuid.UUID | None = None
    work_pool_name: str | None = None
    last_polled: dt.datetime | None = None
    status: WorkQueueStatus | None = None


class Worker(ObjectBaseModel):
    """A worker process of a pool, as its heartbeats describe it."""

    name: str
    work_pool_id: uuid.UUID
    last_heartbeat_time: dt.datetime | None = None
    heartbeat_interval_seconds: int | None = None
    status: WorkerStatus = WorkerStatus.OFFLINE


# -- request bodies ----------------------------------------------------------------


class WorkPoolCreate(LegatoBaseModel):
    """Create a work pool (and its ``default`` queue)."""

    name: PoolName
    description: str | None = None
    type: PoolType = "process"
    base_job_template: JobTemplate = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: Limit | None = None


class WorkPoolUpdate(LegatoBaseModel):
    """Change a work pool; fields left out keep their value (``concurrency_limit=None`` clears)."""

    description: str | None = None
    is_paused: bool | None = None
    base_job_template: JobTemplate | None = None
    concurrency_limit: Limit | None = None


class WorkQueueCreate(LegatoBaseModel):
    """Create a queue in a work pool (default priority: after the pool's other queues)."""

    name: QueueName
    description: str | None = ""
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    priority: Priority | None = None


class WorkQueueUpdate(LegatoBaseModel):
    """Change a work queue; fields left out keep their value (``concurrency_limit=None`` clears)."""

    name: QueueName | None = None
    description: str | None = None
    is_paused: bool | None = None
    concurrency_limit: Limit | None = None
    priority: Priority | None = None


# -- filters -----------------------------------------------------------------------


class WorkPoolFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class WorkPoolFilterName(FilterBaseModel):
    any_: list[str] | None = None


class WorkPoolFilterType(FilterBaseModel):
    any_: list[str] | None = None


class WorkPoolFilter(OperatorFilter):
    id: WorkPoolFilterId | None = None
    name: WorkPoolFilterName | None = None
    type: WorkPoolFilterType | None = None


class WorkQueueFilterId(FilterBaseModel):
    any_: list[uuid.UUID] | None = None


class WorkQueueFilterName(FilterBaseModel):
    any_: list[str] | None = None
    startswith_: list[str] | None = None


class WorkQueueFilter(OperatorFilter):
    id: WorkQueueFilterId | None = None
    name: WorkQueueFilterName | None = None


class WorkerFilterLastHeartbeatTime(FilterBaseModel):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None


class WorkerFilterStatus(FilterBaseModel):
    any_: list[WorkerStatus] | None = None
    not_any_: list[WorkerStatus] | None = None


class WorkerFilter(OperatorFilter):
    last_heartbeat_time: WorkerFilterLastHeartbeatTime | None = None
    status: WorkerFilterStatus | None = None
