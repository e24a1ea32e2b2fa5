"""Task results carried over when a flow run starts again (after a suspension).

A suspended run resumes from the beginning of its flow, as the same flow
run. A task run inside it is identified by ``(task_key, dynamic_key)``: the
task and its call number in the flow run, the same in every attempt of a
flow whose calls are deterministic. Before the flow starts again, the engine
reads the task runs that COMPLETED in the earlier attempts and whose result
was persisted (their state's ``data`` says where); a task call with the same
identity then ends "Cached" with that result instead of running
(``TaskRunEngine.check_cache``), as a new task run of the resumed attempt.

Results are persisted when the flow run persists them: a flow whose code
calls ``suspend_flow_run`` persists by default (``engine.persistence``);
otherwise set ``persist_result=True``. A task whose result was not persisted
runs again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from legato.states import State, StateType

__all__ = ["Replay", "read_replay", "replayed_state"]

# (task_key, dynamic_key) -> the persisted result's metadata (a states row's ``data``).
Replay = dict[tuple[str, str], dict[str, Any]]

_PAGE = 200


def read_replay(client: Any, flow_run_id: uuid.UUID) -> Replay:
    """The persisted results of the task runs of ``flow_run_id`` that completed."""
    replay: Replay = {}
    offset = 0
    while True:
        page = client.read_task_runs(
            flow_run_id=flow_run_id, state_types=["COMPLETED"], limit=_PAGE, offset=offset
        )
        for task_run in page:
            reference = task_run.state.data if task_run.state is not None else None
            if isinstance(reference, dict):
                replay.setdefault((task_run.task_key, task_run.dynamic_key), reference)
        if len(page) < _PAGE:
            return replay
        offset += _PAGE


def replayed_state(
    replay: Replay, task_key: str, dynamic_key: str, log: Callable[..., None]
) -> State | None:
    """The Cached state carrying an earlier attempt's result, None when there is none."""
    reference = replay.get((task_key, dynamic_key))
    if reference is None:
        return None
    from legato.results import load_persisted_result

    try:
        value = load_persisted_result(reference)
    except Exception as exc:
        import logging

        log(
            logging.WARNING,
            "The result this task run had before the flow run was suspended could not be read "
            "(%s); running the task again.",
            exc,
        )
        return None
    state = State(
        StateType.COMPLETED, "Cached", "Result from before the flow run was suspended.", value
    )
    state.result_ref = reference
    return state
