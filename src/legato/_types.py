"""Leaf types shared across layers (no imports beyond the standard library)."""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["UNSET", "Unset"]


class Unset(enum.Enum):
    """The type of ``UNSET``: "leave this field as it is" in partial updates."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset.UNSET
"""A default that means "not given", where ``None`` is a value (e.g. a description)."""
