"""Artifacts: the rich outputs of runs (markdown, tables, links, progress, images).

One service for both homes: the embedded client and the server's REST routes
call these functions with a SQLAlchemy ``Connection`` whose transaction the
caller manages. Rows come back as plain dicts (``Row``): timestamps as aware
UTC datetimes, JSON decoded, ids as strings.

Keys and versions: an artifact may carry a key (lowercase letters, digits and
dashes). Each artifact created with a key that exists already is a new row, a
new version; the latest version of a key is its newest row (by ``created``,
ties broken by id). Progress artifacts are the exception that changes in place
(``update_artifact``).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato._types import UNSET, Unset
from legato.exceptions import ParameterError
from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, equals, fetch_all, fetch_one, page
from legato.storage.schema import artifacts

__all__ = [
    "ARTIFACT_KEY_PATTERN",
    "ARTIFACT_SORTS",
    "UNSET",
    "count_artifacts",
    "create_artifact",
    "delete_artifact",
    "filter_artifacts",
    "read_artifact",
    "read_latest_artifact",
    "update_artifact",
    "validate_artifact_key",
]

ARTIFACT_KEY_PATTERN: Final = re.compile(r"[a-z0-9-]+")
"""What a key may hold: lowercase letters, digits and dashes (Prefect 3's rule)."""

_NEWEST_FIRST = (artifacts.c.created.desc(), artifacts.c.id.desc())
ARTIFACT_SORTS: Final[dict[str, tuple[sa.ColumnElement[Any], ...]]] = {
    "created_desc": _NEWEST_FIRST,
    "created_asc": (artifacts.c.created.asc(), artifacts.c.id.asc()),
    "updated_desc": (artifacts.c.updated.desc(), artifacts.c.id.desc()),
    "key_asc": (bytewise(artifacts.c.key).asc(), *_NEWEST_FIRST),
    "key_desc": (bytewise(artifacts.c.key).desc(), *_NEWEST_FIRST),
}
"""The orders ``filter_artifacts`` accepts, by name."""


def validate_artifact_key(key: str) -> str:
    """``key`` if it is a valid artifact key; ParameterError naming the rule otherwise."""
    if not isinstance(key, str) or not ARTIFACT_KEY_PATTERN.fullmatch(key):
        suggestion = re.sub(r"[^a-z0-9-]+", "-", str(key).lower()).strip("-") or "my-report"
        raise ParameterError(
            f"Artifact key {key!r} is not valid: a key holds only lowercase letters, digits "
            f"and dashes. Use e.g. {suggestion!r}."
        )
    return key


def _check_metadata(metadata: dict[str, str] | None) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in metadata.items()
    ):
        raise ParameterError(
            f"Artifact metadata must map strings to strings, got {metadata!r}. "
            "Convert the values with str()."
        )


def _check_type(artifact_type: str) -> None:
    if not isinstance(artifact_type, str) or not artifact_type:
        raise ParameterError(
            f"Artifact type {artifact_type!r} is not valid: give a non-empty string such as "
            "'markdown', 'table', 'link', 'progress' or 'image'."
        )


def _as_uuid(value: str | uuid.UUID) -> str | None:
    """The canonical text of an id, None if it is not a UUID (it then matches nothing)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _optional_uuid(value: str | uuid.UUID | None, name: str) -> str | None:
    if value is None:
        return None
    text = _as_uuid(value)
    if text is None:
        raise ParameterError(f"{name} {value!r} is not a UUID. Pass the run's id, or None.")
    return text


def create_artifact(
    connection: Connection,
    *,
    key: str | None,
    type: str,
    data: Any,
    description: str | None,
    flow_run_id: str | uuid.UUID | None,
    task_run_id: str | uuid.UUID | None,
    metadata: dict[str, str] | None = None,
) -> Row:
    """Insert an artifact (a new version when ``key`` exists already) and return its row."""
    if key is not None:
        validate_artifact_key(key)
    _check_type(type)
    _check_metadata(metadata)
    artifact_id = str(uuid.uuid4())
    now = time.time()
    connection.execute(
        sa.insert(artifacts).values(
            id=artifact_id,
            key=key,
            type=type,
            description=description,
            data=data,
            metadata_=metadata,
            flow_run_id=_optional_uuid(flow_run_id, "flow_run_id"),
            task_run_id=_optional_uuid(task_run_id, "task_run_id"),
            created=now,
            updated=now,
        )
    )
    return _read_existing(connection, artifact_id)


def update_artifact(
    connection: Connection,
    artifact_id: str | uuid.UUID,
    *,
    data: Any | Unset = UNSET,
    description: str | None | Unset = UNSET,
) -> Row | None:
    """Change an artifact in place (progress artifacts); None if there is no such id."""
    canonical_id = _as_uuid(artifact_id)
    if canonical_id is None:
        return None
    values: dict[str, Any] = {"updated": time.time()}
    if data is not UNSET:
        values["data"] = data
    if description is not UNSET:
        values["description"] = description
    result = connection.execute(
        sa.update(artifacts).where(artifacts.c.id == canonical_id).values(**values)
    )
    if not result.rowcount:
        return None
    return _read_existing(connection, canonical_id)


def read_artifact(connection: Connection, artifact_id: str | uuid.UUID) -> Row | None:
    """One artifact (one version), None if there is no such id."""
    canonical_id = _as_uuid(artifact_id)
    if canonical_id is None:
        return None
    return fetch_one(connection, sa.select(artifacts).where(artifacts.c.id == canonical_id))


def _read_existing(connection: Connection, artifact_id: str) -> Row:
    row = read_artifact(connection, artifact_id)
    if row is None:  # pragma: no cover - written in this transaction
        raise LookupError(f"artifact {artifact_id} vanished inside its own transaction")
    return row


def read_latest_artifact(connection: Connection, key: str) -> Row | None:
    """The newest version of ``key``, None if no artifact has that key."""
    statement = sa.select(artifacts).where(artifacts.c.key == key).order_by(*_NEWEST_FIRST)
    return fetch_one(connection, statement.limit(1))


def _is_latest() -> sa.ColumnElement[bool]:
    """The row has a key and no newer row shares it (served by the (key, created) index)."""
    newer = artifacts.alias("newer")
    is_newer = sa.or_(
        newer.c.created > artifacts.c.created,
        sa.and_(newer.c.created == artifacts.c.created, newer.c.id > artifacts.c.id),
    )
    return sa.and_(
        artifacts.c.key.is_not(None),
        ~sa.exists().where(newer.c.key == artifacts.c.key, is_newer),
    )


def _filters(
    key: str | None,
    type: str | None,
    flow_run_id: str | uuid.UUID | None,
    task_run_id: str | uuid.UUID | None,
    latest_only: bool,
) -> list[sa.ColumnElement[bool]]:
    filters = [
        *equals(artifacts.c.key, key),
        *equals(artifacts.c.type, type),
        *_equals_id(artifacts.c.flow_run_id, flow_run_id),
        *_equals_id(artifacts.c.task_run_id, task_run_id),
    ]
    if latest_only:
        filters.append(_is_latest())
    return filters


def _equals_id(
    column: sa.ColumnElement[Any], value: str | uuid.UUID | None
) -> list[sa.ColumnElement[bool]]:
    if value is None:
        return []
    canonical = _as_uuid(value)
    # An id that is not a UUID matches nothing (PostgreSQL would refuse to compare it).
    return [sa.false()] if canonical is None else [column == canonical]


def _order(sort: str) -> tuple[sa.ColumnElement[Any], ...]:
    try:
        return ARTIFACT_SORTS[sort]
    except KeyError:
        raise ParameterError(
            f"Unknown artifact sort {sort!r}. Choose one of {', '.join(ARTIFACT_SORTS)}."
        ) from None


def filter_artifacts(
    connection: Connection,
    *,
    key: str | None = None,
    type: str | None = None,
    flow_run_id: str | uuid.UUID | None = None,
    task_run_id: str | uuid.UUID | None = None,
    latest_only: bool = False,
    sort: str = "created_desc",
    limit: int = 100,
    offset: int = 0,
) -> list[Row]:
    """Artifacts that match every filter given, one page in ``sort`` order.

    ``latest_only`` keeps the newest version of each key (artifacts without a
    key are left out); the other filters then apply to those versions.
    """
    statement = (
        sa.select(artifacts)
        .where(*_filters(key, type, flow_run_id, task_run_id, latest_only))
        .order_by(*_order(sort))
    )
    return fetch_all(connection, page(statement, limit, offset))


def count_artifacts(
    connection: Connection,
    *,
    key: str | None = None,
    type: str | None = None,
    flow_run_id: str | uuid.UUID | None = None,
    task_run_id: str | uuid.UUID | None = None,
    latest_only: bool = False,
) -> int:
    """How many artifacts ``filter_artifacts`` would return without paging."""
    statement = (
        sa.select(sa.func.count())
        .select_from(artifacts)
        .where(*_filters(key, type, flow_run_id, task_run_id, latest_only))
    )
    return int(connection.execute(statement).scalar_one())


def delete_artifact(connection: Connection, artifact_id: str | uuid.UUID) -> bool:
    """Delete one artifact (one version); False if there was no such id."""
    canonical_id = _as_uuid(artifact_id)
    if canonical_id is None:
        return False
    result = connection.execute(sa.delete(artifacts).where(artifacts.c.id == canonical_id))
    return bool(result.rowcount)
