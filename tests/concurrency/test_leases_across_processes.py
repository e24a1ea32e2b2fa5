"""Leases and rate limits across real processes: a killed holder's slots come back
after its lease, and a rate limit holds for several processes together."""

from __future__ import annotations

import signal
import time

import pytest

from legato.client import get_client
from legato.client.schemas.actions import GlobalConcurrencyLimitCreate
from legato.concurrency.sync import concurrency
from legato.exceptions import AcquireConcurrencySlotTimeoutError

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2.0


def test_slots_of_a_killed_process_come_back_after_its_lease(store, client, name, workers):
    client.create_concurrency_limit(name, 1)
    solo = f"{name}-solo"
    client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=solo, limit=1))
    env = {**store.env, "LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS": str(LEASE_SECONDS)}
    holder = workers.start(env, "hold", name, solo)
    workers.wait_for_line(holder, "ready")
    workers.send(holder, "go")
    workers.wait_for_line(holder, "held")
    with pytest.raises(AcquireConcurrencySlotTimeoutError), concurrency(solo, timeout_seconds=0):
        pass

    # When the holder dies without giving anything back...
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    killed = time.monotonic()
    # ...both its global slot and its task's tag slot come back within a lease.
    with concurrency([solo, f"tag:{name}"], timeout_seconds=LEASE_SECONDS * 4):
        waited = time.monotonic() - killed
    assert waited <= LEASE_SECONDS + 1.5
    assert client.read_concurrency_leases(solo) == []


def test_a_rate_limit_of_20_per_second_holds_across_processes(name, workers, legato_home):
    # One store (the embedded file) is enough: the rate's arithmetic is the same on all.
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=5, slot_decay_per_second=20)
        )
    started = [workers.start({"LEGATO_HOME": str(legato_home)}, "rate", name) for _ in range(3)]
    for process in started:
        workers.wait_for_line(process, "ready")
    stop_at = time.time() + 10.0
    for process in started:
        workers.send(process, repr(stop_at))
    counts = [int(workers.finish(process).split()[-1]) for process in started]
    assert 180 <= sum(counts) <= 220, counts
    assert all(count > 0 for count in counts), counts
