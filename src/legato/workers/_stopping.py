"""Awaiting a call that a stopping worker should not wait for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["unless_set"]

T = TypeVar("T")


async def unless_set(call: Awaitable[T], event: asyncio.Event) -> T | None:
    """``await call``, or None (the call cancelled) as soon as ``event`` is set."""
    answer = asyncio.ensure_future(call)
    stopped = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({answer, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not answer.done():
        answer.cancel()
        # Nobody awaits it any more: retrieve its outcome so none is reported as lost.
        answer.add_done_callback(lambda done: done.cancelled() or done.exception())
        return None
    return answer.result()
