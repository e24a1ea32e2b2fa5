"""The lock manager interface (Prefect 3's ``LockManager``), its error and its input checks.

A lock is named by a ``key`` and taken by a ``holder`` (any string that names
who holds it, e.g. a transaction id). Re-acquiring a lock you hold returns True
at once and leaves its expiry as it was; one release frees it.

``acquire_timeout`` bounds the wait (None waits forever, 0 tries once);
``hold_timeout`` makes the lock expire that many seconds after it was taken,
unless it is released first (None: hold until released; each implementation
says what else ends a lock then).
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

from legato.exceptions import LockNotHeld, ParameterError


@runtime_checkable
class LockManager(Protocol):
    """Takes and releases named locks; every method is safe to call from any thread."""

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        """Take the lock, waiting up to ``acquire_timeout`` seconds; False on timeout."""
        ...

    async def aacquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        """``acquire_lock`` for async code: waits without blocking the event loop."""
        ...

    def release_lock(self, key: str, holder: str) -> None:
        """Free the lock; raises ``LockNotHeld`` if ``holder`` does not hold it."""
        ...

    def is_locked(self, key: str) -> bool:
        """True while some holder holds the lock."""
        ...

    def is_lock_holder(self, key: str, holder: str) -> bool:
        """True while ``holder`` holds the lock."""
        ...

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """Wait until the lock is free (without taking it); False on timeout."""
        ...

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """``wait_for_lock`` for async code: waits without blocking the event loop."""
        ...


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ParameterError(
            f"key={key!r} cannot name a lock: pass a non-empty string, e.g. a cache key."
        )
    return key


def check_holder(holder: Any) -> str:
    if not isinstance(holder, str) or not holder:
        raise ParameterError(
            f"holder={holder!r} cannot hold a lock: pass a non-empty string that names "
            "who holds it, e.g. a transaction id."
        )
    return holder


def check_wait_seconds(name: str, value: Any) -> float | None:
    """A wait bound: None (forever) or a number of seconds >= 0 (0 tries once)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ParameterError(
            f"{name}={value!r} must be a number of seconds, e.g. {name}=5, or None to wait forever."
        )
    if value < 0:
        raise ParameterError(
            f"{name}={value} is negative. Use 0 to try once, a number of seconds to wait, "
            "or None to wait forever."
        )
    return float(value) if math.isfinite(value) else None


def check_hold_seconds(value: Any) -> float | None:
    """A hold bound: None (until released) or a number of seconds > 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ParameterError(
            f"hold_timeout={value!r} must be a number of seconds, e.g. hold_timeout=60, "
            "or None to hold the lock until it is released."
        )
    if value <= 0 or not math.isfinite(value):
        raise ParameterError(
            f"hold_timeout={value} must be a finite number greater than 0: a lock that expires at once "
            "protects nothing. Use None to hold it until it is released."
        )
    return float(value)


def check_acquire_arguments(
    key: Any, holder: Any, acquire_timeout: Any, hold_timeout: Any
) -> tuple[str, str, float | None, float | None]:
    """The arguments of ``acquire_lock``, checked; raises ``ParameterError`` naming the bad one."""
    return (
        check_key(key),
        check_holder(holder),
        check_wait_seconds("acquire_timeout", acquire_timeout),
        check_hold_seconds(hold_timeout),
    )


def check_wait_arguments(key: Any, timeout: Any) -> tuple[str, float | None]:
    """The arguments of ``wait_for_lock``, checked; raises ``ParameterError`` naming the bad one."""
    return check_key(key), check_wait_seconds("timeout", timeout)


__all__ = ["LockManager", "LockNotHeld"]
