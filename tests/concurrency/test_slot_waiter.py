"""The shared acquire loop: when to stop, wait or raise (no store: answers are given)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from legato.concurrency import _waiting
from legato.concurrency._waiting import SlotRequest, SlotWaiter, await_slots, wait_for_slots
from legato.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    ParameterError,
)


@dataclass
class Answer:
    granted: bool
    refused_by: str | None = None
    retry_after_seconds: float | None = None
    missing: list[str] = field(default_factory=list)
    limits: list[dict[str, Any]] = field(default_factory=list)
    lease_id: Any = None


FULL = Answer(False, "db", limits=[{"name": "db", "limit": 3, "active_slots": 3}])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def top(low: float, high: float) -> float:
    return high


def test_granted_stops_at_once():
    waiter = SlotWaiter(SlotRequest(["db"], 1))
    assert waiter.after(Answer(True, lease_id="x")) is None


def test_backoff_doubles_up_to_a_ceiling_with_jitter_below_it():
    clock = Clock()
    waiter = SlotWaiter(SlotRequest(["db"], 1), clock=clock, uniform=top)
    delays = [waiter.after(FULL) for _ in range(12)]
    assert delays[:4] == [0.01, 0.02, 0.04, 0.08]
    assert delays[-1] == _waiting.MAX_DELAY_SECONDS
    low = SlotWaiter(SlotRequest(["db"], 1), clock=clock, uniform=lambda a, b: a)
    assert low.after(FULL) == 0.005  # half the ceiling at the bottom of the jitter


def test_retry_after_from_the_store_is_waited_with_a_little_jitter():
    waiter = SlotWaiter(SlotRequest(["api"], 1, "rate_limit"), uniform=top)
    delay = waiter.after(Answer(False, "api", retry_after_seconds=0.05))
    assert delay == pytest.approx(0.055)


def test_the_last_attempt_is_at_the_deadline_then_a_timeout_naming_the_limit():
    clock = Clock()
    waiter = SlotWaiter(
        SlotRequest(["db"], 2, timeout_seconds=0.05),
        clock=clock,
        uniform=top,
        count_holders=lambda name: 2 if name == "db" else None,
    )
    answers = iter([FULL] * 20)
    with pytest.raises(AcquireConcurrencySlotTimeoutError) as raised:
        wait_for_slots(lambda: next(answers), waiter, clock.sleep)
    assert clock.now == pytest.approx(100.05)  # never slept past the deadline
    error = raised.value
    assert isinstance(error, TimeoutError)
    assert error.refused_by == "db" and error.names == ["db"] and error.timeout_seconds == 0.05
    message = str(error)
    assert "'db'" in message and "3 of 3 slots held by 2 holder(s)" in message
    assert "timeout_seconds=0.05" in message and "Raise the limit" in message


def test_timeout_zero_is_one_attempt():
    clock = Clock()
    waiter = SlotWaiter(SlotRequest(["db"], 1, timeout_seconds=0), clock=clock)
    calls = []
    with pytest.raises(AcquireConcurrencySlotTimeoutError):
        wait_for_slots(lambda: calls.append(1) or FULL, waiter, clock.sleep)
    assert calls == [1]


def test_max_retries_bounds_the_attempts():
    clock = Clock()
    waiter = SlotWaiter(SlotRequest(["db"], 1, max_retries=3), clock=clock)
    calls = []
    with pytest.raises(AcquireConcurrencySlotTimeoutError, match="after 3 retries"):
        wait_for_slots(lambda: calls.append(1) or FULL, waiter, clock.sleep)
    assert len(calls) == 4


def test_occupy_above_the_limit_size_is_refused_at_once():
    waiter = SlotWaiter(SlotRequest(["db"], 5))
    with pytest.raises(ParameterError, match="occupy=5 is more than") as raised:
        waiter.after(FULL)
    assert "--limit 5" in str(raised.value)


def test_a_concurrency_hint_is_a_floor_for_the_backoff_a_rate_hint_is_waited():
    hinted = Answer(False, "db", retry_after_seconds=0.2, limits=FULL.limits)
    waiter = SlotWaiter(SlotRequest(["db"], 1), uniform=top)
    assert [waiter.after(hinted) for _ in range(5)] == [0.2] * 5
    assert [waiter.after(hinted) for _ in range(3)] == [0.32, 0.5, 0.5]
    slow = Answer(False, "db", retry_after_seconds=3.0, limits=FULL.limits)
    assert SlotWaiter(SlotRequest(["db"], 1), uniform=top).after(slow) == 0.5
    rate = SlotWaiter(SlotRequest(["api"], 1, "rate_limit"), uniform=lambda a, b: a)
    assert rate.after(slow) == 3.0


def test_a_failing_holder_count_does_not_hide_the_timeout():
    def broken(name: str) -> int:
        raise RuntimeError("store down")

    waiter = SlotWaiter(SlotRequest(["db"], 1, timeout_seconds=0), count_holders=broken)
    with pytest.raises(AcquireConcurrencySlotTimeoutError, match=r"\(3 of 3 slots\)"):
        waiter.after(FULL)


def test_missing_limit_strict_is_an_error():
    waiter = SlotWaiter(SlotRequest(["nope"], 1, strict=True))
    with pytest.raises(ConcurrencySlotAcquisitionError, match="'nope' do not exist") as raised:
        waiter.after(Answer(False, missing=["nope"]))
    assert raised.value.names == ["nope"]


def test_missing_limit_warns_once_and_does_not_wait(concurrency_logs):
    name = "missing-for-warning-test"
    _waiting._warned_missing.discard(name)
    for _ in range(3):
        waiter = SlotWaiter(SlotRequest([name], 1))
        assert waiter.after(Answer(False, missing=[name])) is None
    warnings = [r for r in concurrency_logs if name in r.getMessage()]
    assert len(warnings) == 1
    assert "strict=True" in warnings[0].getMessage()


def test_waits_until_granted():
    clock = Clock()
    answers = iter([FULL, FULL, Answer(True, lease_id="lease")])
    waiter = SlotWaiter(SlotRequest(["db"], 1), clock=clock, uniform=top)
    result = wait_for_slots(lambda: next(answers), waiter, clock.sleep)
    assert result.lease_id == "lease"
    assert clock.now == pytest.approx(100.03)


def test_async_loop_shares_the_logic():
    answers = iter([FULL, Answer(True, lease_id="lease")])
    slept: list[float] = []

    async def acquire() -> Answer:
        return next(answers)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    waiter = SlotWaiter(SlotRequest(["db"], 1), uniform=top)
    result = asyncio.run(await_slots(acquire, waiter, sleep))
    assert result.lease_id == "lease" and slept == [0.01]


def test_async_loop_times_out_with_real_sleeps():
    async def acquire() -> Answer:
        return FULL

    waiter = SlotWaiter(SlotRequest(["db"], 1, timeout_seconds=0.05))
    with pytest.raises(AcquireConcurrencySlotTimeoutError):
        asyncio.run(asyncio.wait_for(await_slots(acquire, waiter), 10))
