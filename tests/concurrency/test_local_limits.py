"""In-process limits: threads and coroutines share them; no store is touched."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from legato.concurrency import local
from legato.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    ObjectNotFound,
    ParameterError,
)


@pytest.fixture(autouse=True)
def no_local_limits() -> Iterator[None]:
    for limit in local.read_limits():
        local.remove_limit(limit.name)
    yield
    for limit in local.read_limits():
        local.remove_limit(limit.name)


class Peak:
    """Counts how many holders are inside at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.peak = 0

    def enter(self) -> None:
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1


def test_threads_never_exceed_the_limit_and_reach_it():
    local.define_limit("gpu", 3)
    peak = Peak()
    everyone_in = threading.Barrier(3, timeout=10)

    def work(index: int) -> None:
        with local.concurrency("gpu", timeout_seconds=30):
            peak.enter()
            if index < 3:
                everyone_in.wait()  # the first three hold their slots together
            time.sleep(0.005)
            peak.leave()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for thread in threads[:3]:
        thread.start()
    for thread in threads[3:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert peak.peak == 3
    assert local.read_limit("gpu").active_slots == 0


def test_a_waiter_is_woken_when_slots_come_back():
    local.define_limit("one", 1)
    released = threading.Event()
    holder_in = threading.Event()

    def hold() -> None:
        with local.concurrency("one"):
            holder_in.set()
            released.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holder_in.wait(10)
    timer = threading.Timer(0.2, released.set)
    timer.start()
    started = time.monotonic()
    with local.concurrency("one", timeout_seconds=10):
        waited = time.monotonic() - started
    thread.join(10)
    assert 0.15 < waited < 2.0  # woken by the release, not by a long back-off


def test_all_or_nothing_over_several_limits():
    local.define_limit("a", 1)
    local.define_limit("b", 1)
    with local.concurrency("b"):
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError) as raised,
            local.concurrency(["a", "b"], timeout_seconds=0.05),
        ):
            pass
        assert raised.value.refused_by == "b"
        assert local.read_limit("a").active_slots == 0  # 'a' was not kept


def test_occupy_counts_slots():
    local.define_limit("pool", 4)
    with local.concurrency("pool", occupy=3):
        assert local.read_limit("pool").active_slots == 3
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError, match="2 slot"),
            local.concurrency("pool", occupy=2, timeout_seconds=0),
        ):
            pass
        with local.concurrency("pool", occupy=1, timeout_seconds=0):
            assert local.read_limit("pool").active_slots == 4
    assert local.read_limit("pool").active_slots == 0


def test_slots_come_back_when_the_block_raises():
    local.define_limit("db", 1)
    with pytest.raises(ValueError), local.concurrency("db"):
        raise ValueError("boom")
    assert local.read_limit("db").active_slots == 0


def test_occupy_larger_than_the_limit_is_refused_not_waited_for():
    local.define_limit("small", 2)
    started = time.monotonic()
    with pytest.raises(ParameterError, match="occupy=3"), local.concurrency("small", occupy=3):
        pass
    assert time.monotonic() - started < 1


def test_missing_limits_strict_and_lenient(concurrency_logs):
    with (
        pytest.raises(ConcurrencySlotAcquisitionError, match="'ghost-strict'"),
        local.concurrency("ghost-strict", strict=True),
    ):
        pass
    with local.concurrency("ghost-lenient"):
        pass  # no wait, a warning
    assert any("ghost-lenient" in record.getMessage() for record in concurrency_logs)


@pytest.mark.parametrize("limit", [0, -1, 1.5, "3", True])
def test_bad_limit_sizes(limit):
    with pytest.raises(ParameterError, match="limit="):
        local.define_limit("bad", limit)


@pytest.mark.parametrize("occupy", [0, -2, 1.0, None])
def test_bad_occupy(occupy):
    local.define_limit("db", 2)
    with pytest.raises(ParameterError, match="occupy="):
        local.concurrency("db", occupy=occupy)


def test_bad_names_and_timeouts():
    with pytest.raises(ParameterError, match="non-empty string"):
        local.concurrency(["ok", ""])
    with pytest.raises(ParameterError, match="not a limit name"):
        local.concurrency(42)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="timeout_seconds=-1"):
        local.concurrency("db", timeout_seconds=-1)


def test_unknown_limit_read():
    with pytest.raises(ObjectNotFound, match="define_limit"):
        local.read_limit("never")


def test_rate_limit_spreads_calls_at_the_decay_rate():
    local.define_limit("api", 2, slot_decay_per_second=50)
    started = time.monotonic()
    for _ in range(12):
        local.rate_limit("api", timeout_seconds=5)
    elapsed = time.monotonic() - started
    # 2 at once, then one each 20 ms: 10 more take >= 0.2 s.
    assert 0.18 <= elapsed < 2.0


def test_rate_limit_needs_a_decay():
    local.define_limit("plain", 2)
    with pytest.raises(ParameterError, match="no slot decay"):
        local.rate_limit("plain")


def test_coroutines_share_a_limit_with_threads():
    local.define_limit("mixed", 2)
    peak = Peak()

    async def work() -> None:
        async with local.concurrency("mixed", timeout_seconds=30):
            peak.enter()
            await asyncio.sleep(0.01)
            peak.leave()

    def thread_work() -> None:
        with local.concurrency("mixed", timeout_seconds=30):
            peak.enter()
            time.sleep(0.01)
            peak.leave()

    async def main() -> None:
        await asyncio.gather(*(work() for _ in range(10)))

    threads = [threading.Thread(target=thread_work) for _ in range(5)]
    for thread in threads:
        thread.start()
    asyncio.run(asyncio.wait_for(main(), 30))
    for thread in threads:
        thread.join(30)
    assert peak.peak == 2
    assert local.read_limit("mixed").active_slots == 0


def test_async_rate_limit():
    local.define_limit("arate", 1, slot_decay_per_second=100)

    async def main() -> float:
        started = time.monotonic()
        for _ in range(6):
            await local.arate_limit("arate", timeout_seconds=5)
        return time.monotonic() - started

    assert 0.045 <= asyncio.run(main()) < 2.0


def test_redefining_a_limit_wakes_waiters():
    local.define_limit("grow", 1)
    with local.concurrency("grow"):
        threading.Timer(0.1, lambda: local.define_limit("grow", 2)).start()
        with local.concurrency("grow", timeout_seconds=5):
            assert local.read_limit("grow").active_slots == 2


def test_a_block_cannot_be_entered_twice():
    local.define_limit("once", 2)
    block = local.concurrency("once")
    with block, pytest.raises(RuntimeError, match="already entered"), block:
        pass
    assert local.read_limit("once").active_slots == 0
