"""Checking what callers pass to the concurrency functions, where it comes in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from legato.exceptions import ParameterError

__all__ = ["lease_duration", "limit_names", "limit_size", "slot_count", "timeout"]


def limit_names(names: str | Iterable[str]) -> list[str]:
    """``names`` as a list of distinct, non-empty names, in the order given."""
    if isinstance(names, str):
        names = [names]
    elif not isinstance(names, Iterable) or isinstance(names, bytes | dict):
        raise ParameterError(
            f"names={names!r} is not a limit name or a list of names. "
            "Pass a string such as 'database' or a list such as ['database', 'api']."
        )
    result: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ParameterError(
                f"Concurrency limit name {name!r} is not a non-empty string. "
                "Name each limit with a string such as 'database'."
            )
        if name not in result:
            result.append(name)
    return result


def slot_count(occupy: Any) -> int:
    """``occupy``: a whole number of slots, at least 1."""
    if isinstance(occupy, bool) or not isinstance(occupy, int):
        raise ParameterError(
            f"occupy={occupy!r} is not a whole number of slots. Pass an int such as occupy=1."
        )
    if occupy < 1:
        raise ParameterError(
            f"occupy={occupy} asks for no slots. Pass occupy=1 or more, "
            "or skip the concurrency block."
        )
    return occupy


def limit_size(limit: Any) -> int:
    """A limit's number of slots: a whole number, at least 1."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ParameterError(
            f"limit={limit!r} is not a whole number of slots. Pass an int such as limit=3."
        )
    if limit < 1:
        raise ParameterError(
            f"limit={limit} would never let anything run. Pass limit=1 or more "
            "(to stop everything for a while, hold all its slots instead)."
        )
    return limit


def timeout(timeout_seconds: Any) -> float | None:
    """``timeout_seconds``: None (wait as long as it takes) or seconds, at least 0."""
    if timeout_seconds is None:
        return None
    if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, int | float):
        raise ParameterError(
            f"timeout_seconds={timeout_seconds!r} is not a number of seconds. "
            "Pass a number such as timeout_seconds=30, or None to wait as long as it takes."
        )
    if timeout_seconds < 0:
        raise ParameterError(
            f"timeout_seconds={timeout_seconds} is negative. Pass 0 (one attempt) or more."
        )
    return float(timeout_seconds)


def lease_duration(seconds: Any) -> float:
    """A lease duration in seconds: a number above 0."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise ParameterError(
            f"lease_duration={seconds!r} is not a positive number of seconds. "
            "Pass a number such as lease_duration=30 (slots of a holder that stops "
            "renewing come back after that long)."
        )
    return float(seconds)
