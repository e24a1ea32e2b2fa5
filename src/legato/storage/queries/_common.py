"""Helpers shared by the query modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Row = dict[str, Any]


def fetch_all(connection: Connection, statement: sa.Select[Any]) -> list[Row]:
    """Every row of ``statement`` as a dict."""
    return [dict(row) for row in connection.execute(statement).mappings()]


def fetch_one(connection: Connection, statement: sa.Select[Any]) -> Row | None:
    """The first row of ``statement`` as a dict, None if there is none."""
    row = connection.execute(statement).mappings().first()
    return None if row is None else dict(row)


def page(statement: sa.Select[Any], limit: int, offset: int) -> sa.Select[Any]:
    """``statement`` limited to one page; negative bounds are refused."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got limit={limit}, offset={offset}")
    return statement.limit(limit).offset(offset)


def is_in(
    column: sa.ColumnElement[Any], values: Sequence[Any] | None
) -> list[sa.ColumnElement[bool]]:
    """``column IN values`` as a one-item filter list; no filter when ``values`` is None."""
    return [] if values is None else [column.in_(list(values))]


def equals(column: sa.ColumnElement[Any], value: Any) -> list[sa.ColumnElement[bool]]:
    """``column = value`` as a one-item filter list; no filter when ``value`` is None."""
    return [] if value is None else [column == value]


def contains(column: sa.ColumnElement[str], text: str | None) -> list[sa.ColumnElement[bool]]:
    """``column`` contains ``text``, ignoring case; no filter when None.

    Case-insensitive on both databases (SQLite's LIKE ignores ASCII case,
    PostgreSQL's does not: ``icontains`` is ``ILIKE`` there, ``lower() LIKE
    lower()`` on SQLite); ``%`` and ``_`` in ``text`` match themselves.
    """
    return [] if text is None else [column.icontains(text, autoescape=True)]
