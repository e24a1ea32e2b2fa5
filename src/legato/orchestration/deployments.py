"""Deployments: create (an upsert on flow and name), read, filter, count, update, delete, pause.

A deployment row comes back with its flow's name (``flow_name``) and its
schedules (``schedules``: rows of ``deployment_schedules``, oldest first).

Creating a deployment that exists (same flow, same name) replaces its fields
and its schedules, as Prefect does (``flow.serve()`` and ``legato deploy``
run again are such upserts). Whenever a deployment changes (create over an
existing one, update, pause), its auto-scheduled runs that have not started
(state type SCHEDULED, Late included) are deleted: the scheduler creates them
again from the new definition on its next pass. Deleting a deployment
deletes its schedules and every run of it that has not started.

Checks (ParameterError, 422 over HTTP): a name without ``/``; a
``parameter_openapi_schema`` that is a JSON schema; with
``enforce_parameter_schema``, parameters that fit it (unknown names and wrong
types; a required parameter may be left to the runs) and, for each schedule,
the deployment's parameters merged with the schedule's must be complete (a
scheduled run has nobody to supply the rest); a work pool that exists
(ObjectNotFound otherwise).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.client.schemas._deployments import (
    DeploymentCreate,
    DeploymentFilter,
    DeploymentSort,
    DeploymentUpdate,
)
from legato.client.schemas.filters import FlowFilter
from legato.exceptions import ObjectNotFound, ParameterError
from legato.orchestration import deployment_schedules as schedules
from legato.orchestration._runs import new_id, now
from legato.orchestration.deployment_queues import check_work_pool
from legato.orchestration.deployment_runs import delete_deployment_runs
from legato.orchestration.filters import flow_conditions
from legato.orchestration.flows import read_flow
from legato.orchestration.parameter_validation import (
    as_json,
    check_parameter_schema,
    validate_parameters,
)
from legato.storage.dialect import bytewise, insert_ignoring_conflicts, json_array_holds
from legato.storage.queries._common import Row, fetch_all, fetch_one, is_in, page
from legato.storage.schema import deployments, flows

__all__ = [
    "count_deployments",
    "create_deployment",
    "delete_deployment",
    "filter_deployments",
    "read_deployment",
    "read_deployment_by_name",
    "set_deployment_paused",
    "update_deployment",
]

_DEFAULTS: dict[str, Any] = {
    "tags": [],
    "parameters": {},
    "enforce_parameter_schema": True,
    "job_variables": {},
    "paused": False,
}
"""Values of the non-nullable columns when a create leaves them out (or an update sets None)."""

_FIELDS = (
    "version",
    "description",
    "tags",
    "parameters",
    "parameter_openapi_schema",
    "enforce_parameter_schema",
    "entrypoint",
    "path",
    "pull_steps",
    "work_pool_name",
    "work_queue_name",
    "job_variables",
    "paused",
    "concurrency_limit",
)

_SORTS = {
    DeploymentSort.NAME_ASC: (bytewise(deployments.c.name).asc(), deployments.c.id),
    DeploymentSort.NAME_DESC: (bytewise(deployments.c.name).desc(), deployments.c.id),
    DeploymentSort.CREATED_DESC: (deployments.c.created.desc(), deployments.c.id),
    DeploymentSort.UPDATED_DESC: (deployments.c.updated.desc(), deployments.c.id),
}


# -- reads ------------------------------------------------------------------------------


def _select() -> sa.Select[Any]:
    joined = deployments.outerjoin(flows, flows.c.id == deployments.c.flow_id)
    return sa.select(deployments, flows.c.name.label("flow_name")).select_from(joined)


def _with_schedules(connection: Connection, rows: list[Row]) -> list[Row]:
    by_deployment = schedules.read_schedules_of(connection, [row["id"] for row in rows])
    for row in rows:
        row["schedules"] = by_deployment.get(row["id"], [])
    return rows


def read_deployment(connection: Connection, deployment_id: Any) -> Row | None:
    """One deployment with ``flow_name`` and ``schedules``; None if there is none."""
    row = fetch_one(connection, _select().where(deployments.c.id == deployment_id))
    return None if row is None else _with_schedules(connection, [row])[0]


def read_deployment_by_name(
    connection: Connection, flow_name: str, deployment_name: str
) -> Row | None:
    """The deployment ``flow_name/deployment_name``; None if there is none."""
    statement = _select().where(flows.c.name == flow_name, deployments.c.name == deployment_name)
    row = fetch_one(connection, statement)
    return None if row is None else _with_schedules(connection, [row])[0]


def _conditions(
    flow_filter: FlowFilter | None, deployment_filter: DeploymentFilter | None
) -> list[sa.ColumnElement[bool]]:
    return flow_conditions(flow_filter) + deployment_conditions(deployment_filter)


def filter_deployments(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    deployment_filter: DeploymentFilter | None = None,
    sort: DeploymentSort | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Deployments matching the filters, in ``sort`` order (default: by name)."""
    statement = (
        _select()
        .where(*_conditions(flow_filter, deployment_filter))
        .order_by(*_SORTS[sort or DeploymentSort.NAME_ASC])
    )
    return _with_schedules(connection, fetch_all(connection, page(statement, limit, offset)))


def count_deployments(
    connection: Connection,
    *,
    flow_filter: FlowFilter | None = None,
    deployment_filter: DeploymentFilter | None = None,
) -> int:
    """How many deployments match."""
    statement = (
        sa.select(sa.func.count())
        .select_from(deployments.outerjoin(flows, flows.c.id == deployments.c.flow_id))
        .where(*_conditions(flow_filter, deployment_filter))
    )
    return int(connection.execute(statement).scalar_one())


def deployment_conditions(model: DeploymentFilter | None) -> list[sa.ColumnElement[bool]]:
    """Conditions on ``deployments`` (joined with ``flows``) for a DeploymentFilter."""
    if model is None:
        return []
    table = deployments
    conditions: list[sa.ColumnElement[bool]] = []
    if model.id is not None:
        conditions += is_in(table.c.id, model.id.any_)
    if model.name is not None:
        conditions += is_in(table.c.name, model.name.any_)
        conditions += _like(table.c.name, model.name.like_)
    if model.flow_or_deployment_name is not None and model.flow_or_deployment_name.like_:
        text = model.flow_or_deployment_name.like_
        conditions.append(sa.or_(*_like(table.c.name, text), *_like(flows.c.name, text)))
    if model.paused is not None and model.paused.eq_ is not None:
        conditions.append(table.c.paused.is_(model.paused.eq_))
    if model.work_queue_name is not None:
        conditions += is_in(table.c.work_queue_name, model.work_queue_name.any_)
    if model.work_pool_name is not None:
        conditions += is_in(table.c.work_pool_name, model.work_pool_name.any_)
    conditions += _tag_conditions(model)
    conditions += _limit_conditions(model)
    if not conditions:
        return []
    return [sa.or_(*conditions) if model.operator == "or_" else sa.and_(*conditions)]


def _like(column: Any, text: str | None) -> list[sa.ColumnElement[bool]]:
    return [] if text is None else [column.icontains(text, autoescape=True)]


def _tag_conditions(model: DeploymentFilter) -> list[sa.ColumnElement[bool]]:
    tags = model.tags
    if tags is None:
        return []
    conditions: list[sa.ColumnElement[bool]] = []
    if tags.all_:
        conditions.append(sa.and_(*(json_array_holds(deployments.c.tags, t) for t in tags.all_)))
    if tags.any_:
        conditions.append(sa.or_(*(json_array_holds(deployments.c.tags, t) for t in tags.any_)))
    if tags.is_null_ is not None:
        empty = deployments.c.tags == []
        conditions.append(empty if tags.is_null_ else sa.not_(empty))
    if not conditions:
        return []
    return [sa.or_(*conditions) if tags.operator == "or_" else sa.and_(*conditions)]


def _limit_conditions(model: DeploymentFilter) -> list[sa.ColumnElement[bool]]:
    limit = model.concurrency_limit
    if limit is None:
        return []
    column = deployments.c.concurrency_limit
    conditions: list[sa.ColumnElement[bool]] = []
    if limit.ge_ is not None:
        conditions.append(column >= limit.ge_)
    if limit.le_ is not None:
        conditions.append(column <= limit.le_)
    if limit.is_null_ is not None:
        conditions.append(column.is_(None) if limit.is_null_ else column.is_not(None))
    return conditions


# -- writes -------------------------------------------------------------------------------


def _values(given: dict[str, Any]) -> dict[str, Any]:
    """Column values for the fields in ``given`` (None for a non-nullable one: its default)."""
    values: dict[str, Any] = {}
    for key in _FIELDS:
        if key not in given:
            continue
        value = given[key]
        if value is None and key in _DEFAULTS:
            value = _DEFAULTS[key]
        values[key] = value
    for key in ("parameters", "job_variables", "pull_steps", "parameter_openapi_schema"):
        if key in values:
            values[key] = as_json(values[key], key)
    if "tags" in values:
        values["tags"] = list(dict.fromkeys(values["tags"]))
    if "concurrency_options" in given:
        options = given["concurrency_options"]
        strategy = None if options is None else options["collision_strategy"]
        values["collision_strategy"] = None if strategy is None else str(strategy)
    return values


def _check(
    connection: Connection,
    merged: dict[str, Any],
    schedule_parameters: list[dict[str, Any]],
    full_name: str,
) -> None:
    """The checks of the module doc, on the deployment as it will be."""
    check_parameter_schema(merged.get("parameter_openapi_schema"))
    if merged.get("work_pool_name"):
        check_work_pool(connection, merged["work_pool_name"], merged.get("work_queue_name"))
    owner = f"deployment {full_name!r}"
    parameters = merged.get("parameters") or {}
    if merged.get("enforce_parameter_schema", True):
        schema = merged.get("parameter_openapi_schema")
        validate_parameters(parameters, schema, require_all=False, owner=owner)
    for number, extra in enumerate(schedule_parameters, start=1):
        schedules.check_schedule_parameters(merged, extra, f"schedule {number} of {owner}")


def _check_name(name: str) -> None:
    if "/" in name or not name.strip():
        raise ParameterError(
            f"Deployment name {name!r} is not valid: a name is not blank and holds no '/' "
            "(deployments are named 'flow-name/deployment-name'). Choose e.g. 'nightly'."
        )


def create_deployment(connection: Connection, deployment: DeploymentCreate) -> tuple[Row, bool]:
    """Create the deployment, or replace the one with the same flow and name; and whether it is new.

    Raises ObjectNotFound for an unknown flow, ParameterError for bad values.
    """
    _check_name(deployment.name)
    flow = read_flow(connection, deployment.flow_id)
    if flow is None:
        raise ObjectNotFound(
            f"No flow with id '{deployment.flow_id}'. Create the flow first (POST /api/flows/)."
        )
    given = deployment.model_dump(exclude={"schedules"})
    values = {**_DEFAULTS, **{key: None for key in _FIELDS if key not in _DEFAULTS}}
    values.update(_values(given))
    values.setdefault("collision_strategy", None)
    full_name = f"{flow['name']}/{deployment.name}"
    schedule_list = list(deployment.schedules or ())
    _check(connection, values, [s.parameters for s in schedule_list], full_name)
    deployment_id, created = _upsert(connection, deployment, values)
    schedules.replace_schedules(connection, deployment_id, schedule_list)
    row = read_deployment(connection, deployment_id)
    if row is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"deployment {deployment_id} vanished inside its own transaction")
    return row, created


def _upsert(
    connection: Connection, deployment: DeploymentCreate, values: dict[str, Any]
) -> tuple[str, bool]:
    """Insert the row, or update the one with the same flow and name (race-safe)."""
    at = now()
    row = {
        "id": new_id(),
        "name": deployment.name,
        "flow_id": str(deployment.flow_id),
        **values,
        "created": at,
        "updated": at,
    }
    statement = insert_ignoring_conflicts(connection, deployments).returning(deployments.c.id)
    if connection.execute(statement, row).first() is not None:
        return row["id"], True
    existing = connection.execute(
        sa.select(deployments.c.id)
        .where(deployments.c.flow_id == row["flow_id"], deployments.c.name == deployment.name)
        .with_for_update()
    ).scalar_one()
    connection.execute(
        sa.update(deployments).where(deployments.c.id == existing).values(**values, updated=at)
    )
    delete_deployment_runs(connection, existing, auto_scheduled_only=True)
    return str(existing), False


def _lock(connection: Connection, deployment_id: Any) -> bool:
    """Lock the deployment's row for this transaction (PostgreSQL); whether it exists."""
    statement = sa.select(deployments.c.id).where(deployments.c.id == deployment_id)
    return fetch_one(connection, statement.with_for_update()) is not None


def update_deployment(connection: Connection, deployment_id: Any, update: DeploymentUpdate) -> bool:
    """Change the fields ``update`` sets (``schedules`` replaces them all); False if none such."""
    if not _lock(connection, deployment_id):
        return False
    current = read_deployment(connection, deployment_id)
    if current is None:  # pragma: no cover - locked above
        return False
    given = update.model_dump(exclude_unset=True, exclude={"schedules"})
    values = _values(given)
    schedule_list = None if update.schedules is None else list(update.schedules)
    merged = {**current, **values}
    full_name = f"{current['flow_name']}/{current['name']}"
    if schedule_list is None:
        kept = [row["parameters"] for row in current["schedules"]]
        _check(connection, merged, kept, full_name)
    else:
        _check(connection, merged, [s.parameters for s in schedule_list], full_name)
        schedules.replace_schedules(connection, current["id"], schedule_list)
    connection.execute(
        sa.update(deployments)
        .where(deployments.c.id == current["id"])
        .values(**values, updated=now())
    )
    delete_deployment_runs(connection, current["id"], auto_scheduled_only=True)
    return True


def set_deployment_paused(connection: Connection, deployment_id: Any, paused: bool) -> bool:
    """Pause (its auto-scheduled runs not started are deleted) or resume; False if none such."""
    result = connection.execute(
        sa.update(deployments)
        .where(deployments.c.id == deployment_id)
        .values(paused=paused, updated=now())
    )
    if not result.rowcount:
        return False
    if paused:
        delete_deployment_runs(connection, deployment_id, auto_scheduled_only=True)
    return True


def delete_deployment(connection: Connection, deployment_id: Any) -> bool:
    """Delete a deployment, its schedules and its runs that have not started; False if none such."""
    if not _lock(connection, deployment_id):
        return False
    delete_deployment_runs(connection, deployment_id, auto_scheduled_only=False)
    schedules.delete_schedules_of(connection, deployment_id)
    connection.execute(sa.delete(deployments).where(deployments.c.id == deployment_id))
    return True
