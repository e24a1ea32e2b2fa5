"""SIGTERM while a flow run is in progress ends the run Crashed.

The handler is installed once, in the main thread, and only if SIGTERM still
has its default action. While no flow run is in progress it does what the
default would (the process ends on SIGTERM); during a run it raises
``TerminationSignal`` in the main thread so the engine can record the crash
before the process exits.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from legato.exceptions import TerminationSignal

_active_runs = 0
_installed = False
_lock = threading.Lock()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if _active_runs > 0:
        raise TerminationSignal(signum)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def enter_flow_run() -> None:
    """Note a top-level flow run starting (installs the handler on first use)."""
    global _active_runs, _installed
    with _lock:
        _active_runs += 1
        if _installed or threading.current_thread() is not threading.main_thread():
            return
        _installed = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def exit_flow_run() -> None:
    """Note a top-level flow run ending."""
    global _active_runs
    with _lock:
        _active_runs -= 1


def _reset_after_fork() -> None:
    global _active_runs
    _active_runs = 0


os.register_at_fork(after_in_child=_reset_after_fork)
