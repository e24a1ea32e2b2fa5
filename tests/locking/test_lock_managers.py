"""The LockManager contract, run against every manager (memory, filesystem, redis)."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time

import pytest

from legato.exceptions import LegatoError, ParameterError
from legato.locking import LockManager, LockNotHeld


def test_every_manager_is_a_lock_manager(lock_manager):
    assert isinstance(lock_manager, LockManager)


def test_acquire_then_release(lock_manager, key):
    assert not lock_manager.is_locked(key)

    assert lock_manager.acquire_lock(key, "alice")
    assert lock_manager.is_locked(key)
    assert lock_manager.is_lock_holder(key, "alice")
    assert not lock_manager.is_lock_holder(key, "bob")

    lock_manager.release_lock(key, "alice")
    assert not lock_manager.is_locked(key)
    assert not lock_manager.is_lock_holder(key, "alice")


def test_reacquiring_a_lock_you_hold_returns_true_and_one_release_frees_it(lock_manager, key):
    assert lock_manager.acquire_lock(key, "alice")
    assert lock_manager.acquire_lock(key, "alice", acquire_timeout=0)

    lock_manager.release_lock(key, "alice")
    assert not lock_manager.is_locked(key)


def test_only_the_holder_can_release(lock_manager, key):
    lock_manager.acquire_lock(key, "alice")

    with pytest.raises(LockNotHeld) as caught:
        lock_manager.release_lock(key, "bob")

    assert isinstance(caught.value, ValueError | LegatoError)
    assert (caught.value.key, caught.value.holder) == (key, "bob")
    assert "'bob'" in str(caught.value) and key in str(caught.value)
    assert lock_manager.is_lock_holder(key, "alice")


def test_releasing_a_free_lock_raises(lock_manager, key):
    with pytest.raises(LockNotHeld):
        lock_manager.release_lock(key, "alice")


def test_acquire_gives_up_after_acquire_timeout(lock_manager, key):
    lock_manager.acquire_lock(key, "alice")

    started = time.monotonic()
    assert not lock_manager.acquire_lock(key, "bob", acquire_timeout=0.1)
    waited = time.monotonic() - started

    assert 0.09 <= waited < 1.0
    assert not lock_manager.acquire_lock(key, "bob", acquire_timeout=0)
    assert lock_manager.is_lock_holder(key, "alice")


def test_a_lock_expires_after_hold_timeout(lock_manager, key):
    assert lock_manager.acquire_lock(key, "alice", hold_timeout=0.2)
    started = time.monotonic()

    # When bob waits, he gets the lock once alice's hold runs out
    assert lock_manager.acquire_lock(key, "bob", acquire_timeout=5)
    waited = time.monotonic() - started

    assert 0.1 <= waited < 2.0
    assert lock_manager.is_lock_holder(key, "bob")
    with pytest.raises(LockNotHeld):
        lock_manager.release_lock(key, "alice")
    lock_manager.release_lock(key, "bob")


def test_an_expired_lock_that_nobody_took_is_not_held(lock_manager, key):
    lock_manager.acquire_lock(key, "alice", hold_timeout=0.05)

    assert lock_manager.wait_for_lock(key, timeout=5)
    assert not lock_manager.is_locked(key)
    with pytest.raises(LockNotHeld):
        lock_manager.release_lock(key, "alice")


def test_wait_for_lock_returns_once_the_lock_is_free(lock_manager, key):
    assert lock_manager.wait_for_lock(key, timeout=0)  # free already

    lock_manager.acquire_lock(key, "alice")
    assert not lock_manager.wait_for_lock(key, timeout=0.05)

    releaser = threading.Timer(0.05, lock_manager.release_lock, args=(key, "alice"))
    releaser.start()
    try:
        assert lock_manager.wait_for_lock(key, timeout=5)
    finally:
        releaser.join()
    assert not lock_manager.is_locked(key)  # waiting does not take the lock


def test_a_waiting_acquire_takes_the_lock_when_it_is_released(lock_manager, key):
    lock_manager.acquire_lock(key, "alice")
    outcome = []
    waiter = threading.Thread(
        target=lambda: outcome.append(lock_manager.acquire_lock(key, "bob", acquire_timeout=10))
    )
    waiter.start()

    lock_manager.release_lock(key, "alice")
    waiter.join(timeout=10)

    assert outcome == [True]
    assert lock_manager.is_lock_holder(key, "bob")
    lock_manager.release_lock(key, "bob")


def test_threads_hold_the_lock_one_at_a_time(lock_manager, key):
    threads, rounds = 6, 5
    inside, most_inside, entries = 0, 0, 0
    counter = threading.Lock()
    failures = []

    def contend(holder):
        nonlocal inside, most_inside, entries
        for _ in range(rounds):
            if not lock_manager.acquire_lock(key, holder, acquire_timeout=20):
                failures.append(holder)
                return
            with counter:
                inside += 1
                entries += 1
                most_inside = max(most_inside, inside)
            time.sleep(0.001)  # stay inside a moment, so an overlap would show
            with counter:
                inside -= 1
            lock_manager.release_lock(key, holder)

    workers = [threading.Thread(target=contend, args=(f"t{n}",)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert failures == []
    assert (most_inside, entries) == (1, threads * rounds)
    assert not lock_manager.is_locked(key)


def test_async_twins(lock_manager, key):
    async def scenario():
        assert await lock_manager.aacquire_lock(key, "alice")
        assert await lock_manager.aacquire_lock(key, "alice", acquire_timeout=0)
        assert not await lock_manager.aacquire_lock(key, "bob", acquire_timeout=0.05)
        assert not await lock_manager.await_for_lock(key, timeout=0.05)

        asyncio.get_running_loop().call_later(0.05, lock_manager.release_lock, key, "alice")
        assert await lock_manager.await_for_lock(key, timeout=5)
        assert await lock_manager.aacquire_lock(key, "bob", acquire_timeout=5, hold_timeout=10)
        assert lock_manager.is_lock_holder(key, "bob")
        lock_manager.release_lock(key, "bob")

    asyncio.run(scenario())


def test_waiting_coroutines_leave_the_event_loop_running(lock_manager, key):
    lock_manager.acquire_lock(key, "alice")
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def scenario():
        ticker = asyncio.create_task(tick())
        assert not await lock_manager.aacquire_lock(key, "bob", acquire_timeout=0.2)
        assert not await lock_manager.await_for_lock(key, timeout=0.2)
        ticker.cancel()

    asyncio.run(scenario())
    assert ticks >= 20  # ~80 if the loop never stalls
    lock_manager.release_lock(key, "alice")


def test_coroutines_hold_the_lock_one_at_a_time(lock_manager, key):
    inside, most_inside, entries = 0, 0, 0

    async def contend(holder):
        nonlocal inside, most_inside, entries
        for _ in range(3):
            assert await lock_manager.aacquire_lock(key, holder, acquire_timeout=20)
            inside += 1
            entries += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.001)
            inside -= 1
            lock_manager.release_lock(key, holder)

    async def scenario():
        await asyncio.gather(*(contend(f"c{n}") for n in range(5)))

    asyncio.run(scenario())
    assert (most_inside, entries) == (1, 15)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"key": ""}, "key"),
        ({"key": None}, "key"),
        ({"holder": ""}, "holder"),
        ({"holder": 7}, "holder"),
        ({"acquire_timeout": -1}, "acquire_timeout"),
        ({"acquire_timeout": "5"}, "acquire_timeout"),
        ({"hold_timeout": 0}, "hold_timeout"),
        ({"hold_timeout": -2.5}, "hold_timeout"),
        ({"hold_timeout": True}, "hold_timeout"),
        ({"hold_timeout": float("inf")}, "hold_timeout"),
    ],
)
def test_bad_arguments_raise_an_error_naming_them(lock_manager, key, arguments, named):
    call = {"key": key, "holder": "alice", **arguments}

    with pytest.raises(ParameterError, match=named):
        lock_manager.acquire_lock(**call)
    with pytest.raises(ParameterError, match=named):
        asyncio.run(lock_manager.aacquire_lock(**call))


def test_bad_arguments_to_the_other_methods(lock_manager, key):
    with pytest.raises(ParameterError, match="key"):
        lock_manager.is_locked("")
    with pytest.raises(ParameterError, match="holder"):
        lock_manager.is_lock_holder(key, "")
    with pytest.raises(ParameterError, match="holder"):
        lock_manager.release_lock(key, "")
    with pytest.raises(ParameterError, match="timeout"):
        lock_manager.wait_for_lock(key, timeout=-1)
    with pytest.raises(ParameterError, match="timeout"):
        asyncio.run(lock_manager.await_for_lock(key, timeout=-1))


def test_an_unpickled_manager_sees_the_same_locks(lock_manager, key):
    lock_manager.acquire_lock(key, "alice")

    copy = pickle.loads(pickle.dumps(lock_manager))
    try:
        assert copy.is_lock_holder(key, "alice")
        copy.release_lock(key, "alice")
        assert not lock_manager.is_locked(key)
    finally:
        if hasattr(copy, "close"):
            copy.close()
