"""SIGTERM while a flow run is in progress ends the run Crashed, or Cancelled.

The handler is installed once, in the main thread, and only if SIGTERM still
has its default action. While no flow run is in progress it does what the
default would (the process ends on SIGTERM); during a run it raises
``TerminationSignal`` in the main thread so the engine can record the end of
the run before the process exits: Cancelled when the run had been set
CANCELLING (see ``legato.engine.cancellation``), Crashed otherwise.

An async top-level flow run in the main thread gets the same through its
event loop (``AsyncTermination``): SIGTERM cancels the run's task, and the
engine turns that cancellation into the ``TerminationSignal`` it stands for.

The ids of the top-level flow runs in progress are kept here, so that the
engine can check whether a signal cancels one of them.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from types import FrameType
from typing import TYPE_CHECKING

from legato.exceptions import TerminationSignal

if TYPE_CHECKING:
    import asyncio

__all__ = ["AsyncTermination", "active_flow_run_ids", "enter_flow_run", "exit_flow_run"]

_active_runs = 0
_active_ids: list[uuid.UUID] = []
_installed = False
_lock = threading.Lock()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if _active_runs > 0:
        raise TerminationSignal(signum)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def enter_flow_run(flow_run_id: uuid.UUID | None = None) -> None:
    """Note a top-level flow run starting (installs the handler on first use)."""
    global _active_runs, _installed
    with _lock:
        _active_runs += 1
        if flow_run_id is not None:
            _active_ids.append(flow_run_id)
        if _installed or threading.current_thread() is not threading.main_thread():
            return
        _installed = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def exit_flow_run(flow_run_id: uuid.UUID | None = None) -> None:
    """Note a top-level flow run ending."""
    global _active_runs
    with _lock:
        _active_runs -= 1
        if flow_run_id is not None and flow_run_id in _active_ids:
            _active_ids.remove(flow_run_id)


def active_flow_run_ids() -> list[uuid.UUID]:
    """The top-level flow runs in progress in this process."""
    with _lock:
        return list(_active_ids)


class AsyncTermination:
    """SIGTERM during an async top-level flow run: cancel its task, remember the signal.

    ``install()`` inside the run's task (main thread only, and only when
    SIGTERM has its default action or legato's handler); ``received`` is then
    the ``TerminationSignal`` once the signal came; ``remove()`` at the end.
    """

    def __init__(self) -> None:
        self.received: TerminationSignal | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, _on_sigterm):
            return
        import asyncio  # only async flows get here; sync runs never load it

        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            return

        def on_sigterm() -> None:
            self.received = TerminationSignal(signal.SIGTERM)
            task.cancel()

        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        except (NotImplementedError, RuntimeError, ValueError):
            return
        self._loop = loop

    def remove(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        loop.remove_signal_handler(signal.SIGTERM)  # leaves SIG_DFL
        if _installed:
            signal.signal(signal.SIGTERM, _on_sigterm)


def _reset_after_fork() -> None:
    global _active_runs
    _active_runs = 0
    _active_ids.clear()


os.register_at_fork(after_in_child=_reset_after_fork)
