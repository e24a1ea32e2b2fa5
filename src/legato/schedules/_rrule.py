"""``RRule``: a schedule of the local times an RFC 5545 recurrence rule names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import field_validator

from legato.schedules._base import REQUIRED, Schedule, without_missing
from legato.schedules._rrule_text import RRuleText, Rule, parse_rrule_text
from legato.schedules._zones import (
    Moment,
    clock_after,
    load_zone,
    local_naive,
    moments_of,
    on_clock,
    zone_key,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

DEFAULT_DTSTART = dt.datetime(2020, 1, 1)
"""DTSTART when the rule has none: midnight, 1 January 2020, in the schedule's time zone."""


class RRule(Schedule):
    """Runs at the local times an RFC 5545 recurrence rule names.

    ``rrule`` holds an RRULE (``'FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9'``), or
    lines of DTSTART, RRULE, EXRULE, RDATE and EXDATE. The rule repeats on the
    local clock of ``timezone``; without one, on that of DTSTART's TZID, else
    UTC. A DTSTART without a zone is a local time in that zone; one with a zone
    (TZID, or Z for UTC) is an instant. Without DTSTART the rule starts at
    2020-01-01 00:00 local time. COUNT and UNTIL are kept; dates are given as
    dateutil gives them (DTSTART itself only when it matches the rule).
    """

    kind: Literal["rrule"] = "rrule"
    rrule: str

    def __init__(
        self,
        rrule: str = REQUIRED,
        timezone: str | None = None,
        active: bool = True,
        parameters: dict[str, Any] | None = None,
        slug: str | None = None,
        **data: Any,
    ) -> None:
        fields: dict[str, Any] = {
            "rrule": rrule,
            "timezone": timezone,
            "active": active,
            "parameters": parameters,
            "slug": slug,
        }
        super().__init__(**without_missing(fields), **data)

    @field_validator("rrule")
    @classmethod
    def _readable(cls, value: str) -> str:
        text = value.strip()
        parse_rrule_text(text)
        return text

    @property
    def zone(self) -> ZoneInfo:
        if self.timezone is not None:
            return load_zone(self.timezone)
        dtstart = parse_rrule_text(self.rrule).dtstart
        key = None if dtstart is None else zone_key(dtstart.tzinfo)
        return load_zone(key or "UTC")

    def _moments(self, start: dt.datetime) -> Iterator[Moment]:
        zone = self.zone
        after = clock_after(start, zone).replace(tzinfo=None)
        naive = _local_times(parse_rrule_text(self.rrule), zone, after)
        return moments_of(on_clock(naive, zone), zone)


def _local_times(parts: RRuleText, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    """Naive local times the rule names, strictly after ``after``, in order."""
    from dateutil.rrule import rruleset

    dtstart = DEFAULT_DTSTART if parts.dtstart is None else _local(parts.dtstart, zone)
    recurrence = rruleset()
    for rule in parts.rules:
        recurrence.rrule(_build(rule, dtstart, zone, after))
    for rule in parts.exrules:
        recurrence.exrule(_build(rule, dtstart, zone, after))
    for moment in parts.rdates:
        recurrence.rdate(_local(moment, zone))
    for moment in parts.exdates:
        recurrence.exdate(_local(moment, zone))
    return recurrence.xafter(after, inc=False)


def _build(rule: Rule, dtstart: dt.datetime, zone: ZoneInfo, after: dt.datetime) -> Any:
    """The dateutil rule, in naive local time, started as late as keeps its dates after ``after``.

    A rule without COUNT whose periods have a fixed length (SECONDLY to WEEKLY)
    gives the same dates from any start moved by whole periods, so it starts
    in the period before ``after`` rather than years earlier.
    """
    from dateutil.rrule import rrulestr

    step = rule.step()
    if step is not None and after > dtstart:
        dtstart += max((after - dtstart) // step - 1, 0) * step
    until = None if rule.until is None else _local(rule.until, zone)
    return rrulestr(rule.text(until), dtstart=dtstart)


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A floating time as it is; an aware one as the wall-clock reading in ``zone``."""
    return moment if moment.tzinfo is None else local_naive(moment, zone)
