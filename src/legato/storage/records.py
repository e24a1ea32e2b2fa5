"""Plain records that the recorder hands to storage in one batch.

This module is the contract between the engine (which must stay light: no
SQLAlchemy on the hot path) and storage. Every row is a tuple whose items are
in column order, so that SQLite binds it as it is, with no copy:

- flow runs: ``FLOW_RUN_FIELDS``; task runs: ``TASK_RUN_FIELDS``. Their last
  field, ``updated``, is the time of the flush: the recorder sets one value
  for every run row of a batch;
- states: ``STATE_FIELDS`` (``StateRow``); logs: ``LOG_FIELDS`` (``LogRow``);
  flows: ``(id, name)`` (``FlowRow``; storage adds ``created`` and ``updated``).

Timestamps are POSIX seconds (float, UTC), stored as they are on SQLite; ids
are canonical lowercase UUID strings; JSON columns are already-encoded
strings. A row with the wrong number of fields fails the batch.

Storage (``legato.storage.writes``) needs these never to be None: each row's
own ``id`` and ``name``; a flow run's ``flow_id``; a task run's ``task_key``
and ``dynamic_key``; runs' ``run_count``, ``total_run_time``, ``created``,
``updated`` and JSON fields (``parameters``, ``tags``, ``task_inputs``); a
state's type and timestamp; a log's level, message and timestamp. A None there
fails the whole batch with a StorageError; any other field may be None.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

# The fields of a flow run row (a tuple), in column order.
FLOW_RUN_FIELDS = (
    "id",
    "flow_id",
    "name",
    "flow_version",
    "parameters",  # JSON text
    "tags",  # JSON text (list of str)
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
    "total_run_time",  # seconds spent Running
    "created",
    "updated",  # the time of the flush, the same for every row of a batch
)

# The flow_runs columns after FLOW_RUN_FIELDS, in column order: set by
# deployments and workers (orchestration), never by the recorder, whose
# upserts name only FLOW_RUN_FIELDS and so leave these as they are.
FLOW_RUN_ORCHESTRATION_FIELDS = (
    "deployment_id",
    "deployment_version",
    "work_queue_name",
    "work_queue_id",
    "work_pool_name",
    "idempotency_key",
    "job_variables",  # JSON: this run's job variables (merged over the pool's and deployment's)
    "infrastructure_pid",  # where the worker launched it (e.g. "host:pid")
    "auto_scheduled",  # created by the scheduler
)

# The fields of a task run row (a tuple), in column order.
TASK_RUN_FIELDS = (
    "id",
    "flow_run_id",
    "name",
    "task_key",
    "dynamic_key",
    "task_version",
    "cache_key",
    "tags",  # JSON text (list of str)
    "task_inputs",  # JSON text: {param: [{"input_type": "task_run", "id": "..."}]}
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

# The fields of a state row and of a log row; a state or log row belongs to a
# flow run *or* a task run (a task run's log line may name both).
STATE_FIELDS = ("id", "flow_run_id", "task_run_id", "type", "name", "message", "timestamp", "data")
LOG_FIELDS = ("id", "flow_run_id", "task_run_id", "name", "level", "message", "timestamp")

# One value per field of FLOW_RUN_FIELDS / TASK_RUN_FIELDS, in that order.
FlowRunRow = tuple[Any, ...]
TaskRunRow = tuple[Any, ...]
# (id, flow_run_id | None, task_run_id | None, type, name, message | None, timestamp,
#  data | None: JSON text of a persisted result's metadata)
StateRow = tuple[str, str | None, str | None, str, str, str | None, float, str | None]
# (id, flow_run_id | None, task_run_id | None, logger name, level, message, timestamp)
LogRow = tuple[str, str | None, str | None, str, int, str, float]
# (id, name)
FlowRow = tuple[str, str]


@dataclass(slots=True)
class RecordBatch:
    """Everything recorded since the last write, written in one transaction.

    Run rows are upserts keyed by id (the latest snapshot wins); state and log
    rows are appended.
    """

    flows: list[FlowRow] = field(default_factory=list)
    flow_runs: list[FlowRunRow] = field(default_factory=list)
    task_runs: list[TaskRunRow] = field(default_factory=list)
    states: list[StateRow] = field(default_factory=list)
    logs: list[LogRow] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.flows or self.flow_runs or self.task_runs or self.states or self.logs)


def canonical_uuid(value: object) -> str | None:
    """``value`` (a UUID, or text ``uuid.UUID`` accepts) as canonical lowercase text; else None."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None
