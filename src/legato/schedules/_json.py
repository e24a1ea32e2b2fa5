"""Schedules from JSON and from keyword arguments: ``schedule_from_json``, ``construct_schedule``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, TypeGuard, cast

from pydantic import BeforeValidator, Field

from legato.exceptions import InvalidSchedule
from legato.schedules._base import Schedule
from legato.schedules._cron import Cron
from legato.schedules._interval import Interval
from legato.schedules._rrule import RRule

if TYPE_CHECKING:
    from pydantic import TypeAdapter

SCHEDULE_TYPES = Cron | Interval | RRule
_KINDS = ("cron", "interval", "rrule")


def _with_kind(value: Any) -> Any:
    """Prefect's JSON shapes carry no ``kind``: tell it from the key that names the schedule."""
    if not isinstance(value, Mapping) or "kind" in value:
        return value
    present = [kind for kind in _KINDS if kind in value]
    if len(present) != 1:
        keys = ", ".join(sorted(map(str, value))) or "none"
        raise InvalidSchedule(
            f"A schedule has exactly one of the keys 'cron', 'interval' or 'rrule' "
            f"(or a 'kind' of {', '.join(map(repr, _KINDS))}); this one has keys: {keys}."
        )
    return {**value, "kind": present[0]}


AnySchedule = Annotated[
    Annotated[SCHEDULE_TYPES, Field(discriminator="kind")], BeforeValidator(_with_kind)
]
"""A pydantic field type for any schedule, from its object, its JSON, or Prefect's JSON."""


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[Cron | Interval | RRule]:
    from pydantic import TypeAdapter

    return TypeAdapter(AnySchedule)


def schedule_from_json(data: Mapping[str, Any] | Schedule) -> Cron | Interval | RRule:
    """The schedule ``data`` describes: ``schedule.model_dump(mode="json")`` or Prefect's shape.

    Prefect's shapes have no ``kind``: ``{"cron": ..., "timezone": ..., "day_or": ...}``,
    ``{"interval": seconds, "anchor_date": ..., "timezone": ...}``, ``{"rrule": ...}``.
    Raises pydantic's ValidationError (a ValueError) for bad values.
    """
    if isinstance(data, Cron | Interval | RRule):
        return data
    return _adapter().validate_python(data)


def construct_schedule(
    interval: float | dt.timedelta | None = None,
    anchor_date: dt.datetime | str | None = None,
    cron: str | None = None,
    rrule: str | None = None,
    timezone: str | None = None,
) -> Cron | Interval | RRule:
    """The schedule of exactly one of ``cron``, ``interval`` (seconds or timedelta) or ``rrule``."""
    given = [
        name
        for name, value in (("cron", cron), ("interval", interval), ("rrule", rrule))
        if value is not None
    ]
    if len(given) != 1:
        got = ", ".join(given) if given else "none"
        raise InvalidSchedule(
            f"Give exactly one of cron=, interval= or rrule= to make a schedule (got: {got}). "
            "Pass several schedules as a list of Cron/Interval/RRule objects instead."
        )
    if interval is not None:
        return Interval(interval, anchor_date=anchor_date, timezone=timezone)
    if anchor_date is not None:
        raise InvalidSchedule(
            "anchor_date applies only to interval schedules; drop it, or use interval=."
        )
    if cron is not None:
        return Cron(cron, timezone=timezone)
    return RRule(cast(str, rrule), timezone=timezone)


def is_schedule_type(value: object) -> TypeGuard[Cron | Interval | RRule]:
    """Whether ``value`` is a Cron, Interval or RRule schedule."""
    return isinstance(value, Cron | Interval | RRule)
