"""The server's background services: the loop (back-off, stop), the scheduler and late runs
run one pass at a time with a given clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest

from legato.orchestration.store import Store
from legato.schedules import Interval
from legato.server.services import (
    ExpiredPausesService,
    LateRunsService,
    LoopService,
    SchedulerService,
    enabled_services,
)
from legato.settings import load_settings, temporary_settings

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


class Flaky(LoopService):
    """Fails ``failures`` times, then succeeds; records when each pass ran."""

    name = "flaky"

    def __init__(self, failures: int, interval_seconds: float = 0.01) -> None:
        super().__init__(interval_seconds, max_backoff_seconds=0.08)
        self.failures = failures
        self.calls: list[float] = []

    async def run_once(self) -> None:
        self.calls.append(time.monotonic())
        if len(self.calls) <= self.failures:
            raise ConnectionError(f"database away (call {len(self.calls)})")


async def _wait_for(condition, timeout_seconds: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def test_failures_are_logged_once_each_and_back_off(caplog):
    service = Flaky(failures=4)

    async def scenario() -> None:
        await service.start()
        await service.start()  # idempotent
        await _wait_for(lambda: len(service.calls) >= 6)
        await service.stop()

    with caplog.at_level(logging.DEBUG, logger="legato.server.services.base"):
        asyncio.run(scenario())

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4
    assert warnings[0].getMessage() == (
        "The flaky service failed (ConnectionError: database away (call 1)); next attempt in 0.0 s"
    )
    assert all(record.exc_info is None for record in warnings)
    assert service.consecutive_failures == 0
    assert not service.is_running
    gaps = [
        later - earlier for earlier, later in zip(service.calls, service.calls[1:], strict=False)
    ]
    # Waits double after each failure in a row (0.02, 0.04, 0.08, capped at 0.08).
    assert gaps[2] >= 0.07


def test_the_next_delay_doubles_per_failure_up_to_the_cap():
    service = Flaky(failures=0, interval_seconds=1.0)
    service.max_backoff_seconds = 10.0
    delays = []
    for failures in range(6):
        service.consecutive_failures = failures
        delays.append(service.next_delay_seconds())
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    with pytest.raises(ValueError, match="interval_seconds must be > 0"):
        Flaky(failures=0, interval_seconds=0)


def test_stop_wakes_a_sleeping_loop_at_once():
    service = Flaky(failures=0, interval_seconds=3600)

    async def scenario() -> float:
        await service.start()
        await _wait_for(lambda: service.passes == 1)
        started = time.monotonic()
        await service.stop()
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0
    assert len(service.calls) == 1


def test_one_scheduler_pass_with_a_given_clock(store, deploy):
    for number in range(5):
        deploy(f"d{number}", schedules=[Interval(3600)])
    deploy("paused", paused=True, schedules=[Interval(3600)])
    service = SchedulerService(
        store,
        loop_seconds=60,
        horizon_seconds=3 * 3600,
        min_runs=1,
        max_runs=10,
        batch_size=2,
        clock=lambda: NOW,
    )

    assert asyncio.run(service.run_once()) == 5 * 4  # 00:00 to 03:00, in three transactions
    assert asyncio.run(service.run_once()) == 0


def test_one_late_runs_pass_with_a_given_clock(store, deploy):
    deploy("hourly", schedules=[Interval(3600)])
    scheduler = SchedulerService(
        store, loop_seconds=60, horizon_seconds=3600, min_runs=0, max_runs=10, clock=lambda: NOW
    )
    asyncio.run(scheduler.run_once())  # 00:00 and 01:00
    clock = [NOW]
    late = LateRunsService(store, loop_seconds=5, grace_seconds=30, clock=lambda: clock[0])

    assert asyncio.run(late.run_once()) == 0
    clock[0] = NOW + dt.timedelta(seconds=31)
    assert asyncio.run(late.run_once()) == 1
    clock[0] = NOW + dt.timedelta(hours=2)
    assert asyncio.run(late.run_once()) == 1
    assert asyncio.run(late.run_once()) == 0


def test_the_settings_choose_the_services(tmp_path):
    store = Store("sqlite:///" + str(tmp_path / "unused.db"))
    try:
        defaults = enabled_services(store, load_settings())
        assert [type(service) for service in defaults] == [
            SchedulerService,
            LateRunsService,
            ExpiredPausesService,
        ]
        scheduler, late, _ = defaults
        assert (scheduler.interval_seconds, scheduler.horizon, scheduler.min_runs) == (
            10.0,
            dt.timedelta(days=100),
            3,
        )
        assert (late.interval_seconds, late.grace_seconds) == (5.0, 15.0)
        overrides = {
            "LEGATO_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "LEGATO_SERVER_SERVICES_LATE_RUNS_GRACE_SECONDS": "60",
            "LEGATO_SERVER_SERVICES_EXPIRED_PAUSES_ENABLED": "false",
        }
        with temporary_settings(overrides) as settings:
            chosen = enabled_services(store, settings)
        assert [type(service) for service in chosen] == [LateRunsService]
        assert chosen[0].grace_seconds == 60.0  # type: ignore[attr-defined]
    finally:
        store.close()
