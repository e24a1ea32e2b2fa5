"""/api/block_documents: saved blocks by (block type slug, name) (legato's own shape).

What ``LocalFileSystem(...).save("name")`` and ``.load("name")`` need when
runs are recorded through a server: a JSON document stored under a block type
and a name. Prefect 3's block schemas and types are not served.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from legato.exceptions import ObjectAlreadyExists, ObjectNotFound
from legato.server.api._common import Body, StoreDependency, not_found_response
from legato.storage.queries import blocks

router = APIRouter(prefix="/block_documents", tags=["Blocks"])

_NOT_FOUND = not_found_response("No block of this type has this name")


class BlockDocument(BaseModel):
    """A saved block: its type, its name and its data."""

    id: uuid.UUID
    block_type_slug: str
    name: str
    data: dict[str, Any]
    created: dt.datetime
    updated: dt.datetime


class BlockDocumentCreate(Body):
    block_type_slug: str = Field(min_length=1)
    name: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)
    overwrite: bool = False


class BlockDocumentFilter(Body):
    block_type_slug: str | None = None


@router.post("/", status_code=status.HTTP_201_CREATED, responses={409: {"description": "Taken"}})
def save_block_document(body: BlockDocumentCreate, store: StoreDependency) -> BlockDocument:
    """Save a block; 409 when the name is taken and ``overwrite`` is false."""

    def work(connection: Any) -> dict[str, Any] | None:
        saved = blocks.save_block_document(
            connection, body.block_type_slug, body.name, body.data, overwrite=body.overwrite
        )
        return (
            blocks.read_block_document(connection, body.block_type_slug, body.name)
            if saved
            else None
        )

    row = store.write(work)
    if row is None:
        raise ObjectAlreadyExists(
            f"A {body.block_type_slug!r} block named {body.name!r} exists already. "
            "Pass overwrite=True to replace it, or choose another name."
        )
    return BlockDocument.model_validate(row)


@router.post("/filter")
def read_block_documents(
    store: StoreDependency, body: BlockDocumentFilter | None = None
) -> list[BlockDocument]:
    """Saved blocks, by type and name."""
    slug = None if body is None else body.block_type_slug
    rows = store.read(lambda c: blocks.read_block_documents(c, block_type_slug=slug, limit=10_000))
    return [BlockDocument.model_validate(row) for row in rows]


@router.get("/{block_type_slug}/{name}", responses=_NOT_FOUND)
def read_block_document(block_type_slug: str, name: str, store: StoreDependency) -> BlockDocument:
    """One saved block."""
    row = store.read(lambda c: blocks.read_block_document(c, block_type_slug, name))
    if row is None:
        raise ObjectNotFound(f"No {block_type_slug!r} block named {name!r}.")
    return BlockDocument.model_validate(row)


@router.delete(
    "/{block_type_slug}/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
def delete_block_document(block_type_slug: str, name: str, store: StoreDependency) -> None:
    """Delete a saved block."""
    if not store.write(lambda c: blocks.delete_block_document(c, block_type_slug, name)):
        raise ObjectNotFound(f"No {block_type_slug!r} block named {name!r}.")
