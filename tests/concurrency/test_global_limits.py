"""legato.concurrency.sync / asyncio against real stores (embedded file, servers on SQLite and PG)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid

import pydantic
import pytest

from legato.client.schemas.actions import GlobalConcurrencyLimitCreate
from legato.concurrency import asyncio as aconcurrency
from legato.concurrency._leases import renewer
from legato.concurrency.sync import concurrency, rate_limit
from legato.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    ParameterError,
)


def create(client, name, limit, decay=0.0):
    client.create_global_concurrency_limit(
        GlobalConcurrencyLimitCreate(name=name, limit=limit, slot_decay_per_second=decay)
    )


def test_a_held_slot_makes_others_wait_then_time_out_naming_the_limit(client, name):
    create(client, name, 1)
    with concurrency(name):
        assert len(client.read_concurrency_leases(name)) == 1
        started = time.monotonic()
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError) as raised,
            concurrency(name, timeout_seconds=0.3),
        ):
            pass
        assert 0.25 <= time.monotonic() - started < 5
    error = raised.value
    assert isinstance(error, TimeoutError)
    assert error.refused_by == name and error.names == [name]
    assert f"limit {name!r} is full (1 of 1 slots held by 1 holder(s))" in str(error)
    assert client.read_concurrency_leases(name) == []


def test_the_holder_is_recorded_with_the_lease(client, name):
    create(client, name, 2)
    with concurrency(name, holder={"type": "job", "id": "nightly"}):
        (lease,) = client.read_concurrency_leases(name)
    assert lease.holder == {"type": "job", "id": "nightly"}
    with concurrency(name):
        (lease,) = client.read_concurrency_leases(name)
    assert lease.holder["pid"] == os.getpid() and "hostname" in lease.holder
    assert "task_run_id" not in lease.holder

    class Holder(pydantic.BaseModel):  # as Prefect's ConcurrencyLeaseHolder
        type: str
        id: uuid.UUID

    run_id = uuid.uuid4()
    with concurrency(name, holder=Holder(type="flow_run", id=run_id)):
        (lease,) = client.read_concurrency_leases(name)
    assert lease.holder == {"type": "flow_run", "id": str(run_id)}


def test_a_waiter_gets_the_slot_when_it_is_given_back(client, name):
    create(client, name, 1)
    entered = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with concurrency(name):
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(10)
    threading.Timer(0.2, leave.set).start()
    with concurrency(name, timeout_seconds=10):
        assert len(client.read_concurrency_leases(name)) == 1
    thread.join(10)


def test_all_limits_are_taken_at_once_or_none(client, name):
    create(client, f"{name}-a", 2)
    create(client, f"{name}-b", 1)
    with concurrency(f"{name}-b"):
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError) as raised,
            concurrency([f"{name}-a", f"{name}-b"], timeout_seconds=0),
        ):
            pass
        assert raised.value.refused_by == f"{name}-b"
        assert client.read_concurrency_leases(f"{name}-a") == []


def test_slots_come_back_when_the_block_raises(client, name):
    create(client, name, 1)
    with pytest.raises(KeyError), concurrency(name):
        raise KeyError("boom")
    assert client.read_concurrency_leases(name) == []
    assert renewer.held() == []


def test_a_renewed_lease_outlives_its_duration(client, name):
    create(client, name, 1)
    with concurrency(name, lease_duration=0.6):
        time.sleep(1.5)  # over two lease durations: only renewals keep it
        with (
            pytest.raises(AcquireConcurrencySlotTimeoutError),
            concurrency(name, timeout_seconds=0),
        ):
            pass
    with concurrency(name, timeout_seconds=0):
        pass


def test_occupy_larger_than_the_limit_is_refused_at_once(client, name):
    create(client, name, 2)
    started = time.monotonic()
    with pytest.raises(ParameterError, match="occupy|only 2"), concurrency(name, occupy=3):
        pass
    assert time.monotonic() - started < 5


def test_a_missing_limit_is_an_error_when_strict(client, name):
    with (
        pytest.raises(ConcurrencySlotAcquisitionError, match=f"'{name}' do not exist") as raised,
        concurrency(name, strict=True),
    ):
        pass
    assert raised.value.names == [name]
    with pytest.raises(ConcurrencySlotAcquisitionError):
        rate_limit(name, strict=True)


def test_a_missing_limit_warns_and_does_not_wait(client, name, concurrency_logs):
    started = time.monotonic()
    with concurrency(name):
        pass
    assert time.monotonic() - started < 5
    assert any(name in record.getMessage() for record in concurrency_logs)


def test_strict_with_one_limit_missing_keeps_nothing(client, name):
    create(client, name, 1)
    with (
        pytest.raises(ConcurrencySlotAcquisitionError),
        concurrency([name, f"{name}-missing"], strict=True),
    ):
        pass
    assert client.read_concurrency_leases(name) == []


@pytest.mark.parametrize("limit", [0, -3, 2.5])
def test_limits_of_zero_or_fewer_slots_are_refused(client, name, limit):
    with pytest.raises((ParameterError, ValueError), match="limit|slot"):
        create(client, name, limit)
    with pytest.raises((ParameterError, ValueError)):
        client.create_concurrency_limit(name, limit)


# Arguments are checked before the store is asked: these need no store fixture.


@pytest.mark.parametrize("occupy", [0, -1, 1.5, "1", True])
def test_bad_occupy(name, occupy):
    with pytest.raises(ParameterError, match="occupy"), concurrency(name, occupy=occupy):
        pass


def test_bad_timeouts_and_names(name):
    with (
        pytest.raises(ParameterError, match="timeout_seconds=-1"),
        concurrency(name, timeout_seconds=-1),
    ):
        pass
    with pytest.raises(ParameterError, match="non-empty"), concurrency(["", name]):
        pass
    with pytest.raises(ParameterError, match="lease_duration"), concurrency(name, lease_duration=0):
        pass


def test_no_names_is_no_limit():
    with concurrency([]):
        pass
    rate_limit([])


def test_rate_limit_needs_a_slot_decay(client, name):
    create(client, name, 5)
    with pytest.raises(ParameterError, match="slot decay"):
        rate_limit(name)


def test_rate_limit_paces_calls(client, name):
    create(client, name, 2, decay=20)
    started = time.monotonic()
    for _ in range(8):
        rate_limit(name, timeout_seconds=10)
    # 2 at once, then one each 50 ms.
    assert 0.25 <= time.monotonic() - started < 5
    assert client.read_concurrency_leases(name) == []


def test_async_twins(client, name):
    create(client, name, 1)
    create(client, f"{name}-rate", 1, decay=50)

    async def main() -> None:
        async with aconcurrency.concurrency(name):
            with pytest.raises(AcquireConcurrencySlotTimeoutError):
                async with aconcurrency.concurrency(name, timeout_seconds=0.1):
                    pass
        async with aconcurrency.concurrency(name, timeout_seconds=0):
            pass
        for _ in range(3):
            await aconcurrency.rate_limit(f"{name}-rate", timeout_seconds=5)

    asyncio.run(asyncio.wait_for(main(), 30))
    assert client.read_concurrency_leases(name) == []


def test_async_waiters_share_a_limit_and_cancellation_leaks_nothing(client, name):
    create(client, name, 2)
    inside = peak = 0

    async def work() -> None:
        nonlocal inside, peak
        async with aconcurrency.concurrency(name, timeout_seconds=30):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    async def main() -> None:
        await asyncio.gather(*(work() for _ in range(6)))
        # A waiter cancelled mid-wait takes nothing with it.
        async with aconcurrency.concurrency(name, occupy=2):
            waiter = asyncio.ensure_future(aconcurrency.concurrency(name).__aenter__())
            await asyncio.sleep(0.2)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter

    asyncio.run(asyncio.wait_for(main(), 60))
    assert peak == 2
    deadline = time.monotonic() + 5  # a lease granted as the cancel landed is released in a thread
    while client.read_concurrency_leases(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.read_concurrency_leases(name) == []
