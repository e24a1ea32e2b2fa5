"""The acquire loop shared by the sync and async functions and the task engine.

The store never waits: each attempt (``acquire_concurrency_slots_with_lease``)
answers at once, granted or refused. ``SlotWaiter`` is the plain logic that
decides, after each answer, whether to stop, raise, or try again and after
how long; ``wait_for_slots`` (sync) and ``await_slots`` (async) are the two
small loops around it, with the acquire function passed in.

How long between attempts:

- a rate limit: the store says when enough slots will have decayed
  (``retry_after_seconds``); wait that long plus up to 10%, so that many
  waiters do not all come back in the same millisecond;
- a concurrency limit (a holder may release at any moment): exponential
  back-off from 10 ms, doubling up to 0.5 s, never below the store's hint
  (its average hold time divided by the limit: no slot is expected to free
  sooner); each delay is drawn between half and all of that (jitter), so
  waiters that keep being refused poll less and less;
- never past the deadline of ``timeout_seconds``: the last attempt is made
  at the deadline, and a refusal then raises
  ``AcquireConcurrencySlotTimeoutError`` naming the limit, how full it was
  (slots in use and holders) and the fix.

Waiting never helps for ``occupy`` larger than a limit's size: that is a
``ParameterError`` at once (the store refuses it too).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from legato.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    ParameterError,
)

__all__ = [
    "Acquisition",
    "SlotRequest",
    "SlotWaiter",
    "await_slots",
    "wait_for_slots",
]

logger = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 0.01
MAX_DELAY_SECONDS = 0.5
RETRY_AFTER_JITTER = 0.1
Mode = Literal["concurrency", "rate_limit"]

_warned_missing: set[str] = set()


class Acquisition(Protocol):
    """One answer of the store to an acquire attempt (the client's ``ConcurrencyAcquisition``)."""

    @property
    def granted(self) -> bool: ...
    @property
    def lease_id(self) -> Any: ...
    @property
    def limits(self) -> Sequence[Any]: ...
    @property
    def missing(self) -> Sequence[str]: ...
    @property
    def refused_by(self) -> str | None: ...
    @property
    def retry_after_seconds(self) -> float | None: ...


A = TypeVar("A", bound=Acquisition)


@dataclass(frozen=True)
class SlotRequest:
    """What a caller asked for: ``occupy`` slots of each limit in ``names``."""

    names: list[str]
    occupy: int
    mode: Mode = "concurrency"
    timeout_seconds: float | None = None
    max_retries: int | None = None
    strict: bool = False
    is_missing_quiet: bool = False  # no warning for missing limits (tags of task runs)

    def describe(self) -> str:
        names = ", ".join(repr(name) for name in self.names)
        kind = "rate limit" if self.mode == "rate_limit" else "concurrency limit"
        return f"{self.occupy} slot(s) of {kind}{'s' if len(self.names) > 1 else ''} {names}"


class SlotWaiter:
    """After each attempt: stop (None), or the seconds to wait before the next one.

    Raises when waiting cannot help: ``ConcurrencySlotAcquisitionError`` for
    a missing limit with ``strict``, ``ParameterError`` for ``occupy`` above a
    limit's size; and ``AcquireConcurrencySlotTimeoutError`` when the time (or
    ``max_retries``) is used up.
    """

    def __init__(
        self,
        request: SlotRequest,
        clock: Callable[[], float] = time.monotonic,
        uniform: Callable[[float, float], float] = random.uniform,
        count_holders: Callable[[str], int | None] | None = None,
    ) -> None:
        self.request = request
        self._count_holders = count_holders
        self._clock = clock
        self._uniform = uniform
        self.started = clock()
        timeout = request.timeout_seconds
        self.deadline = None if timeout is None else self.started + timeout
        self.refusals = 0

    def after(self, acquisition: Acquisition) -> float | None:
        """What to do after ``acquisition``: None to stop, else seconds to wait."""
        if acquisition.missing:
            self._missing(list(acquisition.missing))
        if acquisition.granted or not acquisition.refused_by:
            return None
        self._check_fits(acquisition)
        self.refusals += 1
        max_retries = self.request.max_retries
        if max_retries is not None and self.refusals > max_retries:
            raise self._timeout(acquisition, f"after {max_retries} retries")
        delay = self._delay(acquisition.retry_after_seconds)
        if self.deadline is None:
            return delay
        remaining = self.deadline - self._clock()
        if remaining <= 0:
            timeout = self.request.timeout_seconds
            raise self._timeout(acquisition, f"within timeout_seconds={timeout:g}")
        return min(delay, remaining)

    def _delay(self, retry_after: float | None) -> float:
        hint = retry_after if retry_after is not None and retry_after > 0 else 0.0
        if self.request.mode == "rate_limit" and hint:
            return hint + self._uniform(0.0, hint * RETRY_AFTER_JITTER)
        backoff = FIRST_DELAY_SECONDS * 2 ** min(self.refusals - 1, 16)
        ceiling = min(MAX_DELAY_SECONDS, max(hint, backoff))
        return self._uniform(ceiling / 2, ceiling)

    def _missing(self, missing: list[str]) -> None:
        names = ", ".join(repr(name) for name in missing)
        if self.request.strict:
            raise ConcurrencySlotAcquisitionError(
                f"Concurrency limit(s) {names} do not exist (strict=True). Create them, e.g. "
                f"`legato global-concurrency-limit create {missing[0]} --limit 5`, "
                "or pass strict=False to run without them.",
                names=missing,
            )
        new = [name for name in missing if name not in _warned_missing]
        if new and not self.request.is_missing_quiet:
            _warned_missing.update(new)
            logger.warning(
                "Concurrency limit(s) %s do not exist: running without waiting for them. "
                "Create them to enforce a limit, or pass strict=True to make this an error.",
                ", ".join(repr(name) for name in new),
            )

    def _check_fits(self, acquisition: Acquisition) -> None:
        size = limit_size_of(acquisition, acquisition.refused_by)
        if size is not None and self.request.occupy > size:
            name = acquisition.refused_by
            raise ParameterError(
                f"occupy={self.request.occupy} is more than concurrency limit {name!r} has "
                f"({size} slot(s)): it could never be granted. Lower occupy, or raise the "
                f"limit (`legato global-concurrency-limit update {name} --limit "
                f"{self.request.occupy}`)."
            )

    def _timeout(self, acquisition: Acquisition, when: str) -> AcquireConcurrencySlotTimeoutError:
        name = acquisition.refused_by
        # A rate limit's slots drain: they have no holders to count.
        holders = self._holders(name) if self.request.mode == "concurrency" else None
        fullness = describe_fullness(acquisition, name, holders)
        waited = self._clock() - self.started
        return AcquireConcurrencySlotTimeoutError(
            f"Could not acquire {self.request.describe()} {when} "
            f"(waited {waited:.2f} s): limit {name!r} is full{fullness}. Raise the limit, "
            "lower occupy, or wait longer (a larger timeout_seconds, or None).",
            names=self.request.names,
            timeout_seconds=self.request.timeout_seconds,
            refused_by=name,
        )

    def _holders(self, name: str | None) -> int | None:
        if self._count_holders is None or name is None:
            return None
        try:
            return self._count_holders(name)
        except Exception:  # only for the message: never hide the timeout behind it
            logger.debug("Could not count the holders of %r", name, exc_info=True)
            return None


def limit_size_of(acquisition: Acquisition, name: str | None) -> int | None:
    """The size of limit ``name`` as the answer reports it, if it does."""
    for limit in acquisition.limits:
        if _field(limit, "name") == name:
            size = _field(limit, "limit")
            return size if isinstance(size, int) else None
    return None


def describe_fullness(acquisition: Acquisition, name: str | None, holders: int | None) -> str:
    """`` (3 of 3 slots held by 2 holder(s))``, from the answer and the holders' count."""
    for limit in acquisition.limits:
        if _field(limit, "name") != name:
            continue
        size, active = _field(limit, "limit"), _field(limit, "active_slots")
        if size is None or active is None:
            return ""
        held_by = f" held by {holders} holder(s)" if holders is not None else ""
        return f" ({active:g} of {size} slots{held_by})"
    return ""


def _field(item: Any, name: str) -> Any:
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


def wait_for_slots(
    acquire: Callable[[], A],
    waiter: SlotWaiter,
    sleep: Callable[[float], object] = time.sleep,
) -> A:
    """Call ``acquire`` until ``waiter`` says stop; the last answer."""
    while True:
        acquisition = acquire()
        delay = waiter.after(acquisition)
        if delay is None:
            return acquisition
        sleep(delay)


async def await_slots(
    acquire: Callable[[], Awaitable[A]],
    waiter: SlotWaiter,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> A:
    """``wait_for_slots`` for coroutines: awaits ``acquire`` and sleeps with asyncio."""
    if sleep is None:
        import asyncio

        sleep = asyncio.sleep
    while True:
        acquisition = await acquire()
        delay = waiter.after(acquisition)
        if delay is None:
            return acquisition
        await sleep(delay)
