"""Variables: named JSON values that flows read at run time.

>>> from legato.variables import Variable
>>> Variable.set("batch_size", 500, tags=["etl"])  # doctest: +SKIP
>>> Variable.get("batch_size", default=100)  # doctest: +SKIP
500

Names hold lowercase letters, digits, underscores and dashes (at most 255
characters); values are JSON (str, int, float, bool, None, lists and dicts of
those), at most 10,000 characters once encoded. Variables are configuration,
not secrets: they are stored as plain text. See docs/artifacts-variables.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from legato.client import get_client
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound

__all__ = ["Variable"]


@dataclass(frozen=True)
class Variable:
    """A stored variable: its ``name``, its JSON ``value`` and its ``tags``."""

    name: str
    value: Any = None
    tags: list[str] = field(default_factory=list)

    @classmethod
    def _from_row(cls, row: Mapping[str, Any]) -> Variable:
        return cls(name=row["name"], value=row["value"], tags=list(row["tags"]))

    @classmethod
    def get(cls, name: str, default: Any = None) -> Any:
        """The value of the variable ``name``; ``default`` if there is no such variable."""
        with get_client(sync_client=True) as client:
            row = client.read_variable_by_name(name)
        return default if row is None else row["value"]

    @classmethod
    def set(
        cls,
        name: str,
        value: Any,
        tags: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Variable:
        """Store ``value`` as ``name``; with ``overwrite``, replace its value and tags.

        Raises ObjectAlreadyExists when ``name`` exists and ``overwrite`` is
        False, and ParameterError for a bad name, value or tags.
        """
        try:
            with get_client(sync_client=True) as client:
                row = client.set_variable(name, value, tags=tags, overwrite=overwrite)
        except ObjectAlreadyExists as exc:
            raise ObjectAlreadyExists(
                f"Variable {name!r} exists already. Use Variable.set({name!r}, value, "
                "overwrite=True) to replace it, or choose another name."
            ) from exc
        return cls._from_row(row)

    @classmethod
    def unset(cls, name: str) -> bool:
        """Delete the variable ``name``; False if there was none."""
        try:
            with get_client(sync_client=True) as client:
                client.delete_variable_by_name(name)
        except ObjectNotFound:
            return False
        return True

    @classmethod
    async def aget(cls, name: str, default: Any = None) -> Any:
        """Async twin of ``get``."""
        return await asyncio.to_thread(cls.get, name, default)

    @classmethod
    async def aset(
        cls,
        name: str,
        value: Any,
        tags: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Variable:
        """Async twin of ``set``."""
        return await asyncio.to_thread(cls.set, name, value, tags, overwrite)

    @classmethod
    async def aunset(cls, name: str) -> bool:
        """Async twin of ``unset``."""
        return await asyncio.to_thread(cls.unset, name)
