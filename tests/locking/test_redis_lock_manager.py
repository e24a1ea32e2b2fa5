"""RedisLockManager: keys, leases and their renewal, the optional redis package."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import time

import pytest

from legato.exceptions import ConfigurationError, ParameterError
from legato.locking import RedisLockManager


@pytest.fixture
def redis_client(redis_server):
    import redis

    host, port = redis_server
    client = redis.Redis(host=host, port=port, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def make_manager(redis_server):
    """Managers with the given settings, closed after the test."""
    managers = []

    def make(**settings):
        host, port = redis_server
        manager = RedisLockManager(host=host, port=port, **settings)
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        manager.close()


def test_a_lock_is_a_namespaced_key_holding_its_holder(redis_lock_manager, redis_client, key):
    redis_lock_manager.acquire_lock(key, "alice", hold_timeout=30)

    assert redis_client.get(f"legato:lock:{key}") == "alice"
    assert 29_000 < redis_client.pttl(f"legato:lock:{key}") <= 30_000
    redis_lock_manager.release_lock(key, "alice")
    assert not redis_client.exists(f"legato:lock:{key}")


def test_a_lease_is_renewed_while_the_lock_is_held(make_manager, redis_client, key):
    manager = make_manager(lease_seconds=0.3)
    manager.acquire_lock(key, "alice")

    # When three leases' worth of time passes, the lock is still held
    assert not manager.wait_for_lock(key, timeout=1.0)
    assert manager.is_lock_holder(key, "alice")
    assert 0 < redis_client.pttl(f"legato:lock:{key}") <= 300

    manager.release_lock(key, "alice")
    assert not manager.is_locked(key)


def test_a_lease_that_is_no_longer_renewed_ends(make_manager, key):
    holder, waiter = make_manager(lease_seconds=0.3), make_manager()
    holder.acquire_lock(key, "alice")

    holder.close()  # stops renewing, as a killed process would

    started = time.monotonic()
    assert waiter.acquire_lock(key, "bob", acquire_timeout=5)
    assert time.monotonic() - started < 1.0


@pytest.fixture
def lock_warnings(caplog):
    """legato.locking.redis's warnings, also once legato's console logging stops propagation."""
    logger = logging.getLogger("legato.locking.redis")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger=logger.name):
            yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def test_a_lock_lost_behind_the_holders_back_is_reported(
    make_manager, redis_client, key, lock_warnings
):
    manager = make_manager(lease_seconds=0.3)
    manager.acquire_lock(key, "alice")

    redis_client.delete(f"legato:lock:{key}")

    deadline = time.monotonic() + 5
    while "no longer held" not in lock_warnings.text and time.monotonic() < deadline:
        time.sleep(0.02)
    assert f"legato:lock:{key}" in lock_warnings.text and "'alice'" in lock_warnings.text


def test_a_cancelled_async_acquire_gives_the_lock_back(redis_lock_manager, key, monkeypatch):
    # The attempt, in its worker thread, takes the lock only after its caller is cancelled
    cancelled, outcomes = threading.Event(), []
    attempt = redis_lock_manager._attempt

    def attempt_after_the_cancel(*arguments):
        cancelled.wait(timeout=10)
        outcomes.append(attempt(*arguments))
        return outcomes[-1]

    monkeypatch.setattr(redis_lock_manager, "_attempt", attempt_after_the_cancel)

    async def scenario():
        waiter = asyncio.create_task(redis_lock_manager.aacquire_lock(key, "alice"))
        await asyncio.sleep(0)  # the attempt starts in a worker thread
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        cancelled.set()
        deadline = time.monotonic() + 5
        while (not outcomes or redis_lock_manager.is_locked(key)) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return waiter.cancelled()

    assert asyncio.run(scenario())
    assert [outcome.name for outcome in outcomes] == ["ACQUIRED"]
    assert not redis_lock_manager.is_locked(key)


def test_client_kwargs_reach_the_client(make_manager, key):
    manager = make_manager(client_kwargs={"decode_responses": True})

    manager.acquire_lock(key, "alice")

    assert manager.is_lock_holder(key, "alice")
    manager.release_lock(key, "alice")


def test_an_unreachable_server_raises_the_clients_error(key):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    no_retries = {"socket_connect_timeout": 0.5, "retry": Retry(NoBackoff(), 0)}
    manager = RedisLockManager(port=1, client_kwargs=no_retries)
    try:
        with pytest.raises(redis.ConnectionError):
            manager.acquire_lock(key, "alice", acquire_timeout=0)
    finally:
        manager.close()


@pytest.mark.parametrize("lease_seconds", [0, -1, float("inf"), "30"])
def test_lease_seconds_must_be_a_positive_number(lease_seconds):
    with pytest.raises(ParameterError, match="lease_seconds"):
        RedisLockManager(lease_seconds=lease_seconds)


def test_a_missing_redis_package_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # makes `import redis` fail

    with pytest.raises(ConfigurationError, match=r"pip install 'legato\[redis\]'"):
        RedisLockManager()


def test_importing_legato_locking_does_not_import_redis():
    check = "import sys, legato.locking; print('redis' in sys.modules)"

    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)

    assert out.stdout.strip() == "False", out.stderr
