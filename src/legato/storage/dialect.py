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
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["bytewise", "json_array_holds"]


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
