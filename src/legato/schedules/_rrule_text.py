"""Reading RFC 5545 recurrence text: DTSTART, RRULE, EXRULE, RDATE and EXDATE lines.

dateutil understands the rules themselves; this module splits the text, reads
its dates (keeping TZID and UTC marks) and takes UNTIL out of each rule, so
that the schedule can restate everything as wall-clock times in one zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from legato.exceptions import InvalidSchedule
from legato.schedules._zones import load_zone

MAX_LENGTH = 6500
EXAMPLE = (
    "An rrule is an RFC 5545 recurrence rule, e.g. 'FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9' "
    "or 'DTSTART;TZID=Europe/London:20240101T090000\\nRRULE:FREQ=DAILY;COUNT=10'."
)
_FIXED_STEPS = {
    "SECONDLY": dt.timedelta(seconds=1),
    "MINUTELY": dt.timedelta(minutes=1),
    "HOURLY": dt.timedelta(hours=1),
    "DAILY": dt.timedelta(days=1),
    "WEEKLY": dt.timedelta(weeks=1),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One RRULE or EXRULE: its parameters (upper case, without UNTIL) and its UNTIL."""

    params: tuple[tuple[str, str], ...]
    until: dt.datetime | None

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    def step(self) -> dt.timedelta | None:
        """A fixed length of one recurrence period, when its start may be moved by it."""
        freq_step = _FIXED_STEPS.get(self.param("FREQ") or "")
        if freq_step is None or self.param("COUNT") is not None:
            return None
        return freq_step * int(self.param("INTERVAL") or 1)

    def text(self, until: dt.datetime | None) -> str:
        parts = [f"{key}={value}" for key, value in self.params]
        if until is not None:
            parts.append(f"UNTIL={until:%Y%m%dT%H%M%S}")
        return ";".join(parts)


@dataclass(frozen=True, slots=True)
class RRuleText:
    """The parts of a recurrence text. Dates are naive (floating) or aware."""

    dtstart: dt.datetime | None
    rules: tuple[Rule, ...]
    exrules: tuple[Rule, ...]
    rdates: tuple[dt.datetime, ...]
    exdates: tuple[dt.datetime, ...]


@lru_cache(maxsize=1024)
def parse_rrule_text(text: str) -> RRuleText:
    """The parts of ``text``; InvalidSchedule naming the problem and the fix otherwise."""
    if len(text) > MAX_LENGTH:
        raise InvalidSchedule(
            f"An rrule is at most {MAX_LENGTH} characters; this one has {len(text)}."
        )
    dtstarts: list[dt.datetime] = []
    lists: dict[str, list[Rule]] = {"RRULE": [], "EXRULE": []}
    dates: dict[str, list[dt.datetime]] = {"RDATE": [], "EXDATE": []}
    for line in text.split():
        name, params, value = _split_line(line, text)
        if name == "DTSTART":
            dtstarts.append(_read_date(value, params, name, text))
        elif name in lists:
            lists[name].append(_read_rule(value, text))
        elif name in dates:
            dates[name].extend(_read_date(item, params, name, text) for item in value.split(","))
        else:
            raise InvalidSchedule(
                f"Invalid rrule {text!r}: unsupported property {name!r}. {EXAMPLE}"
            )
    if len(dtstarts) > 1:
        raise InvalidSchedule(f"Invalid rrule {text!r}: more than one DTSTART. Keep one.")
    if not lists["RRULE"] and not dates["RDATE"]:
        raise InvalidSchedule(f"Invalid rrule {text!r}: it has no RRULE (or RDATE). {EXAMPLE}")
    return RRuleText(
        dtstart=dtstarts[0] if dtstarts else None,
        rules=tuple(lists["RRULE"]),
        exrules=tuple(lists["EXRULE"]),
        rdates=tuple(dates["RDATE"]),
        exdates=tuple(dates["EXDATE"]),
    )


def _split_line(line: str, text: str) -> tuple[str, dict[str, str], str]:
    if ":" not in line:
        if "=" in line:
            return "RRULE", {}, line
        raise InvalidSchedule(f"Invalid rrule {text!r}: cannot read {line!r}. {EXAMPLE}")
    head, value = line.split(":", 1)
    name, *raw_params = head.split(";")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, sep, param_value = raw.partition("=")
        if not sep:
            raise InvalidSchedule(f"Invalid rrule {text!r}: cannot read {line!r}. {EXAMPLE}")
        params[key.upper()] = param_value
    return name.upper(), params, value


def _read_date(value: str, params: dict[str, str], name: str, text: str) -> dt.datetime:
    from dateutil.parser import isoparse

    try:
        moment = isoparse(value)
    except (ValueError, OverflowError):
        raise InvalidSchedule(
            f"Invalid rrule {text!r}: {name} value {value!r} is not a date-time. "
            "Write YYYYMMDDTHHMMSS (local time), with a final Z for UTC, e.g. 20240101T090000."
        ) from None
    tzid = params.get("TZID")
    if tzid is None:
        return moment
    if moment.tzinfo is not None:
        raise InvalidSchedule(
            f"Invalid rrule {text!r}: {name} has both TZID={tzid} and a UTC offset. Keep one."
        )
    return moment.replace(tzinfo=load_zone(tzid))


def _read_rule(value: str, text: str) -> Rule:
    params: list[tuple[str, str]] = []
    until: dt.datetime | None = None
    for part in filter(None, value.split(";")):
        key, _, part_value = part.partition("=")
        key = key.upper()
        if key == "UNTIL":
            until = _read_date(part_value, {}, "UNTIL", text)
        else:
            params.append((key, part_value.upper()))
    rule = Rule(params=tuple(params), until=until)
    _check_rule(rule, text)
    return rule


def _check_rule(rule: Rule, text: str) -> None:
    from dateutil.rrule import rrulestr

    if rule.until is not None and rule.param("COUNT") is not None:
        raise InvalidSchedule(f"Invalid rrule {text!r}: COUNT and UNTIL cannot be used together.")
    interval = rule.param("INTERVAL")
    if interval is not None and not (interval.isdigit() and int(interval) >= 1):
        raise InvalidSchedule(f"Invalid rrule {text!r}: INTERVAL must be a whole number >= 1.")
    naive_until = None if rule.until is None else rule.until.replace(tzinfo=None)
    try:
        rrulestr(rule.text(naive_until), dtstart=dt.datetime(2020, 1, 1))
    except (ValueError, TypeError) as exc:
        reason = "FREQ is missing" if "freq" in str(exc) else str(exc)
        raise InvalidSchedule(f"Invalid rrule {text!r}: {reason}. {EXAMPLE}") from None
