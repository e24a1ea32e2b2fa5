"""What every schedule shares: its fields, its time zone and ``get_dates``."""

from __future__ import annotations

import datetime as dt
import json
from abc import abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from legato.schedules._zones import UTC, Moment, as_instant, load_zone

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

DEFAULT_COUNT = 100
"""How many dates ``get_dates`` gives when neither ``n`` nor ``end`` is given."""

MAX_COUNT = 10_000
"""How many dates ``get_dates`` gives at most when ``end`` is given without ``n``."""


REQUIRED: Any = object()
"""Default of a schedule's first argument, so that leaving it out is pydantic's "Field required"."""


def without_missing(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the ones left at ``REQUIRED``."""
    return {name: value for name, value in fields.items() if value is not REQUIRED}


class Schedule(BaseModel):
    """A schedule of a deployment: ``Cron``, ``Interval`` or ``RRule``.

    Immutable. ``timezone`` is an IANA name (None reads as UTC); ``active``
    and ``parameters`` (overrides of the deployment's parameters for the runs
    this schedule creates) and ``slug`` (a name unique within a deployment)
    are carried for the deployment that holds the schedule.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str | None = None
    active: bool = True
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            load_zone(value)
        return value

    @field_validator("parameters", mode="before")
    @classmethod
    def _no_parameters(cls, value: Any) -> Any:
        return {} if value is None else value

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the schedule is read in and its dates are given in."""
        return load_zone(self.timezone or "UTC")

    def get_dates(
        self,
        n: int | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[dt.datetime]:
        """The schedule's next dates, in increasing order, in the schedule's time zone.

        Dates are at or after ``start`` (default: now) and at or before ``end``
        (default: no bound); naive ``start``/``end`` are read in the schedule's
        time zone. At most ``n`` dates: by default 100 without ``end`` and
        10,000 with it.
        """
        count = _count(n, end)
        zone = self.zone
        since = as_instant(start, zone) if start is not None else dt.datetime.now(UTC)
        until = as_instant(end, zone) if end is not None else None
        dates: list[dt.datetime] = []
        if count == 0 or (until is not None and until < since):
            return dates
        for instant, local in self._moments(since):
            if until is not None and instant > until:
                break
            if instant >= since:
                dates.append(local)
                if len(dates) >= count:
                    break
        return dates

    @abstractmethod
    def _moments(self, start: dt.datetime) -> Iterator[Moment]:
        """Strictly increasing dates, holding every one at or after ``start`` (UTC)."""


def _count(n: int | None, end: dt.datetime | None) -> int:
    if n is None:
        return DEFAULT_COUNT if end is None else MAX_COUNT
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"get_dates(n={n!r}): n must be a whole number >= 0, or None.")
    return n
