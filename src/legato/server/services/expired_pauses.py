"""The expired-pauses service: each pass fails the paused runs whose pause timed out.

``orchestration.expired_pauses.fail_expired_pauses`` in a write transaction, in
the thread pool, when a read first finds a paused run. The clock is an
argument, so a test can run one pass at any time it likes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from legato.orchestration import expired_pauses
from legato.orchestration.store import Store
from legato.server.services.base import LoopService
from legato.server.services.scheduler import utc_now
from legato.settings import Settings

__all__ = ["ExpiredPausesService"]

logger = logging.getLogger(__name__)


class ExpiredPausesService(LoopService):
    """Suspended runs past their ``pause_timeout`` become Failed; runs paused in a process,
    ``grace_seconds`` later (their process fails them itself if it still runs)."""

    name = "expired-pauses"

    def __init__(
        self,
        store: Store,
        *,
        loop_seconds: float,
        grace_seconds: float = expired_pauses.DEFAULT_GRACE_SECONDS,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(loop_seconds)
        self.store = store
        self.grace_seconds = grace_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> ExpiredPausesService:
        options = settings.server.services.expired_pauses
        return cls(store, loop_seconds=options.loop_seconds, grace_seconds=options.grace_seconds)

    async def run_once(self) -> int:
        """One pass; how many runs were failed."""
        if not await asyncio.to_thread(self.store.read, expired_pauses.has_paused_runs):
            return 0
        now = self.clock()
        failed = await asyncio.to_thread(
            self.store.write,
            lambda connection: expired_pauses.fail_expired_pauses(
                connection, now, self.grace_seconds
            ),
        )
        if failed:
            logger.info("Failed %d flow run(s) whose pause timed out", failed)
        return failed
