"""Concurrency and rate limits, and the leases that hold their slots (Prefect 3's names).

Request bodies (also in ``legato.client.schemas.actions``):
``GlobalConcurrencyLimitCreate``, ``GlobalConcurrencyLimitUpdate``,
``ConcurrencyLimitCreate`` (a tag limit). Objects (also in
``legato.client.schemas.objects``, and ``...responses`` for the response
types): ``GlobalConcurrencyLimitResponse``, ``ConcurrencyLimit`` (a tag
limit: ``tag``, ``concurrency_limit``, ``active_slots`` as the ids of the task
runs holding it), ``ConcurrencyLease``, ``ConcurrencyAcquisition`` (what one
attempt to take slots did) and its ``MinimalConcurrencyLimitResponse`` items.

This module imports pydantic only (``objects`` re-exports it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AcquireMode",
    "ConcurrencyAcquisition",
    "ConcurrencyLease",
    "ConcurrencyLimit",
    "ConcurrencyLimitCreate",
    "GlobalConcurrencyLimit",
    "GlobalConcurrencyLimitCreate",
    "GlobalConcurrencyLimitResponse",
    "GlobalConcurrencyLimitUpdate",
    "LimitSlots",
    "MinimalConcurrencyLimitResponse",
    "RESERVED_LIMIT_NAMES",
    "SlotDecay",
]

LimitSlots = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=2**31 - 1,
        description="Slots: a whole number >= 1 (0 would make every caller wait forever).",
    ),
]
SlotDecay = Annotated[
    float,
    Field(
        ge=0,
        allow_inf_nan=False,
        description="Slots freed each second (a rate limit); 0 for a plain concurrency limit.",
    ),
]
AcquireMode = Literal["concurrency", "rate_limit"]

RESERVED_LIMIT_NAMES = frozenset({"leases"})
"""Names a limit may not take: ``GET /api/v2/concurrency_limits/leases`` lists leases."""


class _ConcurrencyModel(BaseModel):
    """The settings of every legato schema: unknown fields ignored, names or aliases accepted."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# -- request bodies ------------------------------------------------------------


class GlobalConcurrencyLimitCreate(_ConcurrencyModel):
    """Create a global concurrency limit (a rate limit when ``slot_decay_per_second`` > 0)."""

    name: str = Field(min_length=1, max_length=255)
    limit: LimitSlots
    active: bool = True
    slot_decay_per_second: SlotDecay = 0.0


class GlobalConcurrencyLimitUpdate(_ConcurrencyModel):
    """Change a global concurrency limit; fields left out keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    limit: LimitSlots | None = None
    active: bool | None = None
    slot_decay_per_second: SlotDecay | None = None


class ConcurrencyLimitCreate(_ConcurrencyModel):
    """Create (or change) the concurrency limit of a tag."""

    tag: str = Field(min_length=1, max_length=251)
    concurrency_limit: LimitSlots


# -- objects ---------------------------------------------------------------------


class GlobalConcurrencyLimitResponse(_ConcurrencyModel):
    """A global concurrency or rate limit, with its slots in use now."""

    id: uuid.UUID
    name: str
    limit: int
    active: bool = True
    active_slots: int = Field(
        default=0, description="Slots in use: held by unexpired leases, plus a rate's undrained."
    )
    slot_decay_per_second: float = 0.0
    denied_slots: int = Field(default=0, description="Slots refused since creation or reset.")
    decayed_slots: float = Field(
        default=0.0, description="A rate limit's slots that have not drained yet."
    )
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GlobalConcurrencyLimitResponse:
        return cls.model_validate(dict(row))


GlobalConcurrencyLimit = GlobalConcurrencyLimitResponse


class ConcurrencyLimit(_ConcurrencyModel):
    """The concurrency limit of a tag (a global limit named ``tag:<tag>``)."""

    id: uuid.UUID
    tag: str
    concurrency_limit: int
    active_slots: list[uuid.UUID] = Field(
        default_factory=list, description="The task runs holding a slot now."
    )
    slots_in_use: int = Field(
        default=0, description="Slots held now, by task runs or any other holder."
    )
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


class MinimalConcurrencyLimitResponse(_ConcurrencyModel):
    """One limit named in an acquisition, with its slots in use after it."""

    id: uuid.UUID
    name: str
    limit: int
    active: bool = True
    slot_decay_per_second: float = 0.0
    active_slots: int = 0


class ConcurrencyAcquisition(_ConcurrencyModel):
    """What one attempt to take slots did; it never waits (the caller retries).

    ``granted``: the slots were taken on every named limit that exists and is
    active (also True when none does). ``lease_id``: the lease holding them,
    to renew and release (None for a rate limit, or when no limit applied).
    ``missing``: names no limit has. When refused, ``refused_by`` names the
    full limit and ``retry_after_seconds`` hints when to try again.
    """

    granted: bool
    lease_id: uuid.UUID | None = None
    limits: list[MinimalConcurrencyLimitResponse] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    refused_by: str | None = None
    retry_after_seconds: float | None = None


class ConcurrencyLease(_ConcurrencyModel):
    """Slots held on one or more limits until released or ``expiration``."""

    id: uuid.UUID
    limit_names: list[str]
    slots: int
    expiration: dt.datetime
    holder: dict[str, Any] | None = None
    created: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ConcurrencyLease:
        return cls.model_validate(dict(row))
