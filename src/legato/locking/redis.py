"""RedisLockManager: locks shared by processes on any machine that reaches one Redis.

A lock is the key ``legato:lock:<key>`` whose value is the holder. It is taken
with ``SET key holder NX PX <ms>`` and released by a Lua script that deletes
the key only if it still holds the holder, so nobody frees someone else's lock.

``hold_timeout=None`` takes a *lease* of ``lease_seconds`` that a daemon thread
of the holding process extends (compare-and-``PEXPIRE``, Lua) every third of
the lease until the lock is released. A process that dies stops renewing, so
its locks end within ``lease_seconds``. Waiters poll with backoff from 1 ms to
50 ms. The async twins make each Redis call in a worker thread, so the event
loop never waits on the network.

``redis`` is an optional dependency (``pip install 'legato[redis]'``), imported
when a manager is created, never when ``legato.locking`` is imported.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
import math
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from legato.exceptions import ConfigurationError, ParameterError
from legato.locking._polling import apoll, poll
from legato.locking.base import (
    LockManager,
    LockNotHeld,
    check_acquire_arguments,
    check_holder,
    check_key,
    check_wait_arguments,
)

if TYPE_CHECKING:
    import asyncio
    from types import ModuleType

    from redis import Redis
    from redis.commands.core import Script

logger = logging.getLogger(__name__)

KEY_PREFIX = "legato:lock:"

# KEYS[1] the lock, ARGV[1] the holder: delete it only if the holder holds it.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS[1] the lock, ARGV[1] the holder, ARGV[2] the lease in ms: extend it only if held.
_RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


def _import_redis() -> ModuleType:
    try:
        import redis
    except ImportError as exc:
        raise ConfigurationError(
            "RedisLockManager needs the 'redis' package, which is not installed. "
            "Install it with: pip install 'legato[redis]'"
        ) from exc
    return redis


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _as_text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class _Attempt(enum.Enum):
    ACQUIRED = "acquired"  # this attempt took the lock
    ALREADY_HELD = "already held"  # the holder held it before
    BUSY = "busy"  # someone else holds it


class _LeaseRenewer:
    """Extends this process's leases every ``interval_seconds`` on one daemon thread.

    The thread starts with the first lease and ends once no lease is left or at
    ``close()``. ``renew(name, holder)`` returns False when the lock was lost.
    """

    def __init__(self, renew: Callable[[str, str], bool], interval_seconds: float) -> None:
        self._renew = renew
        self._interval_seconds = interval_seconds
        self._start_afresh()

    def _start_afresh(self) -> None:
        self._pid = os.getpid()
        self._mutex = threading.Lock()
        self._leases: set[tuple[str, str]] = set()
        self._stop: threading.Event | None = None  # set while a thread runs
        self._thread: threading.Thread | None = None

    def add(self, name: str, holder: str) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's leases are not ours
            self._start_afresh()
        with self._mutex:
            self._leases.add((name, holder))
            if self._stop is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="legato-lock-leases", daemon=True
                )
                self._thread.start()

    def discard(self, name: str, holder: str) -> None:
        with self._mutex:
            self._leases.discard((name, holder))

    def close(self) -> None:
        with self._mutex:
            self._leases.clear()
            stop, thread = self._stop, self._thread
            self._stop = self._thread = None
        if stop is not None and thread is not None:
            stop.set()
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval_seconds):
            with self._mutex:
                leases = list(self._leases)
                if not leases:
                    if self._stop is stop:
                        self._stop = self._thread = None
                    return
            for name, holder in leases:
                self._renew_one(name, holder)

    def _renew_one(self, name: str, holder: str) -> None:
        try:
            is_renewed = self._renew(name, holder)
        except Exception as exc:  # the next round tries again, well inside the lease
            logger.warning("Could not renew the lease of lock %r for %r: %s", name, holder, exc)
            return
        if is_renewed:
            return
        with self._mutex:
            if (name, holder) not in self._leases:  # released meanwhile
                return
            self._leases.discard((name, holder))
        logger.warning(
            "Lock %r is no longer held by %r: its lease ended before it was renewed", name, holder
        )


class RedisLockManager(LockManager):
    """Locks in Redis, shared by every process that reaches the server.

    ``hold_timeout=None`` holds a lock on a lease of ``lease_seconds``, renewed
    while this process runs and holds it. ``client_kwargs`` go to ``redis.Redis``.
    Call ``close()`` to drop the connections and stop renewing.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        ssl: bool = False,
        client_kwargs: dict[str, Any] | None = None,
        lease_seconds: float = 30.0,
    ) -> None:
        if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, int | float):
            raise ParameterError(f"lease_seconds={lease_seconds!r} must be a number of seconds.")
        if not 0 < lease_seconds < math.inf:
            raise ParameterError(
                f"lease_seconds={lease_seconds} must be greater than 0, e.g. 30: a killed "
                "process's locks end that many seconds after its last renewal."
            )
        _import_redis()  # a missing package is reported here, not at the first lock
        self.host = host
        self.port = port
        self.db = db
        self.username = username
        self.password = password
        self.ssl = ssl
        self.client_kwargs = dict(client_kwargs or {})
        self.lease_seconds = float(lease_seconds)
        self._start_afresh()

    def _start_afresh(self) -> None:
        self._client_mutex = threading.Lock()
        self._current: _Connection | None = None
        self._renewer = _LeaseRenewer(self._renew, self.lease_seconds / 3)

    def __getstate__(self) -> dict[str, Any]:
        """Settings only: an unpickled manager opens its own connections."""
        names = ("host", "port", "db", "username", "password", "ssl", "client_kwargs")
        return {name: getattr(self, name) for name in (*names, "lease_seconds")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start_afresh()

    def __repr__(self) -> str:
        return (
            f"RedisLockManager(host={self.host!r}, port={self.port!r}, db={self.db!r}, "
            f"lease_seconds={self.lease_seconds!r})"
        )

    def close(self) -> None:
        """Stop renewing leases (held locks then end within lease_seconds) and disconnect."""
        self._renewer.close()
        with self._client_mutex:
            connection, self._current = self._current, None
        if connection is not None:
            connection.client.close()

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        key, holder, acquire_timeout, hold_timeout = check_acquire_arguments(
            key, holder, acquire_timeout, hold_timeout
        )
        name = KEY_PREFIX + key
        return poll(
            lambda: self._attempt(name, holder, hold_timeout) is not _Attempt.BUSY,
            acquire_timeout,
        )

    async def aacquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        key, holder, acquire_timeout, hold_timeout = check_acquire_arguments(
            key, holder, acquire_timeout, hold_timeout
        )
        name = KEY_PREFIX + key

        async def attempt() -> bool:
            return await self._attempt_in_thread(name, holder, hold_timeout) is not _Attempt.BUSY

        return await apoll(attempt, acquire_timeout)

    def release_lock(self, key: str, holder: str) -> None:
        key, holder = check_key(key), check_holder(holder)
        name = KEY_PREFIX + key
        self._renewer.discard(name, holder)
        if not self._connection().release(keys=[name], args=[holder]):
            raise LockNotHeld(key, holder)

    def is_locked(self, key: str) -> bool:
        return bool(self._connection().client.exists(KEY_PREFIX + check_key(key)))

    def is_lock_holder(self, key: str, holder: str) -> bool:
        key, holder = check_key(key), check_holder(holder)
        return _as_text(self._connection().client.get(KEY_PREFIX + key)) == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        key, timeout = check_wait_arguments(key, timeout)
        return poll(lambda: not self.is_locked(key), timeout)

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        key, timeout = check_wait_arguments(key, timeout)

        import asyncio  # only async callers pay for importing it

        async def is_free() -> bool:
            return not await asyncio.to_thread(self.is_locked, key)

        return await apoll(is_free, timeout)

    def _attempt(self, name: str, holder: str, hold_timeout: float | None) -> _Attempt:
        client = self._connection().client
        lease = self.lease_seconds if hold_timeout is None else hold_timeout
        if client.set(name, holder, nx=True, px=_milliseconds(lease)):
            if hold_timeout is None:
                self._renewer.add(name, holder)
            return _Attempt.ACQUIRED
        if _as_text(client.get(name)) == holder:
            return _Attempt.ALREADY_HELD
        return _Attempt.BUSY

    async def _attempt_in_thread(
        self, name: str, holder: str, hold_timeout: float | None
    ) -> _Attempt:
        """One attempt in a worker thread; if the caller is cancelled meanwhile, undo it."""
        import asyncio

        attempt = asyncio.get_running_loop().run_in_executor(
            None, self._attempt, name, holder, hold_timeout
        )
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(functools.partial(self._give_back, name, holder))
            raise

    def _give_back(self, name: str, holder: str, attempt: asyncio.Future[_Attempt]) -> None:
        """Release, off the event loop, a lock taken for a caller that was cancelled meanwhile."""
        if attempt.cancelled() or attempt.exception() is not None:
            return
        if attempt.result() is _Attempt.ACQUIRED:
            self._renewer.discard(name, holder)
            threading.Thread(target=self._release_quietly, args=(name, holder), daemon=True).start()

    def _release_quietly(self, name: str, holder: str) -> None:
        try:
            self._connection().release(keys=[name], args=[holder])
        except Exception as exc:
            logger.warning("Could not give back lock %r of cancelled %r: %s", name, holder, exc)

    def _renew(self, name: str, holder: str) -> bool:
        return bool(
            self._connection().renew(keys=[name], args=[holder, _milliseconds(self.lease_seconds)])
        )

    def _connection(self) -> _Connection:
        connection = self._current
        if connection is None:
            with self._client_mutex:
                if self._current is None:
                    self._current = _connect(self)
                connection = self._current
        return connection


@dataclasses.dataclass(frozen=True)
class _Connection:
    """A client and the scripts registered with it."""

    client: Redis
    release: Script
    renew: Script


def _connect(manager: RedisLockManager) -> _Connection:
    redis = _import_redis()
    client: Redis = redis.Redis(
        host=manager.host,
        port=manager.port,
        db=manager.db,
        username=manager.username,
        password=manager.password,
        ssl=manager.ssl,
        **manager.client_kwargs,
    )
    return _Connection(
        client, client.register_script(_RELEASE_SCRIPT), client.register_script(_RENEW_SCRIPT)
    )


__all__ = ["KEY_PREFIX", "RedisLockManager"]
