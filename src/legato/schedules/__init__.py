"""Schedules of deployments: ``Cron``, ``Interval`` and ``RRule`` (``prefect.schedules``).

Each is an immutable pydantic model with a ``kind`` ("cron", "interval",
"rrule"), its own ``timezone``, ``active`` flag, ``parameters`` and ``slug``,
and ``get_dates(n, start, end)``: the next dates, in order, in the schedule's
time zone, correct across DST changes. ``model_dump(mode="json")`` and
``schedule_from_json`` store and read them; ``construct_schedule`` builds one
from ``cron=``/``interval=``/``rrule=`` keywords. ``CronSchedule``,
``IntervalSchedule`` and ``RRuleSchedule`` are the same classes under the
names of ``prefect.client.schemas.schedules``.

DST rules: intervals shorter than a day are elapsed time; cron, rrule and
intervals of a day or more follow the local clock, each local time firing
once: a repeated time at its first occurrence, a skipped time one gap later
(02:30 on a spring-forward day in New York fires at 03:30 EDT).
"""

from __future__ import annotations

from legato.schedules._base import DEFAULT_COUNT, MAX_COUNT, Schedule
from legato.schedules._cron import Cron
from legato.schedules._interval import Interval
from legato.schedules._json import (
    SCHEDULE_TYPES,
    AnySchedule,
    construct_schedule,
    is_schedule_type,
    schedule_from_json,
)
from legato.schedules._rrule import RRule

CronSchedule = Cron
IntervalSchedule = Interval
RRuleSchedule = RRule

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "SCHEDULE_TYPES",
    "AnySchedule",
    "Cron",
    "CronSchedule",
    "Interval",
    "IntervalSchedule",
    "RRule",
    "RRuleSchedule",
    "Schedule",
    "construct_schedule",
    "is_schedule_type",
    "schedule_from_json",
]
