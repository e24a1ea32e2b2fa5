"""Parsing command-line values: ``k=v`` pairs, JSON objects, ``--start-in``/``--start-at`` times.

Each parser exits with one red line naming the option, the value and the
expected form when the value does not parse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["parse_json_object", "parse_key_values", "parse_start_at", "parse_start_in"]


def _value(text: str) -> Any:
    """JSON when the text is JSON (``42``, ``true``, ``[1, 2]``, ``"x"``), else the text."""
    import json

    def refuse_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(text, parse_constant=refuse_constant)
    except ValueError:
        return text


def parse_key_values(pairs: Sequence[str] | None, option: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` as ``{"a": 1, "b": "x"}`` (values decoded as JSON when they are)."""
    from legato.cli._output import fail

    parsed: dict[str, Any] = {}
    for pair in pairs or ():
        key, equals, text = pair.partition("=")
        if not equals or not key.strip():
            fail(
                f"{option} {pair!r} is not KEY=VALUE. Write it like {option} name=value "
                f"(values are read as JSON when they parse: {option} n=3 gives the number 3)."
            )
        parsed[key.strip()] = _value(text)
    return parsed


def parse_json_object(text: str | None, option: str) -> dict[str, Any]:
    """A JSON object given on the command line ({} when not given)."""
    import json

    from legato.cli._output import fail

    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        fail(f"{option} is not valid JSON ({exc}). Give an object like '{{\"x\": 1}}'.")
    if not isinstance(value, dict):
        fail(f"{option} must be a JSON object like '{{\"x\": 1}}', not {type(value).__name__}.")
    return value


_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*,?")


def parse_start_in(text: str) -> dt.timedelta:
    """``"2 hours"``, ``"10m"``, ``"1h 30m"``, ``"in 5 minutes"`` as a timedelta."""
    from legato.cli._output import fail

    rest = text.strip().lower().removeprefix("in ").strip()
    seconds = 0.0
    position = 0
    while position < len(rest):
        match = _DURATION_PART.match(rest, position)
        if match is None or match.group(2) not in _UNITS:
            fail(
                f"--start-in {text!r} is not a duration. Write it like '90s', '10 minutes', "
                "'2 hours' or '1h 30m' (units: s, m, h, d, w)."
            )
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not rest:
        fail("--start-in is empty. Write a duration like '10 minutes'.")
    return dt.timedelta(seconds=seconds)


def parse_start_at(text: str) -> dt.datetime:
    """An ISO-8601 time (``2030-01-01 12:00``, ``...T12:00+02:00``); local time when no offset."""
    from legato.cli._output import fail

    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        fail(
            f"--start-at {text!r} is not a date and time. Write it like '2030-01-31 18:00' "
            "(your local time) or '2030-01-31T18:00:00+00:00'."
        )
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is the local clock's
    return value
