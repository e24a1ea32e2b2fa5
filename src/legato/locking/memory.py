"""MemoryLockManager: locks shared by the threads and event loops of one process.

As in Prefect 3 there is one per process: ``MemoryLockManager()`` always
returns it, so two cache policies configured with ``MemoryLockManager()`` lock
against each other. A child process made by ``fork`` starts with no locks.

Nothing polls. A waiting thread sleeps on its key's condition variable until a
release or the current hold's expiry; a waiting coroutine sleeps on a future
that the releasing thread resolves through the coroutine's event loop. Expired
holds are cleared by whoever looks at the key next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from legato.locking._polling import deadline_after, seconds_until
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

_CREATING = threading.Lock()


@dataclasses.dataclass(eq=False)
class _KeyState:
    """One key's lock and who waits for it; guarded by the manager's mutex."""

    changed: threading.Condition
    holder: str | None = None
    expires_at: float | None = None  # time.monotonic()
    waiting_threads: int = 0
    wakeups: list[Callable[[], None]] = dataclasses.field(default_factory=list)

    def current_holder(self) -> str | None:
        """The holder, after clearing a hold whose time has run out."""
        if self.expires_at is not None and time.monotonic() >= self.expires_at:
            self.holder = self.expires_at = None
        return self.holder

    def seconds_until_expiry(self) -> float | None:
        return None if self.expires_at is None else max(0.0, self.expires_at - time.monotonic())

    def notify_waiters(self) -> None:
        self.changed.notify_all()
        for wake in self.wakeups:
            wake()


def _take(state: _KeyState, holder: str, hold_timeout: float | None) -> bool:
    current = state.current_holder()
    if current is None:
        state.holder = holder
        state.expires_at = None if hold_timeout is None else time.monotonic() + hold_timeout
        return True
    return current == holder


def _is_free(state: _KeyState) -> bool:
    return state.current_holder() is None


def _shorter(first: float | None, second: float | None) -> float | None:
    """The shorter of two waits, where None means forever."""
    if first is None:
        return second
    return first if second is None else min(first, second)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake_from_any_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(_resolve, future)


class MemoryLockManager(LockManager):
    """In-process locks with expiry; ``MemoryLockManager()`` is the process's one instance."""

    _instance: ClassVar[MemoryLockManager | None] = None
    _mutex: threading.Lock
    _keys: dict[str, _KeyState]

    def __new__(cls) -> MemoryLockManager:
        with _CREATING:
            if cls._instance is None:
                instance = super().__new__(cls)
                instance._forget_all()
                os.register_at_fork(after_in_child=instance._forget_all)
                cls._instance = instance
            return cls._instance

    def __reduce__(self) -> tuple[Any, ...]:
        """Unpickles as the receiving process's own instance."""
        return (MemoryLockManager, ())

    def __repr__(self) -> str:
        return "MemoryLockManager()"

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
        take = functools.partial(_take, holder=holder, hold_timeout=hold_timeout)
        return self._wait_until(key, take, acquire_timeout)

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
        take = functools.partial(_take, holder=holder, hold_timeout=hold_timeout)
        return await self._await_until(key, take, acquire_timeout)

    def release_lock(self, key: str, holder: str) -> None:
        key, holder = check_key(key), check_holder(holder)
        with self._mutex:
            state = self._keys.get(key)
            if state is None or state.current_holder() != holder:
                self._forget_if_idle(key, state)
                raise LockNotHeld(key, holder)
            state.holder = state.expires_at = None
            state.notify_waiters()
            self._forget_if_idle(key, state)

    def is_locked(self, key: str) -> bool:
        key = check_key(key)
        with self._mutex:
            state = self._keys.get(key)
            is_held = state is not None and state.current_holder() is not None
            self._forget_if_idle(key, state)
            return is_held

    def is_lock_holder(self, key: str, holder: str) -> bool:
        key, holder = check_key(key), check_holder(holder)
        with self._mutex:
            state = self._keys.get(key)
            is_holder = state is not None and state.current_holder() == holder
            self._forget_if_idle(key, state)
            return is_holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        key, timeout = check_wait_arguments(key, timeout)
        return self._wait_until(key, _is_free, timeout)

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        key, timeout = check_wait_arguments(key, timeout)
        return await self._await_until(key, _is_free, timeout)

    def _wait_until(
        self, key: str, is_done: Callable[[_KeyState], bool], timeout: float | None
    ) -> bool:
        """Block this thread until ``is_done(state)`` holds (True) or the time is up."""
        deadline = deadline_after(timeout)
        with self._mutex:
            state = self._state(key)
            state.waiting_threads += 1
            try:
                while not is_done(state):
                    left = seconds_until(deadline)
                    if left is not None and left <= 0:
                        return False
                    state.changed.wait(_shorter(left, state.seconds_until_expiry()))
                return True
            finally:
                state.waiting_threads -= 1
                self._forget_if_idle(key, state)

    async def _await_until(
        self, key: str, is_done: Callable[[_KeyState], bool], timeout: float | None
    ) -> bool:
        """``_wait_until`` for a coroutine: sleeps on a future, not on the condition."""
        import asyncio  # only async callers pay for importing it

        deadline = deadline_after(timeout)
        loop = asyncio.get_running_loop()
        while True:
            woken: asyncio.Future[None] = loop.create_future()
            wake = functools.partial(_wake_from_any_thread, loop, woken)
            with self._mutex:
                state = self._state(key)
                if is_done(state):
                    self._forget_if_idle(key, state)
                    return True
                left = seconds_until(deadline)
                if left is not None and left <= 0:
                    self._forget_if_idle(key, state)
                    return False
                state.wakeups.append(wake)
                sleep = _shorter(left, state.seconds_until_expiry())
            try:
                await asyncio.wait_for(woken, sleep)
            except TimeoutError:
                pass
            finally:
                with self._mutex:
                    state.wakeups.remove(wake)
                    self._forget_if_idle(key, state)

    def _state(self, key: str) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(threading.Condition(self._mutex))
        return state

    def _forget_if_idle(self, key: str, state: _KeyState | None) -> None:
        if state is None or state.holder is not None:
            return
        if not state.waiting_threads and not state.wakeups and self._keys.get(key) is state:
            del self._keys[key]

    def _forget_all(self) -> None:
        self._mutex = threading.Lock()
        self._keys = {}


__all__ = ["MemoryLockManager"]
