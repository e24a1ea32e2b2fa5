"""SQL that must be spelled differently on SQLite and PostgreSQL, as SQLAlchemy constructs.

Queries use these instead of testing the dialect themselves:

- ``bytewise(column)``: a text column to sort by, in code point order on both
  databases. SQLite compares text bytewise (its ``BINARY`` collation); a
  PostgreSQL database usually has a linguistic default collation (``en_US``,
  ICU), where ``"B" < "a"`` no longer holds and punctuation is skipped. On
  PostgreSQL this is ``column COLLATE "C"``; on SQLite, the column.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["bytewise"]


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
