"""The bases every schema module builds on (a leaf: no other schema module imported).

- ``LegatoBaseModel``: unknown fields ignored, durations as seconds;
- ``ObjectBaseModel``: an object with an id and timestamps that also reads like
  its storage row (``obj["name"]``, ``dict(obj)``, ``as_row()``);
- ``FilterBaseModel`` / ``OperatorFilter``: filters refuse unknown fields, and
  combine their set fields with ``operator``.

``objects``, ``actions`` and ``filters`` re-export these; resource modules
(``_work_pools``...) import them from here, so that those three can re-export
the resource models without an import cycle.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FilterBaseModel",
    "LegatoBaseModel",
    "ObjectBaseModel",
    "Operator",
    "OperatorFilter",
    "Row",
    "RowAccess",
    "as_text",
]

Row = dict[str, Any]


def as_text(value: Any) -> str | None:
    """``value`` as text (ids), None kept."""
    return None if value is None else str(value)


class LegatoBaseModel(BaseModel):
    """Settings shared by every schema: unknown fields ignored, durations as seconds."""

    model_config = ConfigDict(
        extra="ignore", ser_json_timedelta="float", populate_by_name=True, use_enum_values=False
    )


class RowAccess:
    """Reading a model like its storage row (``as_row()``), as the CLI does.

    A mixin listed before the pydantic base, so that these methods (``__iter__``
    above all) win over ``BaseModel``'s; ``Mapping``, listed after it, adds
    ``get``, ``keys``, ``items``...
    """

    def as_row(self) -> Row:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.as_row()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_row())

    def __len__(self) -> int:
        return len(self.as_row())

    def __contains__(self, key: object) -> bool:
        return key in self.as_row()


class ObjectBaseModel(RowAccess, LegatoBaseModel, Mapping[str, Any]):  # type: ignore[misc]
    """An object with an id and timestamps, that also reads like its storage row."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    def as_row(self) -> Row:
        """The object as its storage row: ids as text, JSON fields decoded."""
        row = self.model_dump(mode="python", by_alias=False)
        return {
            key: as_text(value) if isinstance(value, uuid.UUID) else value
            for key, value in row.items()
        }


class Operator(StrEnum):
    """How a filter's set fields combine."""

    and_ = "and_"
    or_ = "or_"


class FilterBaseModel(BaseModel):
    """A filter: unknown fields are refused, so a typo cannot silently match everything."""

    model_config = ConfigDict(extra="forbid")


class OperatorFilter(FilterBaseModel):
    """A filter whose fields combine with ``operator``."""

    operator: Operator = Operator.and_
