"""The scheduler service: each pass creates the runs deployment schedules need ahead of time.

It reads which deployments have active schedules, then runs
``orchestration.scheduling.schedule_runs`` on them in write transactions of
``batch_size`` deployments each (short transactions: SQLite has one writer),
in the thread pool. The clock is an argument, so a test can run one pass at
any time it likes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from legato.orchestration import scheduling
from legato.orchestration.store import Store
from legato.server.services.base import LoopService
from legato.settings import Settings

__all__ = ["SchedulerService", "utc_now"]

logger = logging.getLogger(__name__)


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC (the services' default clock)."""
    return dt.datetime.now(dt.UTC)


class SchedulerService(LoopService):
    """Creates the scheduled runs of every active schedule (see the module doc)."""

    name = "scheduler"

    def __init__(
        self,
        store: Store,
        *,
        loop_seconds: float,
        horizon_seconds: float,
        min_runs: int,
        max_runs: int,
        batch_size: int = 100,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(loop_seconds)
        self.store = store
        self.horizon = dt.timedelta(seconds=horizon_seconds)
        self.min_runs = min_runs
        self.max_runs = max_runs
        self.batch_size = max(1, batch_size)
        self.clock = clock

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> SchedulerService:
        options = settings.server.services.scheduler
        return cls(
            store,
            loop_seconds=options.loop_seconds,
            horizon_seconds=options.horizon_seconds,
            min_runs=options.min_runs,
            max_runs=options.max_runs,
        )

    async def run_once(self) -> int:
        """One pass; how many runs it created."""
        now = self.clock()
        deployment_ids = await asyncio.to_thread(
            self.store.read, scheduling.schedulable_deployment_ids
        )
        created = 0
        for start in range(0, len(deployment_ids), self.batch_size):
            chunk = deployment_ids[start : start + self.batch_size]
            created += await asyncio.to_thread(
                self.store.write,
                lambda connection, chunk=chunk: scheduling.schedule_runs(
                    connection,
                    now,
                    self.horizon,
                    self.min_runs,
                    self.max_runs,
                    deployment_ids=chunk,
                ),
            )
        if created:
            logger.info(
                "Scheduled %d flow run(s) of %d deployment(s)", created, len(deployment_ids)
            )
        return created
