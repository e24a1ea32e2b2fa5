"""Interrupting a synchronous function that runs past its timeout.

Python cannot stop a thread from outside, so legato uses the two mechanisms
that exist:

- In the main thread (and when no other alarm is active), ``SIGALRM`` via
  ``signal.setitimer``. The signal interrupts blocking calls such as
  ``time.sleep`` or socket reads, and the handler raises the timeout error.
- In any other thread, a watchdog timer asks the interpreter to raise the
  timeout error in the running thread (``PyThreadState_SetAsyncExc``). It takes
  effect at the next Python bytecode: a function blocked inside C code (a long
  ``time.sleep``, a blocking read, a C extension's loop) is interrupted only
  when that call returns.

Async functions use ``asyncio.timeout`` instead (see the async engine).
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_alarm_active = False


@contextmanager
def timeout_after(seconds: float | None, error: type[BaseException]) -> Iterator[None]:
    """Raise ``error`` inside the block if it runs longer than ``seconds``."""
    if seconds is None:
        yield
        return
    if _can_use_alarm():
        with _alarm(seconds, error):
            yield
    else:
        with _watchdog(seconds, error):
            yield


def _can_use_alarm() -> bool:
    return (
        not _alarm_active
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    )


@contextmanager
def _alarm(seconds: float, error: type[BaseException]) -> Iterator[None]:
    global _alarm_active

    def handler(signum: int, frame: FrameType | None) -> None:
        raise error()

    previous = signal.signal(signal.SIGALRM, handler)
    _alarm_active = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _alarm_active = False


@contextmanager
def _watchdog(seconds: float, error: type[BaseException]) -> Iterator[None]:
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"exited": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["exited"]:
                state["fired"] = True
                _set_async_exc(thread_id, error)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["exited"] = True
            if state["fired"]:
                # The block ended before the injected error was delivered: withdraw it.
                _set_async_exc(thread_id, None)


def _set_async_exc(thread_id: int, error: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(error) if error is not None else None
    )
