"""Limits that live in this process only: no store, no lease, no round trip.

For code that needs a limit on its own threads and coroutines and none of
the global limits' reach (other processes, other machines, crash recovery):

```python
from legato.concurrency import local

local.define_limit("gpu", 2)                               # 2 slots
local.define_limit("api", 10, slot_decay_per_second=5)     # 5 calls/s, bursts of up to 10

with local.concurrency("gpu"):                             # threads...
    ...
async with local.concurrency("gpu"):                       # ...and coroutines share it
    ...
local.rate_limit("api")                                    # or: await local.arate_limit("api")
```

The design: a registry of named limits per process, guarded by one lock.
``concurrency(names, occupy=1, timeout_seconds=None, strict=False)`` takes
``occupy`` slots of every named limit at once (all or none) and gives them
back when the block ends; it works with ``with`` and ``async with``. A
waiter is woken as soon as slots are given back (threads through an event,
coroutines through their loop), and otherwise polls with the same back-off,
timeout and errors as the global limits (``legato.concurrency._waiting``).
With a slot decay, slots taken by ``rate_limit`` are not given back: they
decay at ``slot_decay_per_second`` (no burst beyond the limit's size after
an idle time). Missing names follow the global rule: an error with
``strict=True``, else a warning and no wait. Limits are process-wide: a
forked child starts with the parent's limits all free.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from legato.concurrency import _arguments
from legato.concurrency._waiting import SlotRequest, SlotWaiter, await_slots, wait_for_slots
from legato.exceptions import ObjectNotFound, ParameterError

__all__ = [
    "LocalLimit",
    "LocalSlots",
    "arate_limit",
    "concurrency",
    "define_limit",
    "rate_limit",
    "read_limit",
    "read_limits",
    "remove_limit",
]


class LocalLimit:
    """A named limit of ``limit`` slots in this process (see ``define_limit``)."""

    __slots__ = ("_active", "_updated", "limit", "name", "slot_decay_per_second")

    def __init__(self, name: str, limit: int, slot_decay_per_second: float) -> None:
        self.name = name
        self.limit = limit
        self.slot_decay_per_second = slot_decay_per_second
        self._active = 0.0
        self._updated = time.monotonic()

    def __repr__(self) -> str:
        decay = f", slot_decay_per_second={self.slot_decay_per_second:g}"
        return (
            f"LocalLimit({self.name!r}, limit={self.limit}"
            f"{decay if self.slot_decay_per_second else ''}, active_slots={self.active_slots:g})"
        )

    @property
    def active_slots(self) -> float:
        """Slots in use now (with a decay: what has not decayed yet)."""
        with _lock:
            return self._decayed(time.monotonic())

    def _decayed(self, now: float) -> float:
        if self.slot_decay_per_second and self._active:
            elapsed = now - self._updated
            self._active = max(0.0, self._active - elapsed * self.slot_decay_per_second)
        self._updated = now
        return self._active

    def _wait_seconds(self, occupy: int, now: float) -> float | None:
        """With a decay: seconds until ``occupy`` slots will have decayed free."""
        if not self.slot_decay_per_second:
            return None
        excess = self._decayed(now) + occupy - self.limit
        return max(0.0, excess / self.slot_decay_per_second)


_lock = threading.Lock()
_limits: dict[str, LocalLimit] = {}
_tickets: set[_Ticket] = set()  # waiters to wake when slots are given back


def define_limit(name: str, limit: int, *, slot_decay_per_second: float = 0.0) -> LocalLimit:
    """Create limit ``name`` of ``limit`` slots, or change its size (held slots stay held)."""
    name = _arguments.limit_names(name)[0]
    limit = _arguments.limit_size(limit)
    decay = slot_decay_per_second
    if isinstance(decay, bool) or not isinstance(decay, int | float) or decay < 0:
        raise ParameterError(
            f"slot_decay_per_second={decay!r} is not a number >= 0. Pass 0 for a "
            "concurrency limit, or the slots per second that free up for a rate limit."
        )
    with _lock:
        existing = _limits.get(name)
        if existing is None:
            existing = _limits[name] = LocalLimit(name, limit, float(decay))
        else:
            existing._decayed(time.monotonic())
            existing.limit, existing.slot_decay_per_second = limit, float(decay)
    _wake_all()
    return existing


def read_limit(name: str) -> LocalLimit:
    """The local limit ``name``; ObjectNotFound if it was never defined."""
    with _lock:
        found = _limits.get(name)
    if found is None:
        raise ObjectNotFound(
            f"No local concurrency limit named {name!r} in this process. "
            f"Define it first: legato.concurrency.local.define_limit({name!r}, 5)."
        )
    return found


def read_limits() -> list[LocalLimit]:
    """Every local limit of this process, by name."""
    with _lock:
        return [_limits[name] for name in sorted(_limits)]


def remove_limit(name: str) -> None:
    """Forget limit ``name`` (blocks holding its slots finish normally)."""
    with _lock:
        _limits.pop(name, None)
    _wake_all()


# -- taking and giving back -------------------------------------------------------


@dataclass
class _Answer:
    """One attempt's outcome, shaped like the store's answer (``_waiting.Acquisition``)."""

    granted: bool
    missing: list[str]
    refused_by: str | None = None
    retry_after_seconds: float | None = None
    limits: list[dict[str, Any]] = field(default_factory=list)
    lease_id: Any = None
    taken: list[LocalLimit] = field(default_factory=list)


class _Ticket:
    """How a waiting thread is woken when slots are given back."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def wake(self) -> None:
        self._event.set()

    def sleep(self, seconds: float) -> None:
        self._event.wait(seconds)
        self._event.clear()


class _LoopTicket(_Ticket):
    """How a waiting coroutine is woken: through its event loop, from any thread."""

    __slots__ = ("_async_event", "_loop")

    def __init__(self) -> None:
        import asyncio

        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._async_event = asyncio.Event()

    def wake(self) -> None:
        # A loop that closed meanwhile has no waiter left to wake.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._async_event.set)

    async def asleep(self, seconds: float) -> None:
        import asyncio

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._async_event.wait(), seconds)
        self._async_event.clear()


def _attempt(request: SlotRequest, ticket: _Ticket | None) -> _Answer:
    """Take every slot of ``request`` now, or none (and register ``ticket`` to be woken)."""
    now = time.monotonic()
    with _lock:
        found = [_limits[name] for name in request.names if name in _limits]
        missing = [name for name in request.names if name not in _limits]
        if request.mode == "rate_limit":
            _check_decays(found)
        for limit in found:
            if limit._decayed(now) + request.occupy > limit.limit:
                if ticket is not None:
                    _tickets.add(ticket)
                return _Answer(
                    False,
                    missing,
                    limit.name,
                    limit._wait_seconds(request.occupy, now),
                    [{"name": limit.name, "limit": limit.limit, "active_slots": limit._active}],
                )
        for limit in found:
            limit._active += request.occupy
        if ticket is not None:
            _tickets.discard(ticket)
    return _Answer(True, missing, taken=found)


def _at_once(request: SlotRequest) -> _Answer | None:
    """The slots if every named limit exists and has them free now (no waiter made)."""
    answer = _attempt(request, None)
    if answer.granted and not answer.missing:
        return answer
    if answer.granted:  # missing names: the waiter's rules (warn, or raise) apply
        _give_back(answer.taken, request.occupy)
    return None


def _check_decays(found: list[LocalLimit]) -> None:
    for limit in found:
        if not limit.slot_decay_per_second:
            raise ParameterError(
                f"Local limit {limit.name!r} has no slot decay, so rate_limit() would take "
                "its slots for good. Define it with a decay, e.g. "
                f"define_limit({limit.name!r}, {limit.limit}, slot_decay_per_second=1), "
                "or use concurrency()."
            )


def _give_back(taken: list[LocalLimit], occupy: int) -> None:
    now = time.monotonic()
    with _lock:
        for limit in taken:
            limit._active = max(0.0, limit._decayed(now) - occupy)
    _wake_all()


def _wake_all() -> None:
    with _lock:
        tickets = list(_tickets)
    for ticket in tickets:
        ticket.wake()


def _forget(ticket: _Ticket) -> None:
    with _lock:
        _tickets.discard(ticket)


def _take(request: SlotRequest) -> _Answer:
    answer = _at_once(request)
    if answer is not None:
        return answer
    ticket = _Ticket()
    try:
        return wait_for_slots(lambda: _attempt(request, ticket), SlotWaiter(request), ticket.sleep)
    finally:
        _forget(ticket)


async def _atake(request: SlotRequest) -> _Answer:
    answer = _at_once(request)
    if answer is not None:
        return answer
    ticket = _LoopTicket()

    async def attempt() -> _Answer:
        return _attempt(request, ticket)

    try:
        return await await_slots(attempt, SlotWaiter(request), ticket.asleep)
    finally:
        _forget(ticket)


def _request(names: Any, occupy: Any, mode: Any, timeout_seconds: Any, strict: bool) -> SlotRequest:
    return SlotRequest(
        names=_arguments.limit_names(names),
        occupy=_arguments.slot_count(occupy),
        mode=mode,
        timeout_seconds=_arguments.timeout(timeout_seconds),
        strict=bool(strict),
    )


def concurrency(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> LocalSlots:
    """Hold ``occupy`` slots of each local limit in ``names`` for a ``with`` or ``async with`` block.

    All limits' slots are taken at once, or none; waits at most
    ``timeout_seconds`` (None: as long as it takes), then raises
    ``AcquireConcurrencySlotTimeoutError``.
    """
    return LocalSlots(_request(names, occupy, "concurrency", timeout_seconds, strict))


class LocalSlots:
    """The slots of one ``local.concurrency(...)`` block: taken on entry, given back on exit."""

    __slots__ = ("_held", "_request")

    def __init__(self, request: SlotRequest) -> None:
        self._request = request
        self._held: list[LocalLimit] | None = None

    def __enter__(self) -> None:
        self._start(_take(self._request).taken)

    async def __aenter__(self) -> None:
        self._start((await _atake(self._request)).taken)

    def _start(self, taken: list[LocalLimit]) -> None:
        if self._held is not None:
            _give_back(taken, self._request.occupy)
            raise RuntimeError(
                "This local.concurrency(...) block is already entered; make a new one."
            )
        self._held = taken

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        held, self._held = self._held, None
        if held:
            _give_back(held, self._request.occupy)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)


def rate_limit(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Block until each local limit in ``names`` (with a slot decay) lets ``occupy`` more through."""
    _take(_request(names, occupy, "rate_limit", timeout_seconds, strict))


async def arate_limit(
    names: str | Iterable[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """``rate_limit`` for coroutines."""
    await _atake(_request(names, occupy, "rate_limit", timeout_seconds, strict))


def _reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _tickets.clear()
    for limit in _limits.values():
        limit._active = 0.0


os.register_at_fork(after_in_child=_reset_after_fork)
