"""``Interval``: a schedule of equal steps from an anchor date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)

from legato.exceptions import InvalidSchedule
from legato.schedules._base import REQUIRED, Schedule, without_missing
from legato.schedules._zones import UTC, Moment, clock_after, load_zone, moments_of, zone_key

WALL_CLOCK_FROM = dt.timedelta(days=1)
"""Intervals at least this long step on the local clock; shorter ones in elapsed time."""

DEFAULT_ANCHOR = dt.datetime(2020, 1, 1)
"""The anchor when none is given: midnight, 1 January 2020, in the schedule's time zone."""


class Interval(Schedule):
    """Runs every ``interval`` (seconds, or a timedelta) from ``anchor_date``.

    Intervals shorter than a day are elapsed time: an hourly schedule fires
    every real hour, across DST changes too. Intervals of a day or more step
    on the local clock of ``timezone``: a daily schedule keeps its local time
    of day across DST changes. No dates come before ``anchor_date``, which
    defaults to 2020-01-01 00:00 in the time zone; a naive ``anchor_date`` is
    read in the time zone, and an aware one with an IANA zone sets
    ``timezone`` when none is given.
    """

    kind: Literal["interval"] = "interval"
    interval: Annotated[
        dt.timedelta,
        WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "description": "seconds"}),
    ]
    anchor_date: dt.datetime = Field(default=None, validate_default=True)

    def __init__(
        self,
        interval: float | dt.timedelta = REQUIRED,
        anchor_date: dt.datetime | str | None = None,
        timezone: str | None = None,
        active: bool = True,
        parameters: dict[str, Any] | None = None,
        slug: str | None = None,
        **data: Any,
    ) -> None:
        fields: dict[str, Any] = {
            "interval": interval,
            "anchor_date": anchor_date,
            "timezone": timezone,
            "active": active,
            "parameters": parameters,
            "slug": slug,
        }
        super().__init__(**without_missing(fields), **data)

    @model_validator(mode="before")
    @classmethod
    def _timezone_of_anchor(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("timezone") is None:
            key = zone_key(getattr(data.get("anchor_date"), "tzinfo", None))
            if key is not None:
                return {**data, "timezone": key}
        return data

    @field_validator("interval", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise InvalidSchedule(f"interval={value!r} is not a duration: {_INTERVAL_HINT}")
        if isinstance(value, int | float):
            try:
                return dt.timedelta(seconds=value)
            except (OverflowError, ValueError):
                raise InvalidSchedule(
                    f"interval={value!r} is not usable: {_INTERVAL_HINT}"
                ) from None
        return value

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: dt.timedelta) -> dt.timedelta:
        if value <= dt.timedelta(0):
            raise InvalidSchedule(
                f"interval={value.total_seconds()} seconds must be greater than 0: {_INTERVAL_HINT}"
            )
        return value

    @field_validator("anchor_date", mode="before")
    @classmethod
    def _default_anchor(cls, value: Any) -> Any:
        return DEFAULT_ANCHOR if value is None else value

    @field_validator("anchor_date")
    @classmethod
    def _aware_anchor(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        if value.tzinfo is not None:
            return value
        return value.replace(tzinfo=load_zone(info.data.get("timezone") or "UTC"))

    @field_serializer("interval", when_used="json")
    def _interval_seconds(self, value: dt.timedelta) -> float:
        return value.total_seconds()

    def _moments(self, start: dt.datetime) -> Iterator[Moment]:
        zone = self.zone
        if self.interval < WALL_CLOCK_FROM:
            return ((instant, instant.astimezone(zone)) for instant in self._elapsed(start))
        anchor = self.anchor_date.astimezone(zone).replace(fold=0)
        first = max(0, (clock_after(start, zone) - anchor) // self.interval)
        return moments_of(self._steps(anchor, first), zone)

    def _elapsed(self, start: dt.datetime) -> Iterator[dt.datetime]:
        anchor = self.anchor_date.astimezone(UTC)
        first = max(0, -((anchor - start) // self.interval))
        return self._steps(anchor, first)

    def _steps(self, anchor: dt.datetime, first: int) -> Iterator[dt.datetime]:
        """``anchor`` plus whole intervals (on ``anchor``'s clock), from the ``first``-th."""
        try:
            moment = anchor + first * self.interval
            while True:
                yield moment
                moment += self.interval
        except OverflowError:
            return


_INTERVAL_HINT = "give a number of seconds (e.g. 3600) or a timedelta (e.g. timedelta(hours=1))."
