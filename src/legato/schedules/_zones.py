"""Time zones and the reading of local wall-clock times as instants.

A wall-clock time in a zone that observes DST is read the way RFC 5545 and
PEP 495 (``fold=0``) read it:

- a local time that happens twice (clocks go back) is its first occurrence;
- a local time that never happens (clocks go forward) is read with the UTC
  offset in force before the change, so 02:30 on a spring-forward day in
  New York is 03:30 EDT, one gap later.

``moments_of`` turns an increasing stream of local wall-clock times into
strictly increasing instants: the shift of a skipped time can carry it past the
next real times, so the stream is reordered (only across a gap) and times that
land on the same instant are given once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import heapq
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from legato.exceptions import InvalidSchedule

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

UTC = dt.UTC
Moment = tuple[dt.datetime, dt.datetime]
"""A schedule date: (the UTC instant, the same instant in the schedule's time zone)."""
_LOOKBACK = dt.timedelta(hours=25)


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; InvalidSchedule naming the fix when it does not exist."""
    return _load_zone(name)


@lru_cache(maxsize=256)
def _load_zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidSchedule(_unknown_zone_message(name)) from None


def _unknown_zone_message(name: str) -> str:
    from zoneinfo import available_timezones

    close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"Unknown time zone {name!r}. Use an IANA time zone name such as "
        f"'America/New_York', 'Europe/London' or 'UTC'.{hint}"
    )


def zone_key(tzinfo: dt.tzinfo | None) -> str | None:
    """The IANA name of ``tzinfo`` when it is a ZoneInfo (the only kind that has one)."""
    key = getattr(tzinfo, "key", None)
    return key if isinstance(key, str) else None


def as_instant(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """``value`` in UTC; a naive ``value`` is a wall-clock time in ``zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def local_naive(instant: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The wall-clock reading of ``instant`` in ``zone``, without a zone."""
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def clock_after(start: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The wall-clock time (in ``zone``, fold 0) after which to look for ``start``'s dates.

    Early enough that a skipped time read one gap later, at or after
    ``start``, is still found.
    """
    reading = start.astimezone(zone).replace(fold=0)
    return reading - gap_before(start, zone) - dt.timedelta(microseconds=1)


def gap_before(instant: dt.datetime, zone: dt.tzinfo) -> dt.timedelta:
    """How far the clocks of ``zone`` jumped forward in the 25 hours before ``instant``.

    A skipped local time up to this far before ``instant``'s reading is read
    (one gap later) at or after ``instant``, so iterations start this early.
    """
    now = instant.astimezone(zone).utcoffset()
    before = (instant - _LOOKBACK).astimezone(zone).utcoffset()
    if now is None or before is None:
        return dt.timedelta(0)
    return max(now - before, dt.timedelta(0))


def moments_of(local_times: Iterable[dt.datetime], zone: dt.tzinfo) -> Iterator[Moment]:
    """Strictly increasing moments of increasing wall-clock times in ``zone``.

    ``local_times`` carry ``zone`` as tzinfo (fold 0). A time that exists on
    the clock bounds every later one from below, so all buffered moments up to
    it can be given; a skipped time waits until the next existing time.
    """
    pending: list[Moment] = []
    last: dt.datetime | None = None
    for local in local_times:
        instant = local.astimezone(UTC)
        reading = instant.astimezone(zone)
        if pending or reading != local:  # same tzinfo: compares the clock readings
            heapq.heappush(pending, (instant, reading))
            if reading != local:
                continue  # skipped by the clock: a later real time may come first
            while pending and pending[0][0] <= instant:
                moment = heapq.heappop(pending)
                if last is None or moment[0] > last:
                    last = moment[0]
                    yield moment
        elif last is None or instant > last:
            last = instant
            yield instant, reading
    for moment in sorted(pending):
        if last is None or moment[0] > last:
            last = moment[0]
            yield moment


def on_clock(naive_times: Iterable[dt.datetime], zone: dt.tzinfo) -> Iterator[dt.datetime]:
    """``naive_times`` as wall-clock times of ``zone``."""
    for naive in naive_times:
        yield naive.replace(tzinfo=zone, fold=0)
