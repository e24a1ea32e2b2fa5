"""/api/records/batch: the recorder's batch, written in one transaction (legato only).

A flow recorded through the HTTP client sends what the recorder collected
(flows, flow runs, task runs, states, logs) as arrays of row arrays, in the
column order of ``legato.storage.records``: one request per batch instead of
one per state. Rows are checked (ids are UUIDs, JSON fields hold JSON, state
types are known) and written like the embedded client writes them: runs
upserted, states and logs appended, so sending a batch twice changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, WithJsonSchema

from legato.client.schemas.actions import Int32
from legato.client.schemas.objects import TaskInput
from legato.orchestration.records import record_batch
from legato.server.api._common import Body, StoreDependency
from legato.server.errors import RequestTooLarge
from legato.storage.records import RecordBatch

router = APIRouter(prefix="/records", tags=["Records"])

MAX_ROWS_PER_REQUEST = 50_000
"""The most rows one batch request may hold (the HTTP client splits larger batches)."""


def _canonical_uuid(value: str) -> str:
    return str(uuid.UUID(value))


def _json_text(check: Callable[[Any], bool], what: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not check(json.loads(value)):
            raise ValueError(f"must be JSON text of {what}")
        return value

    return validate


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_task_inputs(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    try:
        for items in value.values():
            for item in items:
                _TASK_INPUT.validate_python(item)
    except (TypeError, ValidationError):
        return False
    return True


_TASK_INPUT: TypeAdapter[Any] = TypeAdapter(TaskInput)

Id = Annotated[
    str, AfterValidator(_canonical_uuid), WithJsonSchema({"type": "string", "format": "uuid"})
]
JsonObject = Annotated[str, AfterValidator(_json_text(_is_object, "an object"))]
JsonTags = Annotated[str, AfterValidator(_json_text(_is_string_list, "a list of strings"))]
JsonTaskInputs = Annotated[
    str, AfterValidator(_json_text(_is_task_inputs, "{parameter: [task run inputs]}"))
]
# POSIX seconds, from 1970 to 3000: what reads can turn back into datetimes.
Seconds = Annotated[float, Field(ge=0, le=32_503_680_000)]
Duration = Annotated[float, Field(ge=0, le=1e10)]
StateTypeName = Literal[
    "SCHEDULED",
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CRASHED",
    "CANCELLING",
    "CANCELLED",
    "PAUSED",
]

FlowRow = tuple[Id, Annotated[str, Field(min_length=1)]]
FlowRunRow = tuple[
    Id,  # id
    Id,  # flow_id
    str,  # name
    str | None,  # flow_version
    JsonObject,  # parameters
    JsonTags,  # tags
    Int32,  # run_count
    Id | None,  # parent_flow_run_id
    Id | None,  # parent_task_run_id
    StateTypeName | None,  # state_type
    str | None,  # state_name
    str | None,  # state_message
    Seconds | None,  # state_timestamp
    Seconds | None,  # expected_start_time
    Seconds | None,  # start_time
    Seconds | None,  # end_time
    Duration,  # total_run_time
    Seconds,  # created
    Seconds,  # updated
]
TaskRunRow = tuple[
    Id,  # id
    Id | None,  # flow_run_id
    str,  # name
    str,  # task_key
    str,  # dynamic_key
    str | None,  # task_version
    str | None,  # cache_key
    JsonTags,  # tags
    JsonTaskInputs,  # task_inputs
    Int32,  # run_count
    StateTypeName | None,  # state_type
    str | None,  # state_name
    str | None,  # state_message
    Seconds | None,  # state_timestamp
    Seconds | None,  # expected_start_time
    Seconds | None,  # start_time
    Seconds | None,  # end_time
    Duration,  # total_run_time
    Seconds,  # created
    Seconds,  # updated
]
StateRow = tuple[
    Id, Id | None, Id | None, StateTypeName, str, str | None, Seconds, JsonObject | None
]
LogRow = tuple[Id, Id | None, Id | None, str, Int32, str, Seconds]


class RecordBatchBody(Body):
    """One recorder batch: each table's rows as arrays in ``legato.storage.records`` order."""

    flows: list[FlowRow] = Field(default_factory=list)
    flow_runs: list[FlowRunRow] = Field(default_factory=list)
    task_runs: list[TaskRunRow] = Field(default_factory=list)
    states: list[StateRow] = Field(default_factory=list)
    logs: list[LogRow] = Field(default_factory=list)

    def size(self) -> int:
        """How many rows the batch holds."""
        tables: tuple[list[Any], ...] = (
            self.flows,
            self.flow_runs,
            self.task_runs,
            self.states,
            self.logs,
        )
        return sum(len(rows) for rows in tables)


class RecordCounts(Body):
    """How many rows of each table a batch held."""

    flows: int
    flow_runs: int
    task_runs: int
    states: int
    logs: int


@router.post(
    "/batch",
    responses={413: {"description": f"More than {MAX_ROWS_PER_REQUEST} rows in one request"}},
)
def write_records(body: RecordBatchBody, store: StoreDependency) -> RecordCounts:
    """Write one recorder batch in one transaction (idempotent)."""
    if body.size() > MAX_ROWS_PER_REQUEST:
        detail = (
            f"{body.size()} rows in one batch; the most is {MAX_ROWS_PER_REQUEST}. "
            "Split the batch (the HTTP client does so)."
        )
        raise RequestTooLarge(detail)
    batch = RecordBatch(
        flows=list(body.flows),
        flow_runs=list(body.flow_runs),
        task_runs=list(body.task_runs),
        states=list(body.states),  # type: ignore[arg-type]
        logs=list(body.logs),
    )
    store.write(lambda c: record_batch(c, batch))
    return RecordCounts(
        flows=len(body.flows),
        flow_runs=len(body.flow_runs),
        task_runs=len(body.task_runs),
        states=len(body.states),
        logs=len(body.logs),
    )
