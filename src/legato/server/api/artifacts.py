"""/api/artifacts: create, read, update, delete, filter, count, latest by key.

Filters map onto ``legato.orchestration.artifacts``: one value per field
(``key.any_``, ``type.any_``, ``flow_run_id.any_``, ``task_run_id.any_``);
what that service cannot filter on is refused with 422 rather than ignored.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from legato._types import UNSET
from legato.client.schemas.actions import ArtifactCreate, ArtifactUpdate
from legato.client.schemas.filters import ArtifactFilter
from legato.client.schemas.objects import Artifact
from legato.client.schemas.sorting import ArtifactSort
from legato.exceptions import ObjectNotFound, ParameterError
from legato.orchestration import artifacts
from legato.server.api._common import (
    Body,
    Limit,
    Offset,
    StoreDependency,
    not_found,
    not_found_response,
)

router = APIRouter(prefix="/artifacts", tags=["Artifacts"])

_NOT_FOUND = not_found_response("No artifact has this id")
_SORTS = {
    ArtifactSort.CREATED_DESC: "created_desc",
    ArtifactSort.UPDATED_DESC: "updated_desc",
    ArtifactSort.ID_DESC: "created_desc",
    ArtifactSort.KEY_ASC: "key_asc",
    ArtifactSort.KEY_DESC: "key_desc",
}


class ArtifactCountBody(Body):
    artifacts: ArtifactFilter | None = None
    latest_only: bool = False


class ArtifactFilterBody(ArtifactCountBody):
    sort: ArtifactSort | None = None
    limit: Limit = 200
    offset: Offset = 0


def _one(values: list[Any] | None, name: str) -> Any:
    if values is None:
        return None
    if len(values) != 1:
        raise ParameterError(f"Filter artifacts on exactly one {name} (got {len(values)}).")
    return values[0]


def filter_arguments(model: ArtifactFilter | None) -> dict[str, Any]:
    """The keyword arguments of ``filter_artifacts`` for ``model``."""
    if model is None:
        return {}
    if model.id is not None or (model.type is not None and model.type.not_any_):
        raise ParameterError("Artifacts cannot be filtered by id or type.not_any_ yet.")
    if model.key is not None and (model.key.like_ is not None or model.key.exists_ is not None):
        raise ParameterError("Artifacts cannot be filtered by key.like_ or key.exists_ yet.")
    return {
        "key": _one(model.key.any_, "key") if model.key else None,
        "type": _one(model.type.any_, "type") if model.type else None,
        "flow_run_id": _one(model.flow_run_id.any_, "flow run id") if model.flow_run_id else None,
        "task_run_id": _one(model.task_run_id.any_, "task run id") if model.task_run_id else None,
    }


@router.post("/", status_code=status.HTTP_201_CREATED)
def create_artifact(body: ArtifactCreate, store: StoreDependency) -> Artifact:
    """Publish an artifact (a new version when its key exists)."""
    row = store.write(
        lambda c: artifacts.create_artifact(
            c,
            key=body.key,
            type=body.type,  # type: ignore[arg-type]  # None: refused with 422
            data=body.data,
            description=body.description,
            flow_run_id=body.flow_run_id,
            task_run_id=body.task_run_id,
            metadata=body.metadata_,
        )
    )
    return Artifact.from_row(row)


@router.post("/filter")
def read_artifacts(
    store: StoreDependency, body: ArtifactFilterBody | None = None
) -> list[Artifact]:
    """Artifacts matching the filter, one page (``latest_only``: newest version per key)."""
    body = body or ArtifactFilterBody()
    arguments = filter_arguments(body.artifacts)
    sort = _SORTS[body.sort or ArtifactSort.CREATED_DESC]
    rows = store.read(
        lambda c: artifacts.filter_artifacts(
            c,
            **arguments,
            latest_only=body.latest_only,
            sort=sort,
            limit=body.limit,
            offset=body.offset,
        )
    )
    return [Artifact.from_row(row) for row in rows]


@router.post("/count")
def count_artifacts(store: StoreDependency, body: ArtifactCountBody | None = None) -> int:
    """How many artifacts match."""
    body = body or ArtifactCountBody()
    arguments = filter_arguments(body.artifacts)
    return store.read(
        lambda c: artifacts.count_artifacts(c, **arguments, latest_only=body.latest_only)
    )


@router.get("/{key}/latest", responses={404: {"description": "No artifact has this key"}})
def read_latest_artifact(key: str, store: StoreDependency) -> Artifact:
    """The newest version of the artifacts with this key."""
    row = store.read(lambda c: artifacts.read_latest_artifact(c, key))
    if row is None:
        raise ObjectNotFound(f"No artifact with key {key!r}.")
    return Artifact.from_row(row)


@router.get("/{artifact_id}", responses=_NOT_FOUND)
def read_artifact(artifact_id: uuid.UUID, store: StoreDependency) -> Artifact:
    """One artifact (one version)."""
    row = store.read(lambda c: artifacts.read_artifact(c, artifact_id))
    if row is None:
        raise not_found("artifact", artifact_id)
    return Artifact.from_row(row)


@router.patch("/{artifact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def update_artifact(artifact_id: uuid.UUID, body: ArtifactUpdate, store: StoreDependency) -> None:
    """Change an artifact's data or description in place (progress artifacts)."""
    given = body.model_fields_set
    row = store.write(
        lambda c: artifacts.update_artifact(
            c,
            artifact_id,
            data=body.data if "data" in given else UNSET,
            description=body.description if "description" in given else UNSET,
        )
    )
    if row is None:
        raise not_found("artifact", artifact_id)


@router.delete("/{artifact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_artifact(artifact_id: uuid.UUID, store: StoreDependency) -> None:
    """Delete one artifact (one version)."""
    if not store.write(lambda c: artifacts.delete_artifact(c, artifact_id)):
        raise not_found("artifact", artifact_id)
