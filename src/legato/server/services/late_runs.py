"""The late-runs service: each pass marks Late the scheduled runs that did not start in time.

``orchestration.scheduling.mark_late_runs`` in a write transaction, in the
thread pool, when a read first finds work (no write lock taken for nothing).
The clock is an argument, so a test can run one pass at any time it likes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from legato.orchestration import scheduling
from legato.orchestration.store import Store
from legato.server.services.base import LoopService
from legato.server.services.scheduler import utc_now
from legato.settings import Settings

__all__ = ["LateRunsService"]

logger = logging.getLogger(__name__)


class LateRunsService(LoopService):
    """Scheduled runs more than ``grace_seconds`` past their start become Late."""

    name = "late-runs"

    def __init__(
        self,
        store: Store,
        *,
        loop_seconds: float,
        grace_seconds: float,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(loop_seconds)
        self.store = store
        self.grace_seconds = grace_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> LateRunsService:
        options = settings.server.services.late_runs
        return cls(store, loop_seconds=options.loop_seconds, grace_seconds=options.grace_seconds)

    async def run_once(self) -> int:
        """One pass; how many runs became Late."""
        now = self.clock()
        has_work = await asyncio.to_thread(
            self.store.read,
            lambda connection: scheduling.has_late_runs(connection, now, self.grace_seconds),
        )
        if not has_work:
            return 0
        marked = await asyncio.to_thread(
            self.store.write,
            lambda connection: scheduling.mark_late_runs(connection, now, self.grace_seconds),
        )
        if marked:
            logger.info("Marked %d flow run(s) Late", marked)
        return marked
