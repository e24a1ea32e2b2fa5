"""Reads of flows."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from legato.storage.queries._common import Row, contains, fetch_all, page
from legato.storage.schema import flows


def read_flows(
    connection: Connection, *, name: str | None = None, limit: int = 100, offset: int = 0
) -> list[Row]:
    """Flows, newest first; ``name`` filters by substring, ignoring case."""
    statement = (
        sa.select(flows)
        .where(*contains(flows.c.name, name))
        .order_by(flows.c.created.desc(), flows.c.id.desc())
    )
    return fetch_all(connection, page(statement, limit, offset))
