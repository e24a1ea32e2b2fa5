"""The schedule arguments of ``to_deployment``/``serve``/``deploy`` as a list of schedules.

``interval=`` (seconds or a timedelta, or several), ``cron=`` (one string or
several), ``rrule=`` (one or several), ``schedule=`` (one schedule) and
``schedules=`` (a list of ``legato.schedules`` objects, or their JSON dicts)
are alternatives: at most one may be given, as in Prefect 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from legato.exceptions import ParameterError

__all__ = ["ScheduleOptions", "build_schedules"]


@dataclass(frozen=True)
class ScheduleOptions:
    """What the user passed; each field as given."""

    interval: Any = None
    cron: Any = None
    rrule: Any = None
    schedule: Any = None
    schedules: Any = None


def build_schedules(options: ScheduleOptions) -> list[Any]:
    """The ``legato.schedules`` objects the options describe ([] for none)."""
    given = [
        name
        for name in ("interval", "cron", "rrule", "schedule", "schedules")
        if getattr(options, name) is not None
    ]
    if len(given) > 1:
        raise ParameterError(
            f"Give one of interval=, cron=, rrule=, schedule= or schedules=, not {' and '.join(given)}. "
            "For several schedules pass schedules=[Cron(...), Interval(...)]."
        )
    if not given:
        return []
    from legato import schedules as schedule_types

    if options.interval is not None:
        return [schedule_types.Interval(value) for value in _several(options.interval, "interval")]
    if options.cron is not None:
        return [schedule_types.Cron(value) for value in _several(options.cron, "cron")]
    if options.rrule is not None:
        return [schedule_types.RRule(value) for value in _several(options.rrule, "rrule")]
    if options.schedule is not None:
        return [_one_schedule(options.schedule)]
    if isinstance(options.schedules, str | dict) or not isinstance(options.schedules, Iterable):
        raise ParameterError(
            f"schedules={options.schedules!r} must be a list of schedules "
            "(e.g. [Cron('0 6 * * *'), Interval(3600)])."
        )
    return [_one_schedule(item) for item in options.schedules]


def _several(value: Any, name: str) -> list[Any]:
    """One value, or each of a list/tuple of them."""
    if isinstance(value, str | int | float | dt.timedelta):
        return [value]
    if isinstance(value, Iterable):
        values = list(value)
        if not values:
            raise ParameterError(f"{name}= is an empty list; give at least one value or None.")
        return values
    return [value]


def _one_schedule(value: Any) -> Any:
    """A schedule object as it is; a JSON dict (a schedule's ``model_dump``) parsed."""
    from legato import schedules as schedule_types

    if isinstance(value, dict):
        return schedule_types.schedule_from_json(value)
    if isinstance(value, schedule_types.Schedule):
        return value
    if hasattr(value, "schedule") and hasattr(value, "active"):
        return value  # a DeploymentScheduleCreate: the client takes it as it is
    raise ParameterError(
        f"{value!r} is not a schedule. Use legato.schedules.Cron, Interval or RRule."
    )
