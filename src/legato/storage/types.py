"""Column types that behave the same on SQLite and PostgreSQL.

- ``UUID``: ``CHAR(36)`` on SQLite, native ``UUID`` on PostgreSQL; values are
  canonical lowercase strings both ways (any spelling ``uuid.UUID`` accepts
  is bound as the canonical one). Binding a string that is not a UUID raises
  ValueError, but *comparing* an id column with one matches nothing, on both
  databases alike (PostgreSQL alone would refuse the query): a read of such
  an id finds nothing.
- ``Timestamp``: always UTC. On SQLite it is stored as ``REAL``, POSIX
  seconds: what the recorder has, so the sqlite3 write path binds it with no
  conversion, and number order is time order. On PostgreSQL it is
  ``TIMESTAMP WITH TIME ZONE``. Reads give timezone-aware UTC datetimes
  (microseconds, rounded like ``datetime.fromtimestamp``); binds accept aware
  datetimes (naive ones are taken as UTC) or POSIX seconds. Comparisons
  (``<``, ``<=``, ``>``, ``>=``) are to the microsecond on both databases:
  SQLite keeps the recorder's finer seconds, so there the bound is moved to
  the last (or first) float that reads back on the right side of it; e.g.
  ``timestamp > t`` never returns the row that was read back as ``t``.
- ``JSON``: ``TEXT`` on SQLite, ``JSONB`` on PostgreSQL; Python values both ways.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeEngine

from legato.storage.records import canonical_uuid

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
        if value is None:
            return None
        canonical = canonical_uuid(value)
        if canonical is None:
            raise ValueError(f"{value!r} is not a UUID")
        return canonical

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        return _ComparedUUID()


class _ComparedUUID(UUID):
    """The type of a value compared with an id column: a non-UUID binds NULL (matches nothing)."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else canonical_uuid(value)


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

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        if op in (operators.gt, operators.le):
            return _ComparedTimestamp(is_upper=True)
        if op in (operators.lt, operators.ge):
            return _ComparedTimestamp(is_upper=False)
        return self


_MICROSECOND = timedelta(microseconds=1)


class _ComparedTimestamp(Timestamp):
    """A bound compared with a timestamp column, so that the comparison is to the microsecond.

    On SQLite, a stored float ``s`` reads back as ``t`` when
    ``datetime.fromtimestamp(s)`` rounds to ``t``. ``column > t`` and
    ``column <= t`` then bind the last float that reads back as ``t`` or
    earlier (``is_upper``); ``column < t`` and ``column >= t`` the first one
    that reads back as ``t`` or later. PostgreSQL stores microseconds: the
    bound is ``t`` itself.
    """

    cache_ok = True

    def __init__(self, is_upper: bool = False) -> None:
        super().__init__()
        self.is_upper = is_upper

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        moment = to_datetime(value)  # rounded to the microsecond
        if dialect.name != "sqlite":
            return moment
        if self.is_upper:
            return math.nextafter(_first_seconds_reading_as(moment + _MICROSECOND), -math.inf)
        return _first_seconds_reading_as(moment)


def _first_seconds_reading_as(moment: datetime) -> float:
    """The smallest float ``s`` with ``datetime.fromtimestamp(s, UTC) >= moment`` (bisection)."""
    exact = moment.timestamp()
    low, high = exact - 1e-6, exact + 1e-6
    if not datetime.fromtimestamp(low, UTC) < moment <= datetime.fromtimestamp(high, UTC):
        return exact  # floats too coarse here for sub-microsecond digits
    while math.nextafter(low, math.inf) < high:
        middle = (low + high) / 2
        if datetime.fromtimestamp(middle, UTC) >= moment:
            high = middle
        else:
            low = middle
    return high


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
