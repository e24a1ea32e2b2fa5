"""SQL that must be spelled differently on SQLite and PostgreSQL, as SQLAlchemy constructs.

Queries use these instead of testing the dialect themselves:

- ``bytewise(column)``: a text column to sort by, in code point order on both
  databases. SQLite compares text bytewise (its ``BINARY`` collation); a
  PostgreSQL database usually has a linguistic default collation (``en_US``,
  ICU), where ``"B" < "a"`` no longer holds and punctuation is skipped. On
  PostgreSQL this is ``column COLLATE "C"``; on SQLite, the column.
- ``json_array_holds(column, text)``: whether the JSON array of strings in
  ``column`` holds ``text``. On PostgreSQL ``column @> jsonb_build_array(text)``;
  on SQLite an ``EXISTS`` over ``json_each(column)``.
- ``insert_ignoring_conflicts(connection, table)``: ``INSERT ... ON CONFLICT
  DO NOTHING`` (any unique constraint or index, partial ones included); both
  databases spell it alike, but SQLAlchemy builds it per dialect.
- ``plus_seconds(column, seconds)``: a timestamp column moved by a number of
  seconds (an SQL expression, e.g. another column). SQLite keeps POSIX
  seconds: ``column + seconds``; PostgreSQL ``column + make_interval(secs =>
  seconds)``. Compare it with a bound time like the column itself.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from legato.storage.types import Timestamp

__all__ = ["bytewise", "insert_ignoring_conflicts", "json_array_holds", "plus_seconds"]


class bytewise(FunctionElement[str]):
    """``column`` ordered by code point on every database (see the module doc)."""

    type = sa.String()
    inherit_cache = True
    name = "bytewise"


@compiles(bytewise)
def _compile_bytewise(element: bytewise, compiler: SQLCompiler, **kwargs: Any) -> str:
    return str(compiler.process(element.clauses, **kwargs))


@compiles(bytewise, "postgresql")
def _compile_bytewise_postgresql(element: bytewise, compiler: SQLCompiler, **kwargs: Any) -> str:
    return f'{compiler.process(element.clauses, **kwargs)} COLLATE "C"'


class json_array_holds(FunctionElement[bool]):
    """Whether the JSON array in ``column`` holds the string ``text`` (see the module doc)."""

    type = sa.Boolean()
    inherit_cache = True
    name = "json_array_holds"

    def __init__(self, column: Any, text: str) -> None:
        super().__init__(column, sa.literal(text, sa.String))


@compiles(json_array_holds, "sqlite")
def _compile_json_array_holds_sqlite(
    element: json_array_holds, compiler: SQLCompiler, **kwargs: Any
) -> str:
    column, text = (compiler.process(clause, **kwargs) for clause in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {text})"


@compiles(json_array_holds, "postgresql")
def _compile_json_array_holds_postgresql(
    element: json_array_holds, compiler: SQLCompiler, **kwargs: Any
) -> str:
    column, text = (compiler.process(clause, **kwargs) for clause in element.clauses)
    return f"({column} @> jsonb_build_array(CAST({text} AS TEXT)))"


def insert_ignoring_conflicts(connection: Connection, table: sa.Table) -> Any:
    """``INSERT INTO table ... ON CONFLICT DO NOTHING`` for ``connection``'s database.

    A row that would break any unique constraint or index is skipped (with
    ``RETURNING``, only the rows inserted come back).
    """
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


class plus_seconds(FunctionElement[Any]):
    """A timestamp ``column`` plus ``seconds`` (see the module doc)."""

    type = Timestamp()
    inherit_cache = True
    name = "plus_seconds"


@compiles(plus_seconds, "sqlite")
def _compile_plus_seconds_sqlite(
    element: plus_seconds, compiler: SQLCompiler, **kwargs: Any
) -> str:
    column, seconds = (compiler.process(clause, **kwargs) for clause in element.clauses)
    return f"({column} + ({seconds}))"


@compiles(plus_seconds, "postgresql")
def _compile_plus_seconds_postgresql(
    element: plus_seconds, compiler: SQLCompiler, **kwargs: Any
) -> str:
    column, seconds = (compiler.process(clause, **kwargs) for clause in element.clauses)
    return f"({column} + make_interval(secs => ({seconds})))"
