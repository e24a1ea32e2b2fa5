"""Sending values to a flow run by key, reading and deleting them (Prefect 3's ``prefect.input.actions``).

``flow_run_id`` defaults to the current flow run (inside a flow or task).
Values are JSON: a pydantic model is stored as its JSON dump.
"""

from __future__ import annotations

import uuid
from typing import Any

from legato.exceptions import MissingContextError, ObjectNotFound

__all__ = [
    "create_flow_run_input",
    "delete_flow_run_input",
    "ensure_flow_run_id",
    "read_flow_run_input",
]


def ensure_flow_run_id(flow_run_id: uuid.UUID | str | None = None) -> uuid.UUID:
    """``flow_run_id``, or the current flow run's id; MissingContextError outside a run."""
    if flow_run_id is not None:
        return flow_run_id if isinstance(flow_run_id, uuid.UUID) else uuid.UUID(str(flow_run_id))
    from legato.engine.context import flow_run_context, task_run_context

    flow_context = flow_run_context.get()
    if flow_context is not None:
        return flow_context.flow_run.id
    task_context = task_run_context.get()
    if task_context is not None and task_context.task_run.flow_run_id is not None:
        return task_context.task_run.flow_run_id
    raise MissingContextError(
        "No flow run id: pass flow_run_id=..., or call this inside a flow or a task of one."
    )


def _written(flow_run_id: uuid.UUID) -> uuid.UUID:
    """Make sure the current run is in the store (the recorder writes in batches)."""
    from legato.engine.context import flow_run_context, task_run_context

    context = task_run_context.get() or flow_run_context.get()
    if context is not None:
        context.recorder.flush()
    return flow_run_id


def _json_value(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


def create_flow_run_input(
    key: str,
    value: Any,
    flow_run_id: uuid.UUID | str | None = None,
    sender: str | None = None,
) -> None:
    """Store ``value`` under ``key`` for a flow run (ObjectAlreadyExists when the key is taken)."""
    from legato.client import get_client

    run_id = _written(ensure_flow_run_id(flow_run_id))
    with get_client(sync_client=True) as client:
        client.create_flow_run_input(run_id, key, _json_value(value), sender=sender)


def read_flow_run_input(key: str, flow_run_id: uuid.UUID | str | None = None) -> Any:
    """The value stored under ``key`` for a flow run; None when there is none."""
    from legato.client import get_client

    run_id = ensure_flow_run_id(flow_run_id)
    with get_client(sync_client=True) as client:
        try:
            return client.read_flow_run_input(run_id, key)
        except ObjectNotFound:
            return None


def delete_flow_run_input(key: str, flow_run_id: uuid.UUID | str | None = None) -> None:
    """Delete the input under ``key`` (ObjectNotFound when there is none)."""
    from legato.client import get_client

    run_id = ensure_flow_run_id(flow_run_id)
    with get_client(sync_client=True) as client:
        client.delete_flow_run_input(run_id, key)
