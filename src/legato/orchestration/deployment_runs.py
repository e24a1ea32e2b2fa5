"""Runs of deployments: made on demand (``create_flow_run_from_deployment``) or by the
scheduler (``scheduling``), and deleted when their deployment changes.

A run of a deployment carries its ``deployment_id`` and ``deployment_version``,
the deployment's parameters with the run's over them, the deployment's tags
and the run's, its work pool and queue (the run's queue over the
deployment's), its own ``job_variables`` (stored as given: merging them with
the pool's template and the deployment's is the worker's job), and starts in
state Scheduled (now, unless a state is given).

Idempotency: a run created with an ``idempotency_key`` that a run of the same
flow has already is not created again; that run is returned. The unique index
on ``(flow_id, idempotency_key)`` decides it (``INSERT ... ON CONFLICT DO
NOTHING``), so two writers at once on either database still make one run.
The scheduler's runs use the key ``scheduled <deployment id> <schedule id>
<slot, UTC ISO 8601>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas.actions import DeploymentFlowRunCreate, StateCreate
from legato.engine.names import generate_run_name
from legato.orchestration._cascade import delete_flow_runs
from legato.orchestration._runs import new_id, now, state_values, transition_values
from legato.orchestration.deployment_queues import QueuePlacement, resolve_work_queue
from legato.orchestration.flow_runs import read_flow_run
from legato.orchestration.parameter_validation import as_json, validate_parameters
from legato.states import StateType
from legato.storage.bulk_inserts import EncodedJSON, insert_new_rows
from legato.storage.queries._common import Row, fetch_one
from legato.storage.schema import deployments, flow_runs, flows, states, task_runs

__all__ = [
    "RunState",
    "create_flow_run_from_deployment",
    "delete_deployment_runs",
    "insert_runs",
    "run_values",
    "schedule_key_prefix",
    "scheduled_idempotency_key",
    "state_row",
]


class RunState(NamedTuple):
    """A new run's first state: plain values (the scheduler makes many; no model each)."""

    type: StateType
    name: str | None = None
    message: str | None = None
    scheduled_seconds: float | None = None

    @classmethod
    def of(cls, state: StateCreate) -> RunState:
        scheduled = state.state_details.scheduled_time
        return cls(
            state.type,
            state.name,
            state.message,
            None if scheduled is None else scheduled.timestamp(),
        )


def schedule_key_prefix(deployment_id: Any, schedule_id: Any) -> str:
    """The start of the idempotency keys of a schedule's runs."""
    return f"scheduled {deployment_id} {schedule_id} "


def scheduled_idempotency_key(deployment_id: Any, schedule_id: Any, slot: dt.datetime) -> str:
    """The idempotency key of the run a schedule makes for ``slot``."""
    return schedule_key_prefix(deployment_id, schedule_id) + slot.astimezone(dt.UTC).isoformat()


def delete_deployment_runs(
    connection: Connection,
    deployment_id: Any,
    *,
    auto_scheduled_only: bool,
    schedule_id: Any = None,
) -> int:
    """Delete a deployment's runs that have not started (state type SCHEDULED, Late too).

    ``auto_scheduled_only``: only the scheduler's; ``schedule_id``: only that
    schedule's. Returns how many were deleted (with their states).
    """
    conditions = [
        flow_runs.c.deployment_id == deployment_id,
        flow_runs.c.state_type == StateType.SCHEDULED.value,
    ]
    if auto_scheduled_only:
        conditions.append(flow_runs.c.auto_scheduled.is_(True))
    if schedule_id is not None:
        prefix = schedule_key_prefix(deployment_id, schedule_id)
        conditions.append(flow_runs.c.idempotency_key.startswith(prefix, autoescape=True))
    return delete_flow_runs(connection, sa.select(flow_runs.c.id).where(*conditions))


def run_values(
    deployment: Mapping[str, Any],
    *,
    at: float,
    state: RunState,
    parameters: dict[str, Any] | EncodedJSON,
    tags: list[str] | EncodedJSON,
    placement: QueuePlacement,
    idempotency_key: str | None,
    auto_scheduled: bool,
    name: str | None = None,
    job_variables: dict[str, Any] | EncodedJSON | None = None,
    parent_task_run_id: Any = None,
    parent_flow_run_id: Any = None,
) -> Row:
    """A new ``flow_runs`` row of ``deployment`` in ``state`` (every column set).

    JSON values may come encoded already (``EncodedJSON``: for ``insert_runs`` only).
    """
    queue_id, queue_name = placement
    return {
        "id": new_id(),
        "flow_id": str(deployment["flow_id"]),
        "name": name or generate_run_name(),
        "flow_version": None,
        "parameters": parameters,
        "tags": tags,
        "run_count": 0,
        "parent_flow_run_id": parent_flow_run_id,
        "parent_task_run_id": None if parent_task_run_id is None else str(parent_task_run_id),
        "start_time": None,
        "end_time": None,
        "expected_start_time": None,
        "total_run_time": 0.0,
        "created": at,
        **state_values(state.type, state.name, state.message, at),
        **transition_values(None, state.type, at, state.scheduled_seconds),
        "deployment_id": str(deployment["id"]),
        "deployment_version": deployment.get("version"),
        "work_queue_name": queue_name,
        "work_queue_id": queue_id,
        "work_pool_name": deployment.get("work_pool_name"),
        "idempotency_key": idempotency_key,
        "job_variables": job_variables or {},
        "infrastructure_pid": None,
        "auto_scheduled": auto_scheduled,
    }


def state_row(run: Mapping[str, Any], data: Any = None) -> Row:
    """The ``states`` row of a new run's first state (its state columns)."""
    return {
        "id": new_id(),
        "flow_run_id": run["id"],
        "task_run_id": None,
        "type": run["state_type"],
        "name": run["state_name"],
        "message": run["state_message"],
        "timestamp": run["state_timestamp"],
        "data": data if isinstance(data, dict) else None,
    }


def insert_runs(connection: Connection, runs: Sequence[Row], data: Any = None) -> list[str]:
    """Insert new runs with their first states, skipping those whose idempotency key is taken.

    A few statements for any number of runs (``storage.bulk_inserts``).
    Returns the ids of the runs inserted, in the order given.
    """
    inserted = set(insert_new_rows(connection, flow_runs, runs))
    new_states = [state_row(run, data) for run in runs if run["id"] in inserted]
    insert_new_rows(connection, states, new_states)
    return [run["id"] for run in runs if run["id"] in inserted]


def _deployment_row(connection: Connection, deployment_id: Any) -> Row | None:
    joined = deployments.outerjoin(flows, flows.c.id == deployments.c.flow_id)
    statement = (
        sa.select(deployments, flows.c.name.label("flow_name"))
        .select_from(joined)
        .where(deployments.c.id == deployment_id)
    )
    return fetch_one(connection, statement)


def _existing_run(connection: Connection, flow_id: Any, key: str | None) -> Row | None:
    if key is None:
        return None
    run_id = connection.execute(
        sa.select(flow_runs.c.id).where(
            flow_runs.c.flow_id == flow_id, flow_runs.c.idempotency_key == key
        )
    ).scalar_one_or_none()
    return None if run_id is None else read_flow_run(connection, run_id)


def _parent_flow_run_id(connection: Connection, parent_task_run_id: Any) -> Any:
    if parent_task_run_id is None:
        return None
    statement = sa.select(task_runs.c.flow_run_id).where(task_runs.c.id == parent_task_run_id)
    return connection.execute(statement).scalar_one_or_none()


def _run_parameters(deployment: Row, body: DeploymentFlowRunCreate) -> dict[str, Any]:
    """The deployment's parameters with the run's over them, checked when the schema is enforced."""
    parameters: dict[str, Any] = {
        **(deployment["parameters"] or {}),
        **as_json(body.parameters, "A run's parameters"),
    }
    enforce = body.enforce_parameter_schema
    if enforce is None:
        enforce = deployment["enforce_parameter_schema"]
    if enforce:
        validate_parameters(
            parameters,
            deployment["parameter_openapi_schema"],
            require_all=True,
            owner=f"a run of deployment '{deployment['flow_name']}/{deployment['name']}'",
        )
    return parameters


def create_flow_run_from_deployment(
    connection: Connection, deployment_id: Any, body: DeploymentFlowRunCreate
) -> Row | None:
    """A new run of the deployment (see the module doc); None if there is no such deployment.

    With an ``idempotency_key`` a run of this flow already has, that run.
    Raises ParameterError for parameters that do not fit the flow, and
    ObjectNotFound for a work queue that does not exist.
    """
    deployment = _deployment_row(connection, deployment_id)
    if deployment is None:
        return None
    existing = _existing_run(connection, deployment["flow_id"], body.idempotency_key)
    if existing is not None:
        return existing
    at = now()
    state = RunState(StateType.SCHEDULED, scheduled_seconds=at)
    if body.state is not None:
        state = RunState.of(body.state)
    run = run_values(
        deployment,
        at=at,
        state=state,
        parameters=_run_parameters(deployment, body),
        tags=list(dict.fromkeys([*(deployment["tags"] or []), *body.tags])),
        placement=resolve_work_queue(
            connection,
            deployment["work_pool_name"],
            body.work_queue_name or deployment["work_queue_name"],
        ),
        idempotency_key=body.idempotency_key,
        auto_scheduled=False,
        name=body.name,
        job_variables=as_json(body.job_variables or {}, "A run's job_variables"),
        parent_task_run_id=body.parent_task_run_id,
        parent_flow_run_id=_parent_flow_run_id(connection, body.parent_task_run_id),
    )
    inserted = insert_runs(connection, [run], data=None if body.state is None else body.state.data)
    run_id = inserted[0] if inserted else None
    if run_id is None:  # another writer took the key since the check above
        return _existing_run(connection, deployment["flow_id"], body.idempotency_key)
    return read_flow_run(connection, run_id)
