"""``Cron``: a schedule of local times named by a five-field cron expression.

Expressions are parsed by croniter (so ``L``, ``W`` and ``#`` work as there);
plain expressions (numbers, ranges, lists, steps, names) are then walked day by
day here, which is what makes expanding many schedules cheap. croniter walks
the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import field_validator, model_validator

from legato.exceptions import InvalidSchedule
from legato.schedules._base import REQUIRED, Schedule, without_missing
from legato.schedules._zones import Moment, clock_after, moments_of, on_clock

MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_SHAPE_HINT = (
    "A cron expression has 5 fields (minute hour day month weekday), e.g. '0 9 * * 1-5' "
    "for 09:00 on weekdays, or is one of " + ", ".join(sorted(MACROS)) + "."
)
_ONE_DAY = dt.timedelta(days=1)
_MAX_IDLE_DAYS = 400 * 366


class Cron(Schedule):
    """Runs at the local times a cron expression names, in ``timezone`` (default UTC).

    ``day_or=True`` (cron's rule) fires on days matching the day-of-month OR
    the weekday field when both are restricted; ``day_or=False`` needs both.
    Each local time fires once: a repeated time (clocks go back) at its first
    occurrence, a skipped time (clocks go forward) one gap later.
    """

    kind: Literal["cron"] = "cron"
    cron: str
    day_or: bool = True

    def __init__(
        self,
        cron: str = REQUIRED,
        timezone: str | None = None,
        day_or: bool = True,
        active: bool = True,
        parameters: dict[str, Any] | None = None,
        slug: str | None = None,
        **data: Any,
    ) -> None:
        fields: dict[str, Any] = {
            "cron": cron,
            "timezone": timezone,
            "day_or": day_or,
            "active": active,
            "parameters": parameters,
            "slug": slug,
        }
        super().__init__(**without_missing(fields), **data)

    @field_validator("cron")
    @classmethod
    def _valid_expression(cls, value: str) -> str:
        return check_cron(value)

    @model_validator(mode="after")
    def _matches_some_date(self) -> Cron:
        if not _is_satisfiable(self.cron, self.day_or):
            raise InvalidSchedule(
                f"Cron expression {self.cron!r} (day_or={self.day_or}) never matches a date "
                "(e.g. February 30). Check its day and month fields."
            )
        return self

    def _moments(self, start: dt.datetime) -> Iterator[Moment]:
        after = clock_after(start, self.zone)
        return moments_of(local_times(self.cron, self.day_or, after), self.zone)


def check_cron(expression: str) -> str:
    """``expression`` stripped; InvalidSchedule naming the problem and the fix otherwise."""
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise InvalidSchedule(f"Unknown cron macro {expression!r}. {_SHAPE_HINT}")
        return text
    fields = text.split()
    if len(fields) != 5:
        raise InvalidSchedule(
            f"Invalid cron expression {expression!r}: it has {len(fields)} "
            f"field{'' if len(fields) == 1 else 's'}. {_SHAPE_HINT}"
        )
    for field in fields:
        for token in field.split(","):
            if token[:1].upper() in ("R", "H"):
                raise InvalidSchedule(
                    f"Invalid cron expression {expression!r}: random (R) and hashed (H) values "
                    "are not supported, because their times would change each time the "
                    "schedule is read. Write explicit values, e.g. '17 * * * *'."
                )
    _expand(text)
    return text


def _expand(text: str) -> tuple[list[list[Any]], dict[Any, Any]]:
    from croniter import CroniterError, croniter

    try:
        fields, nth = croniter.expand(text)
    except CroniterError as exc:
        raise InvalidSchedule(f"Invalid cron expression {text!r}: {exc}. {_SHAPE_HINT}") from None
    return fields, nth


@lru_cache(maxsize=1024)
def _is_satisfiable(text: str, day_or: bool) -> bool:
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(text, dt.datetime(2000, 1, 1), day_or=day_or).get_next(dt.datetime)
    except CroniterBadDateError:
        return False
    return True


def local_times(text: str, day_or: bool, after: dt.datetime) -> Iterator[dt.datetime]:
    """Wall-clock times matching the expression, strictly after ``after``, in order.

    ``after`` and the times given carry the schedule's zone as tzinfo.
    """
    fields = _plain_fields(text)
    if fields is None:
        naive = _croniter_times(text, day_or, after.replace(tzinfo=None))
        return on_clock(naive, after.tzinfo or dt.UTC)
    return fields.times_after(after, day_or)


def _croniter_times(text: str, day_or: bool, after: dt.datetime) -> Iterator[dt.datetime]:
    from croniter import CroniterBadDateError, croniter

    iterator = croniter(text, after, day_or=day_or)
    while True:
        try:
            yield iterator.get_next(dt.datetime)
        except (CroniterBadDateError, OverflowError, ValueError):  # no more dates, or past 9999
            return


@dataclass(frozen=True, slots=True)
class _PlainFields:
    """An expression without L, W or #: sets of values (None for '*')."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # cron numbering: Sunday is 0

    def matches_day(self, day: dt.date, day_or: bool) -> bool:
        weekday = (day.weekday() + 1) % 7
        if day_or and self.days is not None and self.weekdays is not None:
            return day.day in self.days or weekday in self.weekdays
        return (self.days is None or day.day in self.days) and (
            self.weekdays is None or weekday in self.weekdays
        )

    def times_after(self, after: dt.datetime, day_or: bool) -> Iterator[dt.datetime]:
        day, idle = after.date(), 0
        try:
            while idle < _MAX_IDLE_DAYS:
                if self.months is not None and day.month not in self.months:
                    day, idle = _next_month(day), idle + 28
                    continue
                if self.matches_day(day, day_or):
                    idle = 0
                    yield from self._times_on(day, after)
                else:
                    idle += 1
                day += _ONE_DAY
        except (OverflowError, ValueError):  # past year 9999
            return

    def _times_on(self, day: dt.date, after: dt.datetime) -> Iterator[dt.datetime]:
        first_day, zone = day == after.date(), after.tzinfo
        for hour in self.hours:
            if first_day and hour < after.hour:
                continue
            for minute in self.minutes:
                moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                if moment > after:
                    yield moment


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


@lru_cache(maxsize=1024)
def _plain_fields(text: str) -> _PlainFields | None:
    fields, nth = _expand(text)
    if nth or (not text.startswith("@") and "W" in text.split()[2].upper()):
        return None
    if any(value != "*" and not isinstance(value, int) for field in fields for value in field):
        return None
    minutes, hours, days, months, weekdays = fields
    return _PlainFields(
        minutes=tuple(range(60)) if minutes[0] == "*" else tuple(sorted(minutes)),
        hours=tuple(range(24)) if hours[0] == "*" else tuple(sorted(hours)),
        days=None if days[0] == "*" else frozenset(days),
        months=None if months[0] == "*" else frozenset(months),
        weekdays=None if weekdays[0] == "*" else frozenset(weekdays),
    )
