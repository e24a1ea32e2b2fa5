"""Tag concurrency limits for task runs: which tags carry one, and holding their slots.

A task run with tags holds a slot of every tag limit (``tag:<tag>``, made
by ``legato concurrency-limit create TAG N``) while an attempt runs: taken
before the run goes Running, given back as soon as the attempt ends however
it ends (Completed, Failed, TimedOut, Crashed, cancelled), so a retry's delay
holds no slot. A run that must wait is recorded
``Pending(name="AwaitingConcurrencySlot")`` until it gets them. The slots
are held under a lease that the process renews (``legato.concurrency``): a
process killed mid-run gives its slots back when the lease expires.

Untagged runs never come here (the engine checks ``task_run.tags`` first).
For tagged runs, which tags carry a limit is read from the store at most
once every ``LIMITED_TAGS_TTL_SECONDS`` (2 s) per process and store; a run
whose tags carry none costs a set intersection. A limit created or deleted
elsewhere therefore applies to runs that start here up to 2 s later.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from legato.concurrency._global_slots import (
    HeldSlots,
    atake_slots,
    current_client,
    process_holder,
    take_slots,
)
from legato.concurrency._waiting import Acquisition, SlotRequest
from legato.states import Failed, Pending

if TYPE_CHECKING:
    from legato.engine.task_engine import TaskRunEngine

__all__ = [
    "LIMITED_TAGS_TTL_SECONDS",
    "arelease",
    "atake",
    "limited_tags",
    "release",
    "take",
]

LIMITED_TAGS_TTL_SECONDS = 2.0
TAG_PREFIX = "tag:"
AWAITING = "AwaitingConcurrencySlot"


class _LimitedTags:
    """The tags that carry a limit in one store, read at most once per TTL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Any = None
        self._tags: frozenset[str] = frozenset()
        self._expires = 0.0

    def of(self, client: Any, tags: list[str]) -> list[str]:
        """The tags among ``tags`` that carry a limit (in their order)."""
        found = self.cached(client, tags)
        if found is None:
            self.refresh(client)
            found = [tag for tag in tags if tag in self._tags]
        return found

    def cached(self, client: Any, tags: list[str]) -> list[str] | None:
        """``of`` without a store read: None when the cache is stale."""
        if client is not self._client or time.monotonic() >= self._expires:
            return None
        limited = self._tags
        return [tag for tag in tags if tag in limited]

    def refresh(self, client: Any) -> None:
        """Read the limited tags from the store, unless another thread just did."""
        with self._lock:
            if client is self._client and time.monotonic() < self._expires:
                return  # another thread refreshed meanwhile
            self._tags = frozenset(_read_limited_tags(client))
            self._client = client
            self._expires = time.monotonic() + LIMITED_TAGS_TTL_SECONDS

    def forget(self) -> None:
        """Read again on next use (tests, and after creating a limit in this process)."""
        with self._lock:
            self._expires = 0.0


def _read_limited_tags(client: Any) -> list[str]:
    """Every tag with a limit in the store (read page by page)."""
    tags: list[str] = []
    while True:
        page = client.read_concurrency_limits(limit=_PAGE, offset=len(tags))
        tags.extend(limit.tag for limit in page)
        if len(page) < _PAGE:
            return tags


_PAGE = 200  # the most one server request returns


limited_tags = _LimitedTags()


def _request(tags: list[str]) -> SlotRequest | None:
    if not tags:
        return None
    # A limit deleted since the tags were read is missing: the run just goes ahead.
    names = [TAG_PREFIX + tag for tag in tags]
    return SlotRequest(names, 1, "concurrency", is_missing_quiet=True)


def _awaiting(engine: TaskRunEngine) -> Any:
    def record(answer: Acquisition) -> None:
        limit = answer.refused_by or "a tag limit"
        engine.set_state(
            Pending(name=AWAITING, message=f"Waiting for a slot of concurrency limit {limit!r}")
        )
        engine.log(logging.INFO, "Waiting for a slot of concurrency limit %r", limit)

    return record


def _holder(engine: TaskRunEngine) -> dict[str, Any]:
    run = engine.task_run
    return process_holder(run.flow_run_id, run.id_text)


def _take(engine: TaskRunEngine) -> HeldSlots | None:
    """Wait for a slot of each of the run's limited tags (None: no tag carries a limit)."""
    client = current_client()
    request = _request(limited_tags.of(client, engine.task_run.tags))
    if request is None:
        return None
    return take_slots(request, None, _holder(engine), client, _awaiting(engine))


async def _atake(engine: TaskRunEngine) -> HeldSlots | None:
    import asyncio

    client = current_client()
    tags = engine.task_run.tags
    found = limited_tags.cached(client, tags)
    if found is None:
        found = await asyncio.to_thread(limited_tags.of, client, tags)
    request = _request(found)
    if request is None:
        return None
    return await atake_slots(request, None, _holder(engine), client, _awaiting(engine))


# -- the engine's calls -----------------------------------------------------------


def take(engine: TaskRunEngine) -> bool:
    """Hold the run's tag slots in ``engine.slots``; False if they could not be taken.

    A store that cannot be reached (or another error) fails the run, with no
    retry: running without the slots would break the limit.
    """
    try:
        engine.slots = _take(engine)
    except Exception as exc:
        _fail(engine, exc)
        return False
    except BaseException as exc:
        engine.handle_crash(exc)
        raise
    return True


async def atake(engine: TaskRunEngine) -> bool:
    """``take`` for async task runs (waits with asyncio)."""
    try:
        engine.slots = await _atake(engine)
    except Exception as exc:
        _fail(engine, exc)
        return False
    except BaseException as exc:
        engine.handle_crash(exc)
        raise
    return True


def release(engine: TaskRunEngine) -> None:
    """Give the run's tag slots back (idempotent)."""
    held, engine.slots = engine.slots, None
    if held is not None:
        held.release()


async def arelease(engine: TaskRunEngine) -> None:
    """``release`` from a coroutine (the store call runs in a worker thread)."""
    held, engine.slots = engine.slots, None
    if held is not None:
        await held.arelease()


def _fail(engine: TaskRunEngine, exc: Exception) -> None:
    message = f"Could not take the concurrency slots of tags {engine.task_run.tags}: {exc}"
    engine.log(logging.ERROR, "%s", message, exc_info=exc)
    engine.set_state(Failed(message=message, data=exc))
