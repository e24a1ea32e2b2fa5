"""MemoryLockManager: one per process, and waiters woken without polling."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time

from legato.locking import MemoryLockManager


def test_there_is_one_memory_lock_manager_per_process():
    assert MemoryLockManager() is MemoryLockManager()
    assert pickle.loads(pickle.dumps(MemoryLockManager())) is MemoryLockManager()


def test_locks_taken_through_one_instance_are_seen_through_another(key):
    MemoryLockManager().acquire_lock(key, "alice")

    assert MemoryLockManager().is_lock_holder(key, "alice")
    MemoryLockManager().release_lock(key, "alice")


def test_a_release_wakes_a_waiting_thread_at_once(key):
    manager = MemoryLockManager()
    manager.acquire_lock(key, "alice")
    waiting = threading.Event()
    woken_after = []

    def wait():
        waiting.set()
        manager.wait_for_lock(key, timeout=10)
        woken_after.append(time.monotonic())

    waiter = threading.Thread(target=wait)
    waiter.start()
    waiting.wait(timeout=10)
    released_at = time.monotonic()
    manager.release_lock(key, "alice")
    waiter.join(timeout=10)

    assert woken_after[0] - released_at < 0.1


def test_the_end_of_a_hold_wakes_a_waiting_thread(key):
    manager = MemoryLockManager()
    manager.acquire_lock(key, "alice", hold_timeout=0.1)
    expires_at = time.monotonic() + 0.1

    assert manager.acquire_lock(key, "bob", acquire_timeout=10)

    assert -0.01 < time.monotonic() - expires_at < 0.1
    manager.release_lock(key, "bob")


def test_a_release_from_another_thread_wakes_a_waiting_coroutine(key):
    manager = MemoryLockManager()
    manager.acquire_lock(key, "alice")

    async def scenario():
        releaser = threading.Timer(0.05, manager.release_lock, args=(key, "alice"))
        releaser.start()
        started = time.monotonic()
        assert await manager.aacquire_lock(key, "bob", acquire_timeout=10)
        releaser.join()
        return time.monotonic() - started

    waited = asyncio.run(scenario())

    assert 0.04 < waited < 0.3
    manager.release_lock(key, "bob")


def test_a_cancelled_waiting_coroutine_leaves_no_trace(key):
    manager = MemoryLockManager()
    manager.acquire_lock(key, "alice")

    async def scenario():
        waiter = asyncio.create_task(manager.aacquire_lock(key, "bob"))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        return waiter.cancelled()

    assert asyncio.run(scenario())
    manager.release_lock(key, "alice")  # the cancelled waiter is gone: nothing to wake
    assert not manager.is_locked(key)
