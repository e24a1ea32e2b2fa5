"""/api/variables: create, read, update and delete by name, filter, count.

Filters map onto ``legato.orchestration.variables``: ``name.like_`` and
``tags.all_``; what that service cannot filter on is refused with 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from legato._types import UNSET
from legato.client.schemas.actions import VariableCreate, VariableUpdate
from legato.client.schemas.filters import VariableFilter
from legato.client.schemas.objects import Variable
from legato.client.schemas.sorting import VariableSort
from legato.exceptions import ObjectNotFound, ParameterError
from legato.orchestration import variables
from legato.server.api._common import Body, Limit, Offset, StoreDependency, not_found_response

router = APIRouter(prefix="/variables", tags=["Variables"])

_NOT_FOUND = not_found_response("No variable has this name")


class VariableCountBody(Body):
    variables: VariableFilter | None = None


class VariableFilterBody(VariableCountBody):
    sort: VariableSort | None = None
    limit: Limit = 200
    offset: Offset = 0


def filter_arguments(model: VariableFilter | None) -> dict[str, Any]:
    """The keyword arguments of ``filter_variables`` for ``model``."""
    if model is None:
        return {}
    if model.id is not None or (model.name is not None and model.name.any_ is not None):
        raise ParameterError(
            "Variables cannot be filtered by id or name.any_ yet; read one by name with "
            "GET /api/variables/name/{name}."
        )
    if model.tags is not None and model.tags.is_null_ is not None:
        raise ParameterError("Variables cannot be filtered by tags.is_null_ yet.")
    return {
        "name_like": model.name.like_ if model.name else None,
        "tags": model.tags.all_ if model.tags else None,
    }


def _not_found(name: str) -> ObjectNotFound:
    return ObjectNotFound(f"No variable named {name!r}.")


@router.post("/", status_code=status.HTTP_201_CREATED, responses={409: {"description": "Taken"}})
def create_variable(body: VariableCreate, store: StoreDependency) -> Variable:
    """Create a variable; 409 when the name is taken."""
    row = store.write(
        lambda c: variables.create_variable(c, name=body.name, value=body.value, tags=body.tags)
    )
    return Variable.from_row(row)


@router.post("/filter")
def read_variables(
    store: StoreDependency, body: VariableFilterBody | None = None
) -> list[Variable]:
    """Variables matching the filter, one page (default order: by name)."""
    body = body or VariableFilterBody()
    arguments = filter_arguments(body.variables)
    sort = (body.sort or VariableSort.NAME_ASC).value.lower()
    rows = store.read(
        lambda c: variables.filter_variables(
            c, **arguments, sort=sort, limit=body.limit, offset=body.offset
        )
    )
    return [Variable.from_row(row) for row in rows]


@router.post("/count")
def count_variables(store: StoreDependency, body: VariableCountBody | None = None) -> int:
    """How many variables match."""
    body = body or VariableCountBody()
    arguments = filter_arguments(body.variables)
    return store.read(lambda c: variables.count_variables(c, **arguments))


@router.get("/name/{name}", responses=_NOT_FOUND)
def read_variable_by_name(name: str, store: StoreDependency) -> Variable:
    """One variable."""
    row = store.read(lambda c: variables.read_variable_by_name(c, name))
    if row is None:
        raise _not_found(name)
    return Variable.from_row(row)


@router.patch("/name/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def update_variable(name: str, body: VariableUpdate, store: StoreDependency) -> None:
    """Change a variable's value and/or tags (fields left out keep theirs)."""
    given = body.model_fields_set
    row = store.write(
        lambda c: variables.update_variable(
            c,
            name,
            value=body.value if "value" in given else UNSET,
            tags=body.tags if "tags" in given else UNSET,
        )
    )
    if row is None:
        raise _not_found(name)


@router.delete("/name/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_variable(name: str, store: StoreDependency) -> None:
    """Delete a variable."""
    if not store.write(lambda c: variables.delete_variable(c, name)):
        raise _not_found(name)
