"""Retry an attempt until it succeeds or a deadline passes, sleeping with backoff.

Pauses start at 1 ms and double up to 50 ms, with jitter so that waiters in
different processes do not retry in step. The last attempt is made at the
deadline, so a lock freed just before it is still taken.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable

FIRST_PAUSE_SECONDS = 0.001
LONGEST_PAUSE_SECONDS = 0.05


def deadline_after(timeout_seconds: float | None) -> float | None:
    """The ``time.monotonic()`` value at which a wait of ``timeout_seconds`` ends."""
    return None if timeout_seconds is None else time.monotonic() + timeout_seconds


def seconds_until(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (may be <= 0); None for no deadline."""
    return None if deadline is None else deadline - time.monotonic()


def _next_pause(pause: float, deadline: float | None) -> float | None:
    """The sleep before the next attempt, cut at the deadline; None once it has passed."""
    jittered = pause * random.uniform(0.5, 1.0)
    left = seconds_until(deadline)
    if left is None:
        return jittered
    return None if left <= 0 else min(jittered, left)


def poll(attempt: Callable[[], bool], timeout_seconds: float | None) -> bool:
    """Call ``attempt`` until it returns True (-> True) or the time is up (-> False)."""
    deadline = deadline_after(timeout_seconds)
    pause = FIRST_PAUSE_SECONDS
    while not attempt():
        sleep = _next_pause(pause, deadline)
        if sleep is None:
            return False
        time.sleep(sleep)
        pause = min(2 * pause, LONGEST_PAUSE_SECONDS)
    return True


async def apoll(attempt: Callable[[], Awaitable[bool]], timeout_seconds: float | None) -> bool:
    """``poll`` for async code: sleeps with ``asyncio.sleep``."""
    import asyncio  # only async callers pay for importing it

    deadline = deadline_after(timeout_seconds)
    pause = FIRST_PAUSE_SECONDS
    while not await attempt():
        sleep = _next_pause(pause, deadline)
        if sleep is None:
            return False
        await asyncio.sleep(sleep)
        pause = min(2 * pause, LONGEST_PAUSE_SECONDS)
    return True
