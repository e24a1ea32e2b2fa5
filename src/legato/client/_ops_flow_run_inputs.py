"""The HTTP operations of flow run inputs, resuming and cancelling flow runs.

Sans-IO generators, like ``legato.client._operations``: both HTTP clients
drive them. The signatures and errors are those of ``EmbeddedFlowRunInputs``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from legato.client._operations import Operation, Request, Session, _id
from legato.client.schemas.objects import OrchestrationResult
from legato.exceptions import NotPausedError, ObjectAlreadyExists

__all__ = [
    "cancel_flow_run",
    "create_flow_run_input",
    "delete_flow_run_input",
    "read_flow_run_input",
    "resume_flow_run",
]


def _input_path(flow_run_id: Any, key: str) -> str:
    return f"/flow_runs/{_id(flow_run_id, 'flow run')}/input/{quote(key, safe='')}"


def create_flow_run_input(
    session: Session, flow_run_id: Any, key: str, value: Any, sender: str | None = None
) -> Operation[None]:
    """Store ``value`` (JSON) under ``key`` for a flow run."""
    path = f"/flow_runs/{_id(flow_run_id, 'flow run')}/input"
    body = {"key": key, "value": value, "sender": sender}
    yield Request("POST", path, json=body, is_idempotent=False)


def read_flow_run_input(session: Session, flow_run_id: Any, key: str) -> Operation[Any]:
    """The value stored under ``key`` for a flow run; raises ObjectNotFound."""
    response = yield Request("GET", _input_path(flow_run_id, key))
    return response.json()["value"]


def delete_flow_run_input(session: Session, flow_run_id: Any, key: str) -> Operation[None]:
    """Delete the input under ``key``; raises ObjectNotFound when there is none."""
    yield Request("DELETE", _input_path(flow_run_id, key))


def resume_flow_run(
    session: Session, flow_run_id: Any, run_input: dict[str, Any] | None = None
) -> Operation[OrchestrationResult]:
    """Resume a paused flow run, with the input it waits for (if any)."""
    path = f"/flow_runs/{_id(flow_run_id, 'flow run')}/resume"
    try:
        response = yield Request("POST", path, json={"run_input": run_input}, is_idempotent=False)
    except ObjectAlreadyExists as exc:  # 409: the run is not paused
        raise NotPausedError(str(exc)) from None
    return OrchestrationResult.model_validate(response.json())


def cancel_flow_run(session: Session, flow_run_id: Any) -> Operation[OrchestrationResult]:
    """Cancel a flow run: CANCELLED if nothing runs it yet, else CANCELLING."""
    path = f"/flow_runs/{_id(flow_run_id, 'flow run')}/cancel"
    response = yield Request("POST", path, is_idempotent=False)
    return OrchestrationResult.model_validate(response.json())
