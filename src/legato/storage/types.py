"""Column types that behave the same on SQLite and PostgreSQL.

- ``UUID``: ``CHAR(36)`` on SQLite, native ``UUID`` on PostgreSQL; values are
  canonical lowercase strings both ways.
- ``Timestamp``: always UTC. On SQLite it is stored as ``REAL``, POSIX
  seconds: what the recorder has, so the sqlite3 write path binds it with no
  conversion, and number order is time order. On PostgreSQL it is
  ``TIMESTAMP WITH TIME ZONE``. Reads give timezone-aware UTC datetimes
  (microseconds, rounded like ``datetime.fromtimestamp``); binds accept aware
  datetimes (naive ones are taken as UTC) or POSIX seconds.
- ``JSON``: ``TEXT`` on SQLite, ``JSONB`` on PostgreSQL; Python values both ways.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = ["JSON", "UUID", "Timestamp", "to_datetime", "to_seconds"]


class UUID(sa.types.TypeDecorator[str]):
    """A UUID, exchanged with Python as its canonical string."""

    impl = sa.CHAR(36)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(sa.CHAR(36))

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value).lower()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


class Timestamp(sa.types.TypeDecorator[datetime]):
    """A UTC instant; aware datetimes out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.REAL())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_seconds(value)
        return to_datetime(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_datetime(value)


class JSON(sa.types.TypeDecorator[Any]):
    """A JSON document."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name != "postgresql":
            return json.loads(value)
        return value


def to_datetime(value: datetime | float) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC) or POSIX seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)


def to_seconds(value: datetime | float) -> float:
    """POSIX seconds from a datetime (naive means UTC) or POSIX seconds."""
    if isinstance(value, datetime):
        return to_datetime(value).timestamp()
    return float(value)
