"""Running coroutines from synchronous code.

Worker threads of the thread pool keep one event loop each, so submitting an
async task does not pay for a new loop per run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()
_loops: dict[threading.Thread, asyncio.AbstractEventLoop] = {}
_loops_lock = threading.Lock()


def run_coroutine_in_this_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on this thread's own event loop (kept between calls)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
        with _loops_lock:
            _loops[threading.current_thread()] = loop
    return loop.run_until_complete(coroutine)


def close_finished_threads_loops() -> None:
    """Close the event loops of worker threads that have ended."""
    with _loops_lock:
        ended = [thread for thread in _loops if not thread.is_alive()]
        loops = [_loops.pop(thread) for thread in ended]
    for loop in loops:
        if not loop.is_closed():
            loop.close()


def run_coroutine_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from code already inside an event loop."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="legato-coroutine") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_coroutine_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` from sync code, whether or not a loop is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_coroutine_in_this_thread(coroutine)
    return run_coroutine_in_thread(coroutine)
