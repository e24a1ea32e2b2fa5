"""Slots of global limits (kept in the store): take them, keep them, give them back.

Shared by ``legato.concurrency.sync``, ``legato.concurrency.asyncio`` and the
task engine (tag limits). The client is the one the process's recorder
writes through (``get_recorder().client``): one per store and process, made
on first use and shared by every thread, so an acquire costs one store round
trip, never a new client. The async functions call that same synchronous
client in a worker thread (``asyncio.to_thread``): the embedded client works
that way anyway, and one client per process (not per event loop) is what
the lease renewer thread needs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from legato.concurrency import _arguments
from legato.concurrency._leases import renewer
from legato.concurrency._waiting import (
    Acquisition,
    Mode,
    SlotRequest,
    SlotWaiter,
    await_slots,
    wait_for_slots,
)
from legato.exceptions import ParameterError

__all__ = [
    "HeldSlots",
    "atake_slots",
    "current_client",
    "current_holder",
    "default_lease_duration",
    "make_request",
    "take_slots",
]

logger = logging.getLogger(__name__)


def current_client() -> Any:
    """The process's synchronous client for the current settings' store."""
    from legato.engine.recorder import get_recorder

    return get_recorder().client


def default_lease_duration() -> float:
    """``LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS`` (30 s by default)."""
    from legato.settings import get_current_settings

    return get_current_settings().concurrency.lease_duration_seconds


def current_holder() -> dict[str, Any]:
    """Who holds slots taken here: this process, and the current task run and flow run.

    Recorded with the lease, to tell who holds a full limit (``legato
    global-concurrency-limit inspect``); a tag limit lists the task runs
    holding it from ``task_run_id``.
    """
    from legato.engine.context import flow_run_context, task_run_context

    task_context = task_run_context.get()
    if task_context is not None:
        run = task_context.task_run
        return process_holder(run.flow_run_id, run.id)
    flow_context = flow_run_context.get()
    if flow_context is not None:
        return process_holder(flow_context.flow_run.id, None)
    return process_holder(None, None)


def process_holder(flow_run_id: Any, task_run_id: Any) -> dict[str, Any]:
    """``{"pid", "hostname"}``, with ``flow_run_id`` and ``task_run_id`` when given."""
    global _hostname
    if _hostname is None:
        import socket

        _hostname = socket.gethostname()
    holder: dict[str, Any] = {"pid": os.getpid(), "hostname": _hostname}
    if flow_run_id is not None:
        holder["flow_run_id"] = str(flow_run_id)
    if task_run_id is not None:
        holder["task_run_id"] = str(task_run_id)
    return holder


_hostname: str | None = None


def count_holders(client: Any) -> Callable[[str], int | None]:
    """How many leases hold limit ``name`` now (for a timeout's message)."""
    return lambda name: len(client.read_concurrency_leases(name))


def make_request(
    names: str | Iterable[str],
    occupy: Any,
    mode: Mode,
    timeout_seconds: Any,
    max_retries: int | None = None,
    strict: bool = False,
) -> SlotRequest:
    """A checked ``SlotRequest`` (bad input raises ParameterError naming the fix)."""
    if max_retries is not None and (
        isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
    ):
        raise ParameterError(
            f"max_retries={max_retries!r} is not a whole number >= 0. "
            "Pass max_retries=None to retry until timeout_seconds."
        )
    return SlotRequest(
        names=_arguments.limit_names(names),
        occupy=_arguments.slot_count(occupy),
        mode=mode,
        timeout_seconds=_arguments.timeout(timeout_seconds),
        max_retries=max_retries,
        strict=bool(strict),
    )


@dataclass
class HeldSlots:
    """Slots taken under ``lease_id`` (None: nothing held, e.g. only missing limits)."""

    client: Any
    lease_id: Any = None
    names: list[str] = field(default_factory=list)

    def release(self) -> None:
        """Give the slots back (idempotent). A failure is logged: the lease expires anyway."""
        lease_id, self.lease_id = self.lease_id, None
        if lease_id is None:
            return
        renewer.drop(lease_id)
        try:
            self.client.release_concurrency_slots_with_lease(lease_id)
        except Exception as exc:
            logger.warning(
                "Could not release the slots of %s (lease %s): %s. They come back when "
                "the lease expires.",
                ", ".join(repr(name) for name in self.names),
                lease_id,
                exc,
            )

    async def arelease(self) -> None:
        """``release`` from a coroutine (the call runs in a worker thread)."""
        if self.lease_id is None:
            return
        import asyncio

        await asyncio.to_thread(self.release)


class _Attempts:
    """One caller's acquire attempts: the call to the store, and the last answer."""

    def __init__(
        self,
        request: SlotRequest,
        client: Any,
        lease_duration: float | None,
        holder: dict[str, Any] | None,
        on_wait: Callable[[Acquisition], object] | None,
    ) -> None:
        self.request = request
        self.client = client if client is not None else current_client()
        self.duration = _duration(lease_duration)
        self.holder = _as_dict(holder) if holder is not None else current_holder()
        self.on_wait = on_wait
        self.last: Acquisition | None = None
        self.waiter = SlotWaiter(request, count_holders=count_holders(self.client))

    def acquire(self) -> Acquisition:
        request = self.request
        answer: Acquisition = self.client.acquire_concurrency_slots_with_lease(
            request.names,
            request.occupy,
            mode=request.mode,
            lease_duration_seconds=self.duration,
            holder=self.holder,
        )
        self.last = answer
        return answer

    def before_wait(self) -> None:
        """Called before each wait; tells ``on_wait`` about the first one."""
        if self.on_wait is not None and self.last is not None and self.waiter.refusals == 1:
            self.on_wait(self.last)

    def held(self, acquisition: Acquisition) -> HeldSlots:
        """The slots of a final answer: renewed until released (concurrency mode)."""
        lease_id = acquisition.lease_id if acquisition.granted else None
        names = self.request.names
        if lease_id is None or self.request.mode == "rate_limit":
            return HeldSlots(self.client, None, names)  # a rate limit's slots decay instead
        renewer.hold(lease_id, self.client, self.duration)
        return HeldSlots(self.client, lease_id, names)

    def release_unused(self) -> None:
        """Give back a lease granted by an answer that is not used (an error came after it)."""
        last = self.last
        if last is not None and last.granted and last.lease_id is not None:
            HeldSlots(self.client, last.lease_id).release()


def take_slots(
    request: SlotRequest,
    lease_duration: float | None = None,
    holder: dict[str, Any] | None = None,
    client: Any = None,
    on_wait: Callable[[Acquisition], object] | None = None,
) -> HeldSlots:
    """Wait for the slots of ``request``; for concurrency, held and renewed until released.

    ``on_wait(answer)`` is called once, before the first wait (if any).
    """
    if not request.names:
        return HeldSlots(client)
    attempts = _Attempts(request, client, lease_duration, holder, on_wait)

    def pause(seconds: float) -> None:
        attempts.before_wait()
        time.sleep(seconds)

    try:
        acquisition = wait_for_slots(attempts.acquire, attempts.waiter, pause)
    except BaseException:
        attempts.release_unused()
        raise
    return attempts.held(acquisition)


async def atake_slots(
    request: SlotRequest,
    lease_duration: float | None = None,
    holder: dict[str, Any] | None = None,
    client: Any = None,
    on_wait: Callable[[Acquisition], object] | None = None,
) -> HeldSlots:
    """``take_slots`` for coroutines: each attempt runs in a worker thread."""
    if not request.names:
        return HeldSlots(client)
    import asyncio

    attempts = _Attempts(request, client, lease_duration, holder, on_wait)

    async def acquire() -> Acquisition:
        return await _in_thread(attempts.acquire, attempts.client)

    async def pause(seconds: float) -> None:
        attempts.before_wait()
        await asyncio.sleep(seconds)

    try:
        acquisition = await await_slots(acquire, attempts.waiter, pause)
    except BaseException:
        attempts.release_unused()
        raise
    return attempts.held(acquisition)


def _as_dict(holder: Any) -> dict[str, Any]:
    """A holder given as a model (Prefect's ``ConcurrencyLeaseHolder``) as its dict."""
    dump = getattr(holder, "model_dump", None)
    return dict(dump(mode="json")) if callable(dump) else holder  # type: ignore[no-any-return]


def _duration(lease_duration: float | None) -> float:
    if lease_duration is None:
        return default_lease_duration()
    return _arguments.lease_duration(lease_duration)


async def _in_thread(call: Callable[[], Acquisition], client: Any) -> Acquisition:
    """``call()`` in a worker thread; if the caller is cancelled, a lease it grants is released."""
    import asyncio

    future = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(lambda done: _release_orphan(done, client))
        raise


def _release_orphan(done: Any, client: Any) -> None:
    if done.cancelled() or done.exception() is not None:
        return
    answer = done.result()
    if answer.granted and answer.lease_id is not None:
        import threading

        threading.Thread(
            target=HeldSlots(client, answer.lease_id).release, name="legato-release", daemon=True
        ).start()
