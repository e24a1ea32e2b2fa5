"""Cancellation, engine side: is this interruption a cancellation, or a crash?

A worker (or ``legato flow-run cancel`` with a serve process) cancels a run
by setting it CANCELLING, then sending SIGTERM to the run's process. The
signal handler (``legato.engine.signals``) raises ``TerminationSignal`` in the
main thread; the first engine that catches it (a task run, a subflow run or
the flow run) reads, through its client, the state of its flow run, of that
run's parent, and of the process's top-level flow runs. If one of them is
CANCELLING (or CANCELLED) the signal is a cancellation: the decision is kept
on the exception (``is_cancellation``), so every enclosing run agrees without
another read, and each ends CANCELLED (flows run their on_cancellation
hooks). Otherwise, as before, the runs end CRASHED (on_crashed hooks).

No marker needs to be written by the canceller: the state it sets is the
marker. One read per signal, made outside the signal handler (in the
engine's ``except`` clause), so the handler never touches the store.
``FlowRunCancelled`` (raised when a paused run is cancelled) is always a
cancellation.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from legato.engine import signals
from legato.exceptions import FlowRunCancelled, TerminationSignal
from legato.states import StateType

__all__ = ["is_cancellation"]

logger = logging.getLogger(__name__)

_CANCEL_TYPES = frozenset({StateType.CANCELLING, StateType.CANCELLED})


def is_cancellation(exc: BaseException, run_ids: Iterable[uuid.UUID | None], client: Any) -> bool:
    """Whether ``exc`` ends the runs Cancelled (True) rather than Crashed.

    ``run_ids``: the interrupted flow run and its parent (None entries are
    skipped); the process's top-level flow runs are checked too.
    """
    if isinstance(exc, FlowRunCancelled):
        return True
    if not isinstance(exc, TerminationSignal):
        return False
    if exc.is_cancellation is None:
        ids = {run_id for run_id in (*run_ids, *signals.active_flow_run_ids()) if run_id}
        exc.is_cancellation = _any_cancelling(ids, client)
    return exc.is_cancellation


def _any_cancelling(run_ids: set[uuid.UUID], client: Any) -> bool:
    read = getattr(client, "read_flow_run", None)
    if read is None:  # e.g. a process-pool child's in-memory client: the parent decides
        return False
    for run_id in run_ids:
        try:
            run = read(run_id)
        except Exception as exc:
            logger.warning("Could not read flow run %s after SIGTERM: %s", run_id, exc)
            continue
        state = run.state
        if state is not None and state.type in _CANCEL_TYPES:
            return True
    return False
