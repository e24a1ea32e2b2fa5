"""Checks for decorator options, shared by ``@flow`` and ``@task``.

Each check raises ``ParameterError`` naming the option, the value and the fix.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Any

from legato.exceptions import ParameterError


def check_callable(fn: Any, decorator: str) -> None:
    if not callable(fn) and not isinstance(fn, classmethod | staticmethod):
        raise ParameterError(
            f"@{decorator} needs a function, got {fn!r} ({type(fn).__name__}). "
            f"Put @{decorator} directly above a 'def' (or pass a callable to {decorator}(...))."
        )


def check_retries(value: Any, owner: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(
            f"retries={value!r} for {owner} must be a whole number >= 0, e.g. retries=3."
        )
    if value < 0:
        raise ParameterError(
            f"retries={value} for {owner} is negative. Use 0 (no retries) or more."
        )
    return value


def check_timeout(value: Any, owner: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(
            f"timeout_seconds={value!r} for {owner} must be a number of seconds, e.g. 30."
        )
    if value <= 0:
        raise ParameterError(
            f"timeout_seconds={value} for {owner} must be greater than 0. Leave it unset for no timeout."
        )
    return float(value)


def check_retry_delays(value: Any, retries: int | None, owner: str) -> list[float] | None:
    """Normalize retry_delay_seconds to one delay per retry (the last repeats)."""
    if value is None:
        return None
    if callable(value):
        value = value(retries or 0)
    if isinstance(value, bool):
        raise _bad_delay(value, owner)
    if isinstance(value, int | float):
        return _check_delays([value], value, owner)
    if isinstance(value, _dt.timedelta):
        return _check_delays([value.total_seconds()], value, owner)
    if isinstance(value, list | tuple):
        if not value:
            return None
        items = [v.total_seconds() if isinstance(v, _dt.timedelta) else v for v in value]
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in items):
            raise _bad_delay(value, owner)
        return _check_delays(items, value, owner)
    raise _bad_delay(value, owner)


def _check_delays(delays: list[Any], original: Any, owner: str) -> list[float]:
    if any(delay < 0 for delay in delays):
        raise ParameterError(
            f"retry_delay_seconds={original!r} for {owner} has a negative delay. Use delays >= 0."
        )
    return [float(delay) for delay in delays]


def _bad_delay(value: Any, owner: str) -> ParameterError:
    return ParameterError(
        f"retry_delay_seconds={value!r} ({type(value).__name__}) for {owner} is not valid. "
        "Give a number of seconds, a list with one delay per retry, or a callable such as "
        "exponential_backoff(backoff_factor=2)."
    )


def check_jitter(value: Any, owner: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ParameterError(
            f"retry_jitter_factor={value!r} for {owner} must be a number >= 0, e.g. 0.5."
        )
    return float(value)


def check_hooks(hooks: Any, name: str, owner: str) -> list[Callable[..., Any]]:
    if hooks is None:
        return []
    if callable(hooks):
        hooks = [hooks]
    if not isinstance(hooks, Iterable):
        raise ParameterError(f"{name}={hooks!r} for {owner} must be a list of functions.")
    checked: list[Callable[..., Any]] = list(hooks)
    for hook in checked:
        if not callable(hook):
            raise ParameterError(
                f"{name} for {owner} contains {hook!r}, which is not callable. Pass functions."
            )
    return checked


def check_run_name(value: Any, option: str, owner: str) -> Any:
    if value is None or isinstance(value, str) or callable(value):
        return value
    raise ParameterError(
        f"{option}={value!r} for {owner} must be a string template such as 'run-{{x}}' or a function."
    )


def check_cache_policy(value: Any, owner: str) -> None:
    """A cache policy must be one of legato.cache_policies' (checked when it is given)."""
    from legato.cache_policies import CachePolicy

    if not isinstance(value, CachePolicy):
        raise ParameterError(
            f"cache_policy={value!r} for {owner} is not a cache policy. Use one from "
            "legato.cache_policies, e.g. INPUTS, TASK_SOURCE + INPUTS or INPUTS - 'debug'."
        )


def check_result_options(storage_key: Any, expiration: Any, owner: str) -> None:
    if storage_key is not None and not isinstance(storage_key, str):
        raise ParameterError(
            f"result_storage_key={storage_key!r} for {owner} must be a string template, "
            "e.g. 'report-{parameters[day]}.pickle'."
        )
    if expiration is not None and not isinstance(expiration, _dt.timedelta):
        raise ParameterError(
            f"cache_expiration={expiration!r} for {owner} must be a datetime.timedelta, "
            "e.g. timedelta(hours=1)."
        )
