"""A deployment's schedules: add, read, change, delete, replace.

A schedule row holds the schedule's JSON (a ``legato.schedules`` object,
without its ``active`` and ``parameters``, which are the row's own columns),
its parameters (merged over the deployment's for each run it creates), its
active flag, an optional slug (unique per deployment) and an optional
``max_scheduled_runs`` (the scheduler's ``max_runs`` for it).

Changing or deleting a schedule deletes the auto-scheduled runs it made that
have not started; the scheduler makes them again from the new definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from legato.client.schemas._deployments import DeploymentScheduleCreate, DeploymentScheduleUpdate
from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.orchestration._runs import new_id, now
from legato.orchestration.deployment_runs import delete_deployment_runs
from legato.orchestration.parameter_validation import as_json, validate_parameters
from legato.storage.queries._common import Row, fetch_all, fetch_one
from legato.storage.schema import deployment_schedules, deployments

__all__ = [
    "check_schedule_parameters",
    "create_deployment_schedules",
    "delete_deployment_schedule",
    "delete_schedules_of",
    "read_deployment_schedules",
    "read_schedules_of",
    "replace_schedules",
    "schedule_json",
    "update_deployment_schedule",
]

_OWN_FIELDS = ("active", "parameters", "slug")
"""Fields of a schedule object that a deployment schedule keeps in its own columns."""


def schedule_json(schedule: Any) -> dict[str, Any]:
    """What the ``schedule`` column stores for a ``legato.schedules`` object."""
    data: dict[str, Any] = schedule.model_dump(mode="json")
    for key in _OWN_FIELDS:
        data.pop(key, None)
    return data


def check_schedule_parameters(
    deployment: Mapping[str, Any], parameters: Mapping[str, Any], owner: str
) -> None:
    """The deployment's parameters with a schedule's over them must be complete and fit."""
    if not deployment.get("enforce_parameter_schema", True):
        return
    validate_parameters(
        {**(deployment.get("parameters") or {}), **parameters},
        deployment.get("parameter_openapi_schema"),
        require_all=True,
        owner=owner,
    )


def read_schedules_of(
    connection: Connection, deployment_ids: Sequence[Any]
) -> dict[str, list[Row]]:
    """The schedules of these deployments (oldest first), by deployment id."""
    if not deployment_ids:
        return {}
    statement = (
        sa.select(deployment_schedules)
        .where(deployment_schedules.c.deployment_id.in_(list(deployment_ids)))
        .order_by(deployment_schedules.c.created, deployment_schedules.c.id)
    )
    found: dict[str, list[Row]] = {}
    for row in fetch_all(connection, statement):
        found.setdefault(row["deployment_id"], []).append(row)
    return found


def _deployment(connection: Connection, deployment_id: Any) -> Row | None:
    return fetch_one(
        connection,
        sa.select(deployments).where(deployments.c.id == deployment_id).with_for_update(),
    )


def read_deployment_schedules(connection: Connection, deployment_id: Any) -> list[Row] | None:
    """A deployment's schedules, oldest first; None if there is no such deployment."""
    if _deployment(connection, deployment_id) is None:
        return None
    return read_schedules_of(connection, [deployment_id]).get(str(deployment_id), [])


def _rows(deployment_id: Any, creates: Iterable[DeploymentScheduleCreate]) -> list[Row]:
    at = now()
    rows = []
    for offset, create in enumerate(creates):
        rows.append(
            {
                "id": new_id(),
                "deployment_id": str(deployment_id),
                "schedule": schedule_json(create.schedule),
                "active": create.active,
                "parameters": _json(create.parameters),
                "slug": create.slug,
                "max_scheduled_runs": create.max_scheduled_runs,
                # A millisecond apart, so that they read back in the order given
                # (a microsecond can round away in PostgreSQL's timestamps).
                "created": at + offset * 1e-3,
                "updated": at,
            }
        )
    return rows


def _json(parameters: Mapping[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = as_json(dict(parameters), "A schedule's parameters")
    return value


def _insert(connection: Connection, rows: list[Row]) -> None:
    slugs = [row["slug"] for row in rows if row["slug"] is not None]
    if len(slugs) != len(set(slugs)):
        raise ParameterError(
            f"Schedule slugs must be unique within a deployment, got {slugs!r}. "
            "Give each schedule its own slug, or none."
        )
    try:
        with connection.begin_nested():
            connection.execute(sa.insert(deployment_schedules), rows)
    except IntegrityError:
        raise ObjectAlreadyExists(
            f"The deployment has a schedule with one of the slugs {slugs!r} already. "
            "Change or delete that schedule, or choose another slug."
        ) from None


def replace_schedules(
    connection: Connection, deployment_id: Any, creates: Sequence[DeploymentScheduleCreate]
) -> None:
    """Replace all of a deployment's schedules (the caller deletes the runs they made)."""
    delete_schedules_of(connection, deployment_id)
    if creates:
        _insert(connection, _rows(deployment_id, creates))


def create_deployment_schedules(
    connection: Connection, deployment_id: Any, creates: Sequence[DeploymentScheduleCreate]
) -> list[Row] | None:
    """Add schedules to a deployment; the new rows, None if there is no such deployment."""
    deployment = _deployment(connection, deployment_id)
    if deployment is None:
        return None
    for create in creates:
        check_schedule_parameters(deployment, create.parameters, "the new schedule")
    rows = _rows(deployment["id"], creates)
    if rows:
        _insert(connection, rows)
    ids = [row["id"] for row in rows]
    added = read_schedules_of(connection, [deployment["id"]]).get(deployment["id"], [])
    return [row for row in added if row["id"] in ids]


def _schedule(connection: Connection, deployment_id: Any, schedule_id: Any) -> Row | None:
    return fetch_one(
        connection,
        sa.select(deployment_schedules).where(
            deployment_schedules.c.id == schedule_id,
            deployment_schedules.c.deployment_id == deployment_id,
        ),
    )


def update_deployment_schedule(
    connection: Connection, deployment_id: Any, schedule_id: Any, update: DeploymentScheduleUpdate
) -> bool:
    """Change a schedule (the fields ``update`` sets); False if there is no such schedule."""
    deployment = _deployment(connection, deployment_id)
    current = None if deployment is None else _schedule(connection, deployment_id, schedule_id)
    if deployment is None or current is None:
        return False
    values: dict[str, Any] = {}
    given = update.model_fields_set
    if "schedule" in given and update.schedule is not None:
        values["schedule"] = schedule_json(update.schedule)
    if "active" in given and update.active is not None:
        values["active"] = update.active
    if "parameters" in given:
        values["parameters"] = _json(update.parameters or {})
        check_schedule_parameters(deployment, values["parameters"], "the schedule")
    for key in ("slug", "max_scheduled_runs"):
        if key in given:
            values[key] = getattr(update, key)
    try:
        with connection.begin_nested():
            connection.execute(
                sa.update(deployment_schedules)
                .where(deployment_schedules.c.id == current["id"])
                .values(**values, updated=now())
            )
    except IntegrityError:
        raise ObjectAlreadyExists(
            f"The deployment has another schedule with the slug {update.slug!r}. "
            "Choose another slug."
        ) from None
    delete_deployment_runs(
        connection, deployment_id, auto_scheduled_only=True, schedule_id=current["id"]
    )
    return True


def delete_deployment_schedule(
    connection: Connection, deployment_id: Any, schedule_id: Any
) -> bool:
    """Delete a schedule and the runs it made that have not started; False if none such."""
    current = _schedule(connection, deployment_id, schedule_id)
    if current is None:
        return False
    connection.execute(
        sa.delete(deployment_schedules).where(deployment_schedules.c.id == current["id"])
    )
    delete_deployment_runs(
        connection, deployment_id, auto_scheduled_only=True, schedule_id=current["id"]
    )
    return True


def delete_schedules_of(connection: Connection, deployment_id: Any) -> None:
    """Delete every schedule of a deployment (not its runs)."""
    connection.execute(
        sa.delete(deployment_schedules).where(deployment_schedules.c.deployment_id == deployment_id)
    )
