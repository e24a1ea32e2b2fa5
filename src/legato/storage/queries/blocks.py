"""Saved blocks: configuration documents stored by (block type, name).

Reads and writes both live here (blocks are never on the hot path), in
SQLAlchemy Core, so they work unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.dialect import bytewise
from legato.storage.queries._common import Row, equals, fetch_all, fetch_one, page
from legato.storage.schema import block_documents


def read_block_document(connection: Connection, block_type_slug: str, name: str) -> Row | None:
    """The saved document ``block_type_slug/name``, None if there is none."""
    statement = sa.select(block_documents).where(
        block_documents.c.block_type_slug == block_type_slug, block_documents.c.name == name
    )
    return fetch_one(connection, statement)


def read_block_documents(
    connection: Connection, *, block_type_slug: str | None = None, limit: int = 100, offset: int = 0
) -> list[Row]:
    """Saved documents by type and name."""
    statement = (
        sa.select(block_documents)
        .where(*equals(block_documents.c.block_type_slug, block_type_slug))
        .order_by(bytewise(block_documents.c.block_type_slug), bytewise(block_documents.c.name))
    )
    return fetch_all(connection, page(statement, limit, offset))


def save_block_document(
    connection: Connection,
    block_type_slug: str,
    name: str,
    data: dict[str, Any],
    *,
    overwrite: bool,
) -> bool:
    """Insert, or replace when ``overwrite``; False if it exists and may not be replaced."""
    existing = read_block_document(connection, block_type_slug, name)
    now = time.time()
    if existing is None:
        connection.execute(
            sa.insert(block_documents).values(
                id=str(uuid.uuid4()),
                block_type_slug=block_type_slug,
                name=name,
                data=data,
                created=now,
                updated=now,
            )
        )
        return True
    if not overwrite:
        return False
    connection.execute(
        sa.update(block_documents)
        .where(block_documents.c.id == existing["id"])
        .values(data=data, updated=now)
    )
    return True


def delete_block_document(connection: Connection, block_type_slug: str, name: str) -> bool:
    """Delete one saved document; False if there was none."""
    result = connection.execute(
        sa.delete(block_documents).where(
            block_documents.c.block_type_slug == block_type_slug, block_documents.c.name == name
        )
    )
    return bool(result.rowcount)
