"""``LoopService``: run ``run_once()`` every ``interval_seconds`` until stopped.

A subclass sets ``name`` and implements ``async run_once()``; the loop,
back-off and shutdown live here, once:

- the first pass runs at ``start()``, the next ``interval_seconds`` after
  each pass ends;
- a pass that raises is logged as one WARNING line (the traceback at DEBUG),
  and the next pass waits longer each time in a row (doubling, at most
  ``max_backoff_seconds``); a pass that succeeds resets the wait;
- ``stop()`` wakes a sleeping loop at once and waits for a running pass to
  end (bounded), then cancels it.

Tests call ``run_once()`` directly (services take their clock as an argument).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

__all__ = ["LoopService"]

logger = logging.getLogger(__name__)


class LoopService:
    """A background loop; subclasses implement ``run_once``."""

    name = "service"

    def __init__(self, interval_seconds: float, *, max_backoff_seconds: float = 300.0) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"{self.name}: interval_seconds must be > 0, got {interval_seconds}")
        self.interval_seconds = interval_seconds
        self.max_backoff_seconds = max(max_backoff_seconds, interval_seconds)
        self.consecutive_failures = 0
        self.passes = 0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> object:
        """One pass of the service's work (what it returns is for tests and logs)."""
        raise NotImplementedError

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the loop in a task of the running event loop (idempotent)."""
        if self.is_running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name=f"legato-{self.name}")

    async def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the loop: wake it, let a running pass finish (bounded), then cancel it."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def next_delay_seconds(self) -> float:
        """Seconds until the next pass: the interval, doubled per failure in a row."""
        if not self.consecutive_failures:
            return self.interval_seconds
        delay = self.interval_seconds * 2 ** min(self.consecutive_failures, 16)
        return float(min(delay, self.max_backoff_seconds))

    async def run_pass(self) -> bool:
        """Run one pass, logging a failure as one line; True when it succeeded."""
        try:
            await self.run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.consecutive_failures += 1
            logger.warning(
                "The %s service failed (%s: %s); next attempt in %.1f s",
                self.name,
                type(exc).__name__,
                exc,
                self.next_delay_seconds(),
            )
            logger.debug("The %s service's failure", self.name, exc_info=exc)
            return False
        self.consecutive_failures = 0
        return True

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await self.run_pass()
            self.passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.next_delay_seconds())
